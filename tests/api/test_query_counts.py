"""Every list endpoint reads a page in a fixed number of queries, however many rows it
shows (select_related / prefetch_related, never a query per row)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.roles import Role
from placements.models import ReferralRisk, ReferralStatus, ReferralStatusChange
from tests.factories import (
    AgendaItemFactory,
    ChildFactory,
    DecisionFactory,
    DirectorApprovalFactory,
    PanelFactory,
    PanelMeetingFactory,
    ReferralFactory,
    UserFactory,
)


def add_children(n, *, north, **_):
    ChildFactory.create_batch(n, team=north)


def add_referrals(n, *, north, personas, **_):
    for _ in range(n):
        child = ChildFactory(team=north)
        referral = ReferralFactory(child=child, status=ReferralStatus.SUBMITTED)
        referral.siblings.add(ChildFactory(team=north))
        ReferralRisk.objects.create(referral=referral, risk="going_missing", details="Twice")
        for from_status, to_status in (("", "draft"), ("draft", "submitted")):
            ReferralStatusChange.objects.create(
                referral=referral, from_status=from_status, to_status=to_status,
                by=personas[Role.SOCIAL_WORKER], at=timezone.now(),
            )


def add_panels(n, **_):
    for _ in range(n):
        PanelFactory().members.add(UserFactory(), UserFactory())


def add_meetings(n, *, panel, **_):
    start = panel.meetings.count()
    for week in range(start, start + n):
        meeting = PanelMeetingFactory(
            panel=panel, date=datetime.date(2026, 1, 7) + datetime.timedelta(weeks=week)
        )
        AgendaItemFactory.create_batch(2, meeting=meeting)


def add_agenda_items(n, *, meeting, **_):
    for _ in range(n):
        DecisionFactory(agenda_item=AgendaItemFactory(meeting=meeting))


def add_decisions(n, *, meeting, **_):
    for _ in range(n):
        original = DecisionFactory(agenda_item=AgendaItemFactory(meeting=meeting))
        DecisionFactory(agenda_item=original.agenda_item, supersedes=original)


def add_director_approvals(n, **_):
    DirectorApprovalFactory.create_batch(n)


# (url, who asks, how to add n rows, rows shown per row added)
LISTS = [
    ("/api/v1/children/", Role.SOCIAL_WORKER, add_children, 1),
    ("/api/v1/referrals/", Role.TEAM_MANAGER, add_referrals, 1),
    ("/api/v1/panels/", Role.SOCIAL_WORKER, add_panels, 1),
    ("/api/v1/meetings/", Role.DIRECTOR, add_meetings, 1),
    ("/api/v1/agenda-items/", Role.DIRECTOR, add_agenda_items, 1),
    ("/api/v1/decisions/", Role.DIRECTOR, add_decisions, 2),
    ("/api/v1/director-approvals/", Role.DIRECTOR, add_director_approvals, 1),
]


def queries_for(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.data
    return len(queries), response.data["count"]


@pytest.mark.parametrize(
    ("url", "role", "add_rows", "per_row"), LISTS, ids=[row[0] for row in LISTS]
)
def test_list_queries_do_not_grow_with_rows(as_user, personas, north, url, role, add_rows, per_row):
    panel = PanelFactory(default_chair=personas[Role.PANEL_CHAIR])
    data = {"north": north, "personas": personas, "panel": panel,
            "meeting": PanelMeetingFactory(panel=panel, date=datetime.date(2025, 12, 31))}
    client = as_user(personas[role])
    client.get(url)  # warm up: anything cached per process is not the list's cost

    baseline_rows = client.get(url).data["count"]
    add_rows(1, **data)
    one, shown_one = queries_for(client, url)
    add_rows(4, **data)
    five, shown_five = queries_for(client, url)

    assert shown_five - shown_one == 4 * per_row  # the rows really are on the page
    assert shown_one > baseline_rows
    assert five == one
