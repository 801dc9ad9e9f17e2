import io

import pytest
from django.core.management import CommandError, call_command

from core.roles import Role
from panels.models import Panel
from placements.models import ReferralStatus
from tests.factories import PanelFactory, referral_in


def test_schedule_meetings_lists_endorsed_referrals_on_the_next_meeting(personas, north):
    PanelFactory(name="Resource Panel", kind=Panel.Kind.RESOURCE,
                 weekday=Panel.Weekday.WEDNESDAY, default_chair=personas[Role.PANEL_CHAIR])
    referral = referral_in(ReferralStatus.ENDORSED, team=north)
    out = io.StringIO()

    call_command("schedule_meetings", today="2026-12-01", stdout=out)

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.LISTED
    assert "Resource Panel 02 Dec 2026: 1 item(s) on the agenda" in out.getvalue()


def test_schedule_meetings_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="--today must be a date"):
        call_command("schedule_meetings", today="next tuesday")
