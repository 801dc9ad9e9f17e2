"""Weekly prices and other numbers for the demo, as Decimals drawn from a seeded
random.Random. Money never passes through float: prices are drawn in whole pence."""

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

PENNY = Decimal("0.01")
SEVEN = Decimal(7)

# What kind of placement a child has, independent of the SSDA903 codes it maps to.
IN_HOUSE_FOSTERING = "in_house_fostering"
IFA = "ifa"
IN_HOUSE_HOME = "in_house_home"
EXTERNAL_HOME = "external_home"
SECURE = "secure"
SUPPORTED = "supported"
EXTERNAL_OFFERS = frozenset({IFA, EXTERNAL_HOME, SECURE, SUPPORTED})

# Weekly price ranges in pounds, chosen so the averages match the published figures in
# DESIGN.md (in-house fostering ~£350, IFA ~£820, external residential ~£3,800, ...).
PRICE_RANGES = {
    IN_HOUSE_FOSTERING: (300, 400),
    "kinship": (240, 320),
    IFA: (740, 870),
    IN_HOUSE_HOME: (2050, 2350),
    EXTERNAL_HOME: (3100, 4000),
    # Solo placements for the most complex children, bought outside the framework.
    "external_home_solo": (5400, 8600),
    SECURE: (6950, 8400),
    SUPPORTED: (950, 1550),
}


def money(amount: Decimal) -> Decimal:
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def price_between(rng: random.Random, *, low: int, high: int) -> Decimal:
    """A weekly price in [low, high] pounds, peaked in the middle (mean of two draws)."""
    pence = rng.randint(low * 100, high * 100) + rng.randint(low * 100, high * 100)
    return money(Decimal(pence) / 200)


def weekly_price(rng: random.Random, *, kind: str) -> Decimal:
    low, high = PRICE_RANGES[kind]
    return price_between(rng, low=low, high=high)


def uplifted(amount: Decimal, *, rng: random.Random) -> Decimal:
    """An annual uplift of 3–5%."""
    basis_points = rng.randint(300, 500)
    return money(amount * (1 + Decimal(basis_points) / 10000))


def scaled(amount: Decimal, *, percent: int) -> Decimal:
    return money(amount * Decimal(100 + percent) / 100)


def cost_over(*, weekly: Decimal, days: int) -> Decimal:
    """A weekly rate covers seven days; part weeks are prorated by day (DESIGN.md)."""
    return weekly * days / SEVEN


def overlap_days(
    start: datetime.date,
    end: datetime.date | None,
    window_start: datetime.date,
    window_end: datetime.date,
) -> int:
    """Days in [start, end) ∩ [window_start, window_end); end None means open-ended."""
    first = max(start, window_start)
    last = window_end if end is None else min(end, window_end)
    return max((last - first).days, 0)
