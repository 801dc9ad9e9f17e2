"""The OpenAPI schema at /api/schema/: every endpoint, every action's error responses,
and no generator warnings (a warning means a client generator would guess)."""

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS

from core.roles import Role

ENDPOINTS = {
    "/api/v1/children/": {"get"},
    "/api/v1/children/{id}/": {"get"},
    "/api/v1/referrals/": {"get", "post"},
    "/api/v1/referrals/{id}/": {"get", "patch"},
    "/api/v1/referrals/{id}/submit/": {"post"},
    "/api/v1/referrals/{id}/endorse/": {"post"},
    "/api/v1/referrals/{id}/return/": {"post"},
    "/api/v1/referrals/{id}/withdraw/": {"post"},
    "/api/v1/panels/": {"get"},
    "/api/v1/panels/{id}/": {"get"},
    "/api/v1/meetings/": {"get"},
    "/api/v1/meetings/{id}/": {"get"},
    "/api/v1/meetings/{id}/close/": {"post"},
    "/api/v1/meetings/{id}/reorder/": {"post"},
    "/api/v1/agenda-items/": {"get", "post"},
    "/api/v1/agenda-items/{id}/": {"get", "delete"},
    "/api/v1/decisions/": {"get", "post"},
    "/api/v1/decisions/{id}/": {"get"},
    "/api/v1/director-approvals/": {"get"},
    "/api/v1/director-approvals/{id}/": {"get"},
    "/api/v1/director-approvals/{id}/approve/": {"post"},
    "/api/v1/director-approvals/{id}/refuse/": {"post"},
    "/api/v1/providers/": {"get", "post"},
    "/api/v1/providers/{id}/": {"get", "patch"},
    "/api/v1/services/": {"get", "post"},
    "/api/v1/services/{id}/": {"get", "patch"},
    "/api/v1/frameworks/": {"get"},
    "/api/v1/frameworks/{id}/": {"get"},
    "/api/v1/frameworks/{id}/uplift/": {"post"},
    "/api/v1/framework-rates/": {"get", "post"},
    "/api/v1/framework-rates/{id}/": {"get", "patch"},
    "/api/v1/provider-discounts/": {"get", "post"},
    "/api/v1/sourcing-requests/": {"get", "post"},
    "/api/v1/sourcing-requests/{id}/": {"get"},
    "/api/v1/sourcing-requests/{id}/send/": {"post"},
    "/api/v1/sourcing-requests/{id}/close/": {"post"},
    "/api/v1/sourcing-requests/{id}/invite/": {"post"},
    "/api/v1/sourcing-requests/{id}/share-options/": {"post"},
    "/api/v1/sourcing-requests/{id}/shortlist/": {"get"},
    "/api/v1/sourcing-requests/{id}/comparison/": {"get"},
    "/api/v1/quotes/": {"get", "post"},
    "/api/v1/quotes/{id}/": {"get"},
    "/api/v1/quotes/{id}/negotiate/": {"post"},
    "/api/v1/quotes/{id}/decline/": {"post"},
    "/api/v1/quotes/{id}/withdraw/": {"post"},
    "/api/v1/quotes/{id}/choose/": {"post"},
    "/api/v1/quotes/{id}/accept/": {"post"},
    "/api/v1/placements/": {"get"},
    "/api/v1/placements/{id}/": {"get"},
    "/api/v1/placements/{id}/change-cost/": {"post"},
    "/api/v1/placements/{id}/retainer/": {"post"},
    "/api/v1/placements/{id}/end/": {"post"},
    "/api/v1/placements/{id}/move/": {"post"},
    "/api/v1/contributions/": {"get", "post"},
    "/api/v1/contributions/{id}/": {"get"},
    "/api/v1/contributions/{id}/end/": {"post"},
    "/api/v1/budget-lines/": {"get", "post"},
    "/api/v1/budget-lines/{id}/": {"get"},
    "/api/v1/budget-lines/{id}/adjust/": {"post"},
    "/api/v1/budget-lines/{id}/rules/": {"post"},
    "/api/v1/weekly-costs/": {"get"},
    "/api/v1/weekly-costs/{id}/": {"get"},
    "/api/v1/budget-positions/": {"get"},
    "/api/v1/budget-positions/{id}/": {"get"},
}
# Operations that change an existing object can answer every error.
ACTIONS = [
    ("/api/v1/referrals/{id}/", "patch"),
    ("/api/v1/referrals/{id}/submit/", "post"),
    ("/api/v1/referrals/{id}/endorse/", "post"),
    ("/api/v1/referrals/{id}/return/", "post"),
    ("/api/v1/referrals/{id}/withdraw/", "post"),
    ("/api/v1/meetings/{id}/close/", "post"),
    ("/api/v1/meetings/{id}/reorder/", "post"),
    ("/api/v1/director-approvals/{id}/approve/", "post"),
    ("/api/v1/director-approvals/{id}/refuse/", "post"),
    ("/api/v1/providers/{id}/", "patch"),
    ("/api/v1/services/{id}/", "patch"),
    ("/api/v1/frameworks/{id}/uplift/", "post"),
    ("/api/v1/framework-rates/{id}/", "patch"),
    ("/api/v1/sourcing-requests/{id}/send/", "post"),
    ("/api/v1/sourcing-requests/{id}/close/", "post"),
    ("/api/v1/sourcing-requests/{id}/invite/", "post"),
    ("/api/v1/sourcing-requests/{id}/share-options/", "post"),
    ("/api/v1/quotes/{id}/negotiate/", "post"),
    ("/api/v1/quotes/{id}/decline/", "post"),
    ("/api/v1/quotes/{id}/withdraw/", "post"),
    ("/api/v1/quotes/{id}/choose/", "post"),
    ("/api/v1/quotes/{id}/accept/", "post"),
    ("/api/v1/placements/{id}/change-cost/", "post"),
    ("/api/v1/placements/{id}/retainer/", "post"),
    ("/api/v1/placements/{id}/end/", "post"),
    ("/api/v1/placements/{id}/move/", "post"),
    ("/api/v1/contributions/{id}/end/", "post"),
    ("/api/v1/budget-lines/{id}/adjust/", "post"),
    ("/api/v1/budget-lines/{id}/rules/", "post"),
]
CREATES = [
    "/api/v1/referrals/", "/api/v1/agenda-items/", "/api/v1/decisions/", "/api/v1/providers/",
    "/api/v1/services/", "/api/v1/framework-rates/", "/api/v1/provider-discounts/",
    "/api/v1/sourcing-requests/", "/api/v1/quotes/", "/api/v1/budget-lines/",
    "/api/v1/contributions/",
]


@pytest.fixture
def schema(as_user, personas):
    response = as_user(personas[Role.SOCIAL_WORKER]).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_every_endpoint_and_method_is_listed(schema):
    api_paths = {
        path: {method for method in operations if method != "parameters"}
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/")
    }
    assert api_paths == ENDPOINTS


@pytest.mark.parametrize(("path", "method"), ACTIONS)
def test_actions_document_400_403_404_and_409(schema, path, method):
    responses = schema["paths"][path][method]["responses"]
    assert {"400", "403", "404", "409"} <= set(responses)
    assert responses["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ConflictError"
    }


@pytest.mark.parametrize("path", CREATES)
def test_creates_document_their_refusals(schema, path):
    assert {"201", "400", "403", "409"} <= set(schema["paths"][path]["post"]["responses"])


def test_the_409_body_names_the_state_and_the_moves(schema):
    conflict = schema["components"]["schemas"]["ConflictError"]["properties"]
    assert {"detail", "current_status", "allowed_transitions"} <= set(conflict)


def test_the_schema_generates_and_validates_without_warnings(tmp_path):
    GENERATOR_STATS.reset()  # count only this generation's warnings
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    assert (tmp_path / "schema.yml").read_text().startswith("openapi:")
