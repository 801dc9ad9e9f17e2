"""/api/v1/children/: read-only, scoped by placements.access.children_visible_to."""

from core.roles import Role
from placements.models import ReferralStatus as S
from tests.factories import ChildFactory, referral_in

URL = "/api/v1/children/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.data
    return [row["id"] for row in response.data["results"]]


def test_a_social_worker_sees_their_teams_children_only(as_user, personas, north, south):
    ours = ChildFactory(team=north, local_child_id="N0001")
    theirs = ChildFactory(team=south)
    client = as_user(personas[Role.SOCIAL_WORKER])

    assert ids(client.get(URL)) == [ours.pk]
    detail = client.get(f"{URL}{ours.pk}/")
    assert detail.status_code == 200
    assert (detail.data["local_child_id"], detail.data["team"]) == ("N0001", north.pk)
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404


def test_panels_see_every_referred_child_and_filter_by_team(as_user, personas, north, south):
    ours = referral_in(S.SUBMITTED, team=north).child
    theirs = referral_in(S.ENDORSED, team=south).child
    only_draft = referral_in(S.DRAFT, team=south).child
    never_referred = ChildFactory(team=north)
    client = as_user(personas[Role.PANEL_CHAIR])

    assert set(ids(client.get(URL))) == {ours.pk, theirs.pk}
    assert ids(client.get(URL, {"team": south.pk})) == [theirs.pk]
    for hidden in (only_draft, never_referred):
        assert client.get(f"{URL}{hidden.pk}/").status_code == 404


def test_search_by_local_id_only(as_user, personas, north):
    wanted = ChildFactory(team=north, local_child_id="LC-4412", last_name="Jones")
    ChildFactory(team=north, local_child_id="LC-9000", last_name="Smith")
    client = as_user(personas[Role.SOCIAL_WORKER])
    assert ids(client.get(URL, {"search": "4412"})) == [wanted.pk]
    # Names stay out of URLs: searching by one finds nothing.
    assert ids(client.get(URL, {"search": "Jones"})) == []


def test_finance_sees_no_childrens_records(as_user, personas, north):
    child = ChildFactory(team=north)
    client = as_user(personas[Role.FINANCE_MANAGER])
    assert ids(client.get(URL)) == []
    assert client.get(f"{URL}{child.pk}/").status_code == 404


def test_children_are_read_only(as_user, personas, north):
    child = ChildFactory(team=north)
    client = as_user(personas[Role.ADMINISTRATOR])
    assert client.post(URL, {"local_child_id": "X1"}, format="json").status_code == 405
    assert client.patch(f"{URL}{child.pk}/", {"first_name": "X"}, format="json").status_code == 405
    assert client.delete(f"{URL}{child.pk}/").status_code == 405
