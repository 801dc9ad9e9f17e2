"""Distances between postcode districts and services, in miles, straight line.

Locations are postcode district centres (PostcodeDistrict) so that no full address is
needed; a service may also carry its own coordinates. Distances in querysets are computed
in SQL (haversine), so lists can filter and sort by distance without a loop in Python.
"""

import math
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, FloatField, Value
from django.db.models.functions import ASin, Cast, Cos, Power, Radians, Sin, Sqrt

from providers.models import PostcodeDistrict

EARTH_RADIUS_MILES = 3958.8
LOCAL_DISTANCE_MILES = 20  # the sufficiency duty: place within 20 miles where possible


def outward_code(postcode: str) -> str:
    """"LS6 2AB" → "LS6"; "ls62ab" → "LS6"; "LS6" → "LS6"."""
    parts = (postcode or "").upper().split()
    if len(parts) > 1:
        return parts[0]
    compact = "".join(parts)
    # A full postcode's inward part is always a digit and two letters.
    if len(compact) >= 5 and compact[-3].isdigit() and compact[-2:].isalpha():
        return compact[:-3]
    return compact


def district_for(postcode: str) -> PostcodeDistrict | None:
    code = outward_code(postcode)
    if not code:
        return None
    return PostcodeDistrict.objects.filter(outward_code=code).first()


def distance_from(latitude, longitude, *, prefix: str = ""):
    """A query expression: miles from (latitude, longitude) to the row's own
    `latitude`/`longitude` (or `{prefix}latitude`…). NULL where the row has no location."""
    lat = Radians(Cast(F(f"{prefix}latitude"), FloatField()))
    lon = Radians(Cast(F(f"{prefix}longitude"), FloatField()))
    origin_lat = Radians(Value(float(latitude), output_field=FloatField()))
    origin_lon = Radians(Value(float(longitude), output_field=FloatField()))
    half_chord = Power(Sin((lat - origin_lat) / 2), 2) + Cos(origin_lat) * Cos(lat) * Power(
        Sin((lon - origin_lon) / 2), 2
    )
    return Value(2 * EARTH_RADIUS_MILES, output_field=FloatField()) * ASin(Sqrt(half_chord))


def miles_between(lat1, lon1, lat2, lon2) -> Decimal | None:
    """The same haversine distance in Python, to one decimal place, for a single pair."""
    if None in (lat1, lon1, lat2, lon2):
        return None
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lon2) - float(lon1))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    miles = 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(h))
    return Decimal(str(miles)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def rounded_miles(value) -> Decimal | None:
    """A float distance from SQL as a Decimal to one place, for display and storage."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
