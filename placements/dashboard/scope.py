"""The dashboard's scope (a financial year and perhaps a team), who may read what, and
the helpers every figure shares."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet

from core.models import Team
from core.roles import Role, has_role
from placements.models import FinancialYear, Placement, Referral
from providers.reference import financial_year_bounds, financial_year_label, financial_year_start

PENNY = Decimal("0.01")
LIST_LIMIT = 10


# Who reads the dashboard; all but team managers choose any team (a team manager's scope
# is their own team). Exports: the authority's figures for finance, the Director and
# administrators; team managers export their own team's placements only.
DASHBOARD_ROLES = (Role.FINANCE_MANAGER, Role.TEAM_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR,
                   Role.COMMISSIONING_OFFICER)
EVERY_TEAM_ROLES = (Role.FINANCE_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR,
                    Role.COMMISSIONING_OFFICER)
EXPORT_ROLES = (Role.FINANCE_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR)
TEAM_EXPORTS = frozenset({"placements"})


def reads_dashboard(user) -> bool:
    return has_role(user, *DASHBOARD_ROLES)


def sees_every_team(user) -> bool:
    return has_role(user, *EVERY_TEAM_ROLES)


def own_team_only(user) -> bool:
    """A team manager (and no wider dashboard role) with a team."""
    return not sees_every_team(user) and has_role(user, Role.TEAM_MANAGER) and bool(user.team_id)


def may_export(user, what: str) -> bool:
    return has_role(user, *EXPORT_ROLES) or (what in TEAM_EXPORTS and own_team_only(user))


def rebuilds_figures(user) -> bool:
    """Who may start a rebuild of a year's rollups (as placements.rollups allows)."""
    return has_role(user, Role.FINANCE_MANAGER, Role.ADMINISTRATOR)


def dashboard_years(*, today: datetime.date) -> list[int]:
    """The years with budgets, and this year whether or not it has any, latest first."""
    years = set(FinancialYear.objects.values_list("start_year", flat=True))
    years.add(financial_year_start(today))
    return sorted(years, reverse=True)


@dataclass(frozen=True)
class DashboardScope:
    financial_year: int
    team: Team | None
    today: datetime.date

    @property
    def first_day(self) -> datetime.date:
        return financial_year_bounds(self.financial_year)[0]

    @property
    def last_day(self) -> datetime.date:
        return financial_year_bounds(self.financial_year)[1]

    @property
    def as_of(self) -> datetime.date:
        return min(max(self.today, self.first_day), self.last_day)

    @property
    def label(self) -> str:
        return financial_year_label(self.financial_year)


def pounds(amount) -> Decimal | None:
    """An aggregate as pounds and pence (averages come back with more places)."""
    if amount is None:
        return None
    return Decimal(amount).quantize(PENNY, rounding=ROUND_HALF_UP)


def share(part: int, whole: int) -> Decimal | None:
    """part of whole as a percentage to one place, or None when there is no whole."""
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- Scope ---------------------------------------------------------------------------------


def placements_in_scope(scope: DashboardScope) -> QuerySet[Placement]:
    placements = Placement.objects.all()
    if scope.team is not None:
        placements = placements.filter(child__team=scope.team)
    return placements


def running_on(placements: QuerySet[Placement], day: datetime.date) -> QuerySet[Placement]:
    return placements.filter(start_date__lte=day).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=day)
    )


def referrals_in_scope(scope: DashboardScope) -> QuerySet[Referral]:
    referrals = Referral.objects.all()
    if scope.team is not None:
        referrals = referrals.filter(child__team=scope.team)
    return referrals
