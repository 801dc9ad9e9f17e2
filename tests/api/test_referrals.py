"""/api/v1/referrals/: the social worker's and team manager's moves through HTTP, with
the refusals a client must be able to tell apart (400, 403, 404, 409)."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from core.roles import Role
from placements.api import REFERRAL_ANSWER_FIELDS
from placements.models import Referral, ReferralStatus, ReferralStatusChange
from placements.services import referrals as referral_services
from tests.factories import ChildFactory, ReferralFactory, UserFactory
from tests.mail import REFUSING, RefusingEmailBackend, refused_and_kept

S = ReferralStatus
URL = "/api/v1/referrals/"


def detail_url(referral) -> str:
    return f"{URL}{referral.pk}/"


def action_url(referral, action: str) -> str:
    return f"{URL}{referral.pk}/{action}/"


@pytest.fixture
def social_worker(personas):
    return personas[Role.SOCIAL_WORKER]


@pytest.fixture
def manager(personas):
    return personas[Role.TEAM_MANAGER]


@pytest.fixture
def child(north):
    return ChildFactory(team=north, last_name="Smith")


def north_referral(north, **kwargs) -> Referral:
    return ReferralFactory(child=ChildFactory(team=north), **kwargs)


def moves_recorded(referral) -> int:
    return ReferralStatusChange.objects.filter(referral=referral).count()


# --- Creating and editing a draft --------------------------------------------------------


def test_social_worker_creates_a_draft_with_risks_and_siblings(
    as_user, social_worker, child, north
):
    sibling = ChildFactory(team=north, last_name="Smith")
    response = as_user(social_worker).post(URL, {
        "child": child.pk,
        "placement_type_sought": "U4",
        "wanted_start_date": "2026-07-01",
        "needs_summary": "Needs a quiet home near school.",
        "siblings": [sibling.pk],
        "risks": [{"risk": "going_missing", "details": "Went missing twice this year."}],
    }, format="json")

    assert response.status_code == 201, response.data
    referral = Referral.objects.get(pk=response.data["id"])
    assert (referral.child, referral.created_by, referral.status) == (child, social_worker, S.DRAFT)
    assert list(referral.siblings.all()) == [sibling]
    assert [(r.risk, r.details) for r in referral.risks.all()] == [
        ("going_missing", "Went missing twice this year.")
    ]
    assert response.data["status"] == "draft"
    assert response.data["risks"] == [
        {"risk": "going_missing", "details": "Went missing twice this year."}
    ]
    assert response.data["timeline"][0]["to_status"] == "draft"
    assert response.data["allowed_transitions"] == ["submitted", "withdrawn"]


def test_missing_and_malformed_answers_are_400_with_field_errors(as_user, social_worker, child):
    response = as_user(social_worker).post(
        URL, {"child": child.pk, "wanted_start_date": "next week", "urgency": "soonish"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.data) == {"placement_type_sought", "wanted_start_date", "urgency"}
    assert not Referral.objects.exists()


def test_the_same_risk_twice_is_refused(as_user, social_worker, child):
    response = as_user(social_worker).post(URL, {
        "child": child.pk, "placement_type_sought": "U4", "wanted_start_date": "2026-07-01",
        "risks": [{"risk": "self_harm"}, {"risk": "self_harm", "details": "Again"}],
    }, format="json")
    assert response.status_code == 400
    assert "risks" in response.data
    assert not Referral.objects.exists()


def test_a_rule_the_service_checks_comes_back_on_its_field(as_user, social_worker, child):
    """A child cannot be their own sibling: placements.services refuses (InvalidInput), and
    the refusal names the field, like a serializer error would."""
    response = as_user(social_worker).post(URL, {
        "child": child.pk, "placement_type_sought": "U4", "wanted_start_date": "2026-07-01",
        "siblings": [child.pk],
    }, format="json")
    assert response.status_code == 400
    assert response.data == {"siblings": ["A child cannot be their own sibling."]}
    assert not Referral.objects.exists()


def test_a_child_the_user_cannot_see_is_refused_as_unknown(as_user, social_worker, south):
    other_child = ChildFactory(team=south)
    response = as_user(social_worker).post(URL, {
        "child": other_child.pk, "placement_type_sought": "U4", "wanted_start_date": "2026-07-01",
    }, format="json")
    assert response.status_code == 400
    assert "child" in response.data
    assert not Referral.objects.exists()


def test_a_role_that_cannot_refer_gets_403(as_user, personas, child):
    ReferralFactory(child=child, status=S.SUBMITTED)  # so the chair may see the child
    response = as_user(personas[Role.PANEL_CHAIR]).post(URL, {
        "child": child.pk, "placement_type_sought": "U4", "wanted_start_date": "2026-07-01",
    }, format="json")
    assert response.status_code == 403
    assert Referral.objects.count() == 1


def test_patch_changes_only_the_answers_given(as_user, social_worker, north):
    referral = north_referral(north, needs_summary="Old", preferred_location="Leeds")
    response = as_user(social_worker).patch(
        detail_url(referral), {"needs_summary": "New", "suitability_foster": "preferred"},
        format="json",
    )
    assert response.status_code == 200, response.data
    referral.refresh_from_db()
    assert (referral.needs_summary, referral.preferred_location, referral.suitability_foster) == (
        "New", "Leeds", "preferred"
    )
    assert response.data["needs_summary"] == "New"


def test_patch_after_submission_is_409_and_changes_nothing(as_user, social_worker, north):
    referral = north_referral(north, status=S.SUBMITTED, needs_summary="Old")
    response = as_user(social_worker).patch(
        detail_url(referral), {"needs_summary": "New"}, format="json"
    )
    assert response.status_code == 409
    assert response.data["current_status"] == "submitted"
    assert response.data["allowed_transitions"] == sorted(
        ["endorsed", "returned", "ready_for_sourcing", "withdrawn"]
    )
    referral.refresh_from_db()
    assert referral.needs_summary == "Old"


def test_put_and_delete_are_not_offered(as_user, social_worker, north):
    referral = north_referral(north)
    client = as_user(social_worker)
    assert client.delete(detail_url(referral)).status_code == 405
    assert client.put(detail_url(referral), {}, format="json").status_code == 405
    assert Referral.objects.filter(pk=referral.pk).exists()


def test_the_api_accepts_exactly_the_answers_the_service_accepts():
    # A new Referral field must be added here too (or deliberately kept out of the API).
    assert set(REFERRAL_ANSWER_FIELDS) == set(referral_services.REFERRAL_FIELDS)


# --- Transitions -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_move_succeeds_when_the_mail_server_is_down(
    as_user, settings, caplog, role_groups, north
):
    """The e-mail goes out (eagerly, without a broker) once the move has committed: a
    refused connection is logged and the e-mail kept for the sweep, and the client still
    gets the moved referral."""
    settings.EMAIL_BACKEND = REFUSING
    RefusingEmailBackend.attempts = 0
    worker = UserFactory(roles=[Role.SOCIAL_WORKER], team=north)
    UserFactory(roles=[Role.TEAM_MANAGER], team=north, email="manager@example.gov.uk")
    referral = north_referral(north, created_by=worker)

    response = as_user(worker).post(action_url(referral, "submit"))

    assert response.status_code == 200, response.data
    assert response.data["status"] == "submitted"
    assert Referral.objects.get(pk=referral.pk).status == S.SUBMITTED
    refused_and_kept(caplog)


def test_submit_then_endorse_with_the_timeline_in_the_response(
    as_user, social_worker, manager, north
):
    referral = north_referral(north)
    submitted = as_user(social_worker).post(action_url(referral, "submit"))
    assert submitted.status_code == 200, submitted.data
    assert submitted.data["status"] == "submitted"

    endorsed = as_user(manager).post(
        action_url(referral, "endorse"), {"reason": "Ready for panel"}, format="json"
    )
    assert endorsed.status_code == 200, endorsed.data
    referral.refresh_from_db()
    assert referral.status == S.ENDORSED
    timeline = endorsed.data["timeline"]
    assert [(entry["from_status"], entry["to_status"]) for entry in timeline] == [
        ("draft", "submitted"), ("submitted", "endorsed"),
    ]
    assert timeline[-1]["by"] == manager.pk
    assert timeline[-1]["reason"] == "Ready for panel"


def test_endorse_without_a_reason_is_fine(as_user, manager, north):
    referral = north_referral(north, status=S.SUBMITTED)
    response = as_user(manager).post(action_url(referral, "endorse"))
    assert response.status_code == 200, response.data
    referral.refresh_from_db()
    assert referral.status == S.ENDORSED


def test_an_emergency_goes_straight_to_sourcing(as_user, social_worker, north):
    referral = north_referral(north, is_emergency=True)
    response = as_user(social_worker).post(action_url(referral, "submit"))
    assert response.status_code == 200, response.data
    assert response.data["status"] == "ready_for_sourcing"
    due = datetime.date.fromisoformat(response.data["retrospective_review_due"])
    assert due - timezone.localdate() == datetime.timedelta(days=settings.EMERGENCY_REVIEW_DAYS)


def test_return_needs_a_reason(as_user, manager, north):
    referral = north_referral(north, status=S.SUBMITTED)
    client = as_user(manager)

    refused = client.post(action_url(referral, "return"), {"reason": "   "}, format="json")
    assert refused.status_code == 400
    assert "reason" in refused.data
    referral.refresh_from_db()
    assert referral.status == S.SUBMITTED

    returned = client.post(
        action_url(referral, "return"), {"reason": "Add the school's view."}, format="json"
    )
    assert returned.status_code == 200, returned.data
    referral.refresh_from_db()
    assert referral.status == S.RETURNED
    assert returned.data["timeline"][-1]["reason"] == "Add the school's view."


def test_withdraw_needs_a_reason(as_user, social_worker, north):
    referral = north_referral(north, status=S.SUBMITTED)
    client = as_user(social_worker)
    assert client.post(action_url(referral, "withdraw"), {}, format="json").status_code == 400
    response = client.post(
        action_url(referral, "withdraw"), {"reason": "Family placement found"}, format="json"
    )
    assert response.status_code == 200, response.data
    referral.refresh_from_db()
    assert referral.status == S.WITHDRAWN


def test_a_disallowed_transition_is_409_with_the_state_and_the_moves(as_user, manager, north):
    referral = north_referral(north, status=S.DRAFT)
    before = moves_recorded(referral)

    response = as_user(manager).post(action_url(referral, "endorse"))

    assert response.status_code == 409
    assert response.data["current_status"] == "draft"
    assert response.data["allowed_transitions"] == ["submitted", "withdrawn"]
    assert response.data["detail"]
    referral.refresh_from_db()
    assert referral.status == S.DRAFT
    assert moves_recorded(referral) == before


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.PANEL_CHAIR, Role.DIRECTOR])
def test_only_the_team_manager_endorses(as_user, personas, north, role):
    referral = north_referral(north, status=S.SUBMITTED)
    response = as_user(personas[role]).post(action_url(referral, "endorse"))
    assert response.status_code == 403
    assert response.data["detail"]
    referral.refresh_from_db()
    assert referral.status == S.SUBMITTED
    assert moves_recorded(referral) == 0


# --- Who sees what -----------------------------------------------------------------------


def test_another_teams_social_worker_gets_404_and_no_list_entry(
    as_user, south_social_worker, north
):
    referral = north_referral(north, status=S.SUBMITTED)
    client = as_user(south_social_worker)

    assert client.get(detail_url(referral)).status_code == 404
    assert client.post(action_url(referral, "withdraw"), {"reason": "x"}).status_code == 404
    patched = client.patch(detail_url(referral), {"needs_summary": "x"}, format="json")
    assert patched.status_code == 404
    listed = client.get(URL)
    assert listed.status_code == 200
    assert listed.data["results"] == []
    referral.refresh_from_db()
    assert referral.status == S.SUBMITTED


def test_drafts_stay_with_their_team(as_user, personas, north):
    draft = north_referral(north, status=S.DRAFT)
    submitted = north_referral(north, status=S.SUBMITTED)
    client = as_user(personas[Role.PANEL_CHAIR])
    assert [row["id"] for row in client.get(URL).data["results"]] == [submitted.pk]
    assert client.get(detail_url(draft)).status_code == 404


def test_detail_shows_the_whole_timeline_oldest_first(as_user, social_worker, manager, north):
    referral = north_referral(north)
    referral_services.referral_submit(referral=referral, by=social_worker)
    referral_services.referral_return(referral=referral, by=manager, reason="More detail")
    response = as_user(social_worker).get(detail_url(referral))
    assert response.status_code == 200
    assert [(e["to_status"], e["by"], e["reason"]) for e in response.data["timeline"]] == [
        ("submitted", social_worker.pk, ""), ("returned", manager.pk, "More detail"),
    ]
    assert response.data["timeline"][1]["by_name"] == str(manager)


# --- Filters -----------------------------------------------------------------------------


def ids(response) -> set[int]:
    assert response.status_code == 200, response.data
    return {row["id"] for row in response.data["results"]}


def test_filters_on_status_team_child_and_emergency(as_user, personas, north, south):
    submitted = north_referral(north, status=S.SUBMITTED)
    endorsed = north_referral(north, status=S.ENDORSED, is_emergency=True)
    southern = ReferralFactory(child=ChildFactory(team=south), status=S.SUBMITTED)
    client = as_user(personas[Role.ADMINISTRATOR])

    assert ids(client.get(URL, {"status": "submitted"})) == {submitted.pk, southern.pk}
    assert ids(client.get(URL, {"status": ["submitted", "endorsed"]})) == {
        submitted.pk, endorsed.pk, southern.pk,
    }
    assert ids(client.get(URL, {"team": south.pk})) == {southern.pk}
    assert ids(client.get(URL, {"child": endorsed.child_id})) == {endorsed.pk}
    assert ids(client.get(URL, {"is_emergency": "true"})) == {endorsed.pk}
    assert client.get(URL, {"status": "pending"}).status_code == 400


@pytest.mark.parametrize("value", ["1e30", "abc", "99999999999999999999999", "-1"])
def test_a_child_filter_that_is_not_a_child_is_400(as_user, personas, value):
    response = as_user(personas[Role.ADMINISTRATOR]).get(URL, {"child": value})
    assert response.status_code == 400
    assert "child" in response.data


def test_filters_on_date_ranges(as_user, personas, north):
    early = north_referral(north, status=S.SUBMITTED, wanted_start_date=datetime.date(2026, 5, 1))
    late = north_referral(north, status=S.SUBMITTED, wanted_start_date=datetime.date(2026, 9, 1))
    Referral.objects.filter(pk=early.pk).update(
        created_at=datetime.datetime(2026, 1, 10, 12, tzinfo=datetime.UTC)
    )
    client = as_user(personas[Role.ADMINISTRATOR])

    assert ids(client.get(URL, {"wanted_from": "2026-06-01"})) == {late.pk}
    assert ids(client.get(URL, {"wanted_to": "2026-06-01"})) == {early.pk}
    assert ids(client.get(URL, {"created_before": "2026-01-31"})) == {early.pk}
    assert ids(client.get(URL, {"created_after": "2026-02-01"})) == {late.pk}
