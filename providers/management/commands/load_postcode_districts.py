"""Load postcode district centres from a CSV file: outward_code,latitude,longitude.

For example, from the ONS Postcode Directory averaged by outward code. Existing districts
are updated; a bad row stops the load and nothing is changed."""

import csv
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from providers.geo import outward_code
from providers.models import PostcodeDistrict

COLUMNS = ("outward_code", "latitude", "longitude")


def _coordinate(value: str, *, low: int, high: int, line: int, name: str) -> Decimal:
    try:
        number = Decimal(value.strip()).quantize(Decimal("0.00001"))
    except (InvalidOperation, AttributeError):
        raise CommandError(f"Line {line}: {name} {value!r} is not a number.") from None
    if not low <= number <= high:
        raise CommandError(f"Line {line}: {name} {number} is outside {low} to {high}.")
    return number


class Command(BaseCommand):
    help = "Load or update postcode district centres (outward_code,latitude,longitude)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file with a header row")

    def handle(self, *args, path, **options):
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        districts = {}
        for line, row in enumerate(rows, start=2):
            if set(COLUMNS) - set(row):
                raise CommandError(f"The file needs the columns {', '.join(COLUMNS)}.")
            code = outward_code(row["outward_code"] or "")
            if not code or len(code) > 4:
                raise CommandError(f"Line {line}: {row['outward_code']!r} is not an outward code.")
            districts[code] = (
                _coordinate(row["latitude"], low=-90, high=90, line=line, name="latitude"),
                _coordinate(row["longitude"], low=-180, high=180, line=line, name="longitude"),
            )
        with transaction.atomic():
            existing = PostcodeDistrict.objects.in_bulk(list(districts), field_name="outward_code")
            for code, (lat, lon) in districts.items():
                if code in existing:
                    existing[code].latitude, existing[code].longitude = lat, lon
            PostcodeDistrict.objects.bulk_update(existing.values(), ["latitude", "longitude"])
            PostcodeDistrict.objects.bulk_create(
                PostcodeDistrict(outward_code=code, latitude=lat, longitude=lon)
                for code, (lat, lon) in districts.items()
                if code not in existing
            )
        self.stdout.write(
            f"{len(districts) - len(existing)} districts added, {len(existing)} updated."
        )
