"""Where things are in and around Demoshire: a centre for every postcode district the demo
uses, and a location for every demo service near its district's centre.

The outward codes are invented (see market.AREAS), and so are their coordinates. Each
area's districts are scattered round an area centre, placed so that the straight-line
distance from any Demoshire home to any service in the area falls in the area's band of
plausible miles. The bounds hold by the triangle inequality: a home lies within
HOME_RADIUS of Demoshire's centre, a district within its area's radius of the area centre,
and a service within JITTER_MILES of its district's centre.
"""

import math
import random
from decimal import Decimal

from demo.market import AREAS, HOME_AREA, Market
from providers.geo import EARTH_RADIUS_MILES, miles_between, outward_code
from providers.models import PostcodeDistrict, Service

# An invented county in the north of England.
DEMOSHIRE_CENTRE = (53.9, -1.6)
# Area → (miles from Demoshire's centre, compass bearing from it, radius of its districts).
# Calderfield, for one: 21 ± (7 + 1 + 1) gives 12–30 miles, its band in AREAS.
AREA_LAYOUT = {
    "Demoshire": (0.0, 0.0, 7.0),
    "Calderfield": (21.0, 225.0, 1.0),
    "Kirkmoor": (31.5, 10.0, 5.0),
    "Wyvern": (62.5, 250.0, 18.0),
    "Southmoor": (135.0, 165.0, 45.0),
}
HOME_RADIUS = AREA_LAYOUT[HOME_AREA][2]
JITTER_MILES = 1.0  # a service's distance from its district's centre, at most
PLACES = Decimal("0.00001")

Centres = dict[str, tuple[Decimal, Decimal]]


def destination(latitude: float, longitude: float, *, bearing: float, miles: float):
    """The point `miles` along a great circle from (latitude, longitude) on `bearing`."""
    lat, lon = math.radians(latitude), math.radians(longitude)
    angle, theta = miles / EARTH_RADIUS_MILES, math.radians(bearing)
    lat2 = math.asin(math.sin(lat) * math.cos(angle)
                     + math.cos(lat) * math.sin(angle) * math.cos(theta))
    lon2 = lon + math.atan2(math.sin(theta) * math.sin(angle) * math.cos(lat),
                            math.cos(angle) - math.sin(lat) * math.sin(lat2))
    return math.degrees(lat2), math.degrees(lon2)


def scattered(rng: random.Random, latitude, longitude, *, radius: float) -> tuple[Decimal, Decimal]:
    """A point uniformly spread over the disc of `radius` miles round (latitude, longitude)."""
    miles = radius * math.sqrt(rng.random())
    lat, lon = destination(float(latitude), float(longitude), bearing=rng.uniform(0, 360),
                           miles=miles)
    return to_decimal(lat), to_decimal(lon)


def to_decimal(degrees: float) -> Decimal:
    return Decimal(repr(degrees)).quantize(PLACES)


def district_centres() -> Centres:
    """Outward code → (latitude, longitude) for every district of every demo area."""
    centres = {}
    for area, (prefix, districts, _miles) in AREAS.items():
        distance, bearing, radius = AREA_LAYOUT[area]
        area_lat, area_lon = destination(*DEMOSHIRE_CENTRE, bearing=bearing, miles=distance)
        for number in range(1, districts + 1):
            code = f"{prefix}{number}"
            rng = random.Random(f"demoshire:district:{code}")  # nosec B311 # seeded: the demo county must be the same every run; not security
            centres[code] = scattered(rng, area_lat, area_lon, radius=radius)
    return centres


def seed_geography(market: Market) -> None:
    """Districts first, then every service in the market is put near its district's centre."""
    market.centres = seed_districts()
    locate_services(market.all_services(), market.centres)


def seed_districts() -> Centres:
    """Create or correct the demo's postcode districts; returns their centres."""
    centres = district_centres()
    existing = PostcodeDistrict.objects.in_bulk(list(centres), field_name="outward_code")
    PostcodeDistrict.objects.bulk_create([
        PostcodeDistrict(outward_code=code, latitude=lat, longitude=lon)
        for code, (lat, lon) in centres.items() if code not in existing
    ])
    moved = [
        district for code, district in existing.items()
        if (district.latitude, district.longitude) != centres[code]
    ]
    for district in moved:
        district.latitude, district.longitude = centres[district.outward_code]
    PostcodeDistrict.objects.bulk_update(moved, ["latitude", "longitude"])
    return centres


def service_location(service: Service, centres: Centres) -> tuple[Decimal, Decimal]:
    """Near its district's centre, by a jitter of its own that no other service shares."""
    lat, lon = centres[outward_code(service.postcode)]
    rng = random.Random(  # nosec B311 # seeded, for a reproducible demo; not security
        f"demoshire:service-location:{service.provider.name}:{service.name}")
    return scattered(rng, lat, lon, radius=JITTER_MILES)


def locate_services(services: list[Service], centres: Centres) -> None:
    """Give each service its location, writing only those that lack it or differ."""
    moved = []
    for service in services:
        location = service_location(service, centres)
        if (service.latitude, service.longitude) != location:
            service.latitude, service.longitude = location
            moved.append(service)
    Service.objects.bulk_update(moved, ["latitude", "longitude"])


def miles_from_home(home_postcode: str, service: Service, centres: Centres) -> Decimal | None:
    """Miles from the centre of the child's home district to the service."""
    home = centres.get(outward_code(home_postcode))
    if home is None:
        return None
    return miles_between(*home, service.latitude, service.longitude)


def is_out_of_authority(service: Service) -> bool:
    return service.local_authority_area != HOME_AREA
