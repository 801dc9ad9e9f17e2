"""Dates and times for the demo county, all anchored on one "today".

Nothing here reads the clock: the command passes today in, so a run is reproducible and
every timestamp it writes lies in the past.
"""

import dataclasses
import datetime

from django.utils import timezone

from providers.reference import financial_year_bounds, financial_year_start

ONE_DAY = datetime.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class DemoCalendar:
    """Today and the two financial years the demo covers: the current one and the one before."""

    today: datetime.date

    @property
    def current_year(self) -> int:
        return financial_year_start(self.today)

    @property
    def previous_year(self) -> int:
        return self.current_year - 1

    @property
    def years(self) -> tuple[int, int]:
        return (self.previous_year, self.current_year)

    @property
    def current_start(self) -> datetime.date:
        return financial_year_bounds(self.current_year)[0]

    @property
    def current_end(self) -> datetime.date:
        return financial_year_bounds(self.current_year)[1]

    @property
    def previous_start(self) -> datetime.date:
        return financial_year_bounds(self.previous_year)[0]

    def days_ago(self, days: int) -> datetime.date:
        return self.today - datetime.timedelta(days=days)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """An aware datetime on `day` in the project's time zone; `minute` may run past 59."""
    naive = datetime.datetime.combine(day, datetime.time(hour)) + datetime.timedelta(
        minutes=minute
    )
    return timezone.make_aware(naive)


def add_years(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def weekdays_before(day: datetime.date, *, weekday: int, count: int) -> list[datetime.date]:
    """The `count` dates falling on `weekday` strictly before `day`, latest first."""
    back = (day.weekday() - weekday) % 7 or 7
    latest = day - datetime.timedelta(days=back)
    return [latest - datetime.timedelta(weeks=n) for n in range(count)]


def next_weekday(day: datetime.date, *, weekday: int) -> datetime.date:
    """The first date falling on `weekday` on or after `day`."""
    return day + datetime.timedelta(days=(weekday - day.weekday()) % 7)
