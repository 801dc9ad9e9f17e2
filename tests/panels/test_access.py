import pytest

from core.roles import Role
from panels.access import meetings_visible_to
from panels.selectors import pending_director_approvals
from tests.factories import DirectorApprovalFactory, PanelFactory, PanelMeetingFactory, UserFactory


@pytest.fixture
def meetings(personas):
    mine = PanelFactory(default_chair=personas[Role.PANEL_CHAIR])
    mine.members.add(personas[Role.PANEL_MEMBER])
    other = PanelFactory()
    return {"mine": PanelMeetingFactory(panel=mine), "other": PanelMeetingFactory(panel=other)}


@pytest.mark.parametrize("role", [Role.PANEL_CHAIR, Role.PANEL_MEMBER])
def test_chairs_and_members_see_only_their_panels_meetings(personas, meetings, role):
    assert list(meetings_visible_to(personas[role])) == [meetings["mine"]]


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.ADMINISTRATOR])
def test_director_and_administrator_see_every_meeting(personas, meetings, role):
    assert set(meetings_visible_to(personas[role])) == set(meetings.values())


@pytest.mark.parametrize(
    "role",
    [Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.COMMISSIONING_OFFICER, Role.FINANCE_MANAGER],
)
def test_other_roles_see_no_meetings(personas, meetings, role):
    assert not meetings_visible_to(personas[role]).exists()


def test_a_member_of_two_panels_sees_each_meeting_once(personas, meetings):
    member = personas[Role.PANEL_MEMBER]
    meetings["other"].panel.members.add(member)
    meetings["mine"].panel.members.add(UserFactory())
    assert sorted(m.pk for m in meetings_visible_to(member)) == sorted(
        m.pk for m in meetings.values()
    )


@pytest.mark.parametrize("role", list(Role))
def test_only_the_director_and_administrators_see_the_approval_queue(personas, role):
    DirectorApprovalFactory()
    expected = role in {Role.DIRECTOR, Role.ADMINISTRATOR}
    assert pending_director_approvals(user=personas[role]).exists() is expected
