"""Reads for the managers' dashboard (issue 5). Each figure is one set-based query.

Scope: a financial year and, optionally, a team. The figures are counts and sums over the
scope's placements and referrals, whichever rows the viewer could open one by one: the
dashboard is for managers only, and a team manager's scope is always their own team (the
view decides). The rows a figure lists (costliest placements, emergencies) are limited to
those the viewer may see, and each figure's link leads to a page that checks access again.

Figures "on a day" use the scope's `as_of` day: today within the chosen year, else the
year's last day (a past year) or first day (a future year). A placement is running on a
day when it started on or before it and had not ended (`end_date` is the day it ceased).

`scope` holds the scope and who may read what; `children`, `money` and `referrals` the
figures. Import them from here.
"""

from placements.dashboard.children import (
    care_shares,
    children_by_placement_type,
    in_house_and_external,
    unstable_placements,
)
from placements.dashboard.money import (
    SUPPLY_LABELS,
    costliest_placements,
    placements_for_export,
    spend_to_date_by_supply,
    weekly_cost_by_supply,
)
from placements.dashboard.referrals import (
    emergencies_awaiting_review,
    referral_pipeline,
    referral_timings,
)
from placements.dashboard.scope import (
    DASHBOARD_ROLES,
    EVERY_TEAM_ROLES,
    EXPORT_ROLES,
    DashboardScope,
    dashboard_years,
    may_export,
    own_team_only,
    reads_dashboard,
    rebuilds_figures,
    sees_every_team,
)

__all__ = [
    "DASHBOARD_ROLES",
    "EVERY_TEAM_ROLES",
    "EXPORT_ROLES",
    "SUPPLY_LABELS",
    "DashboardScope",
    "care_shares",
    "children_by_placement_type",
    "costliest_placements",
    "dashboard_years",
    "emergencies_awaiting_review",
    "in_house_and_external",
    "may_export",
    "own_team_only",
    "placements_for_export",
    "reads_dashboard",
    "rebuilds_figures",
    "referral_pipeline",
    "referral_timings",
    "sees_every_team",
    "spend_to_date_by_supply",
    "unstable_placements",
    "weekly_cost_by_supply",
]
