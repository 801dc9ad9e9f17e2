"""core.api.exception_handler: each domain error becomes its documented status and body.
(The HTTP tests show the same through real requests; these pin the mapping itself,
including what no request can easily provoke, like an IntegrityError.)"""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404
from rest_framework.exceptions import ValidationError

from core.api import INTEGRITY_CONFLICT, exception_handler
from core.errors import (
    ActionNotPermitted,
    Conflict,
    DomainError,
    InvalidInput,
    TransitionNotAllowed,
)

CONTEXT = {"view": None}


def test_action_not_permitted_is_403():
    response = exception_handler(ActionNotPermitted("Only the team."), CONTEXT)
    assert (response.status_code, response.data) == (403, {"detail": "Only the team."})


def test_transition_not_allowed_is_409_with_the_state_and_the_moves():
    error = TransitionNotAllowed("No.", current="draft", allowed=["submitted", "withdrawn"])
    response = exception_handler(error, CONTEXT)
    assert response.status_code == 409
    assert response.data == {
        "detail": "No.",
        "current_status": "draft",
        "allowed_transitions": ["submitted", "withdrawn"],
    }


def test_conflict_is_409_with_a_detail_only():
    response = exception_handler(Conflict("Already decided."), CONTEXT)
    assert (response.status_code, response.data) == (409, {"detail": "Already decided."})


def test_invalid_input_names_its_field():
    response = exception_handler(InvalidInput("Enter a reason.", field="reason"), CONTEXT)
    assert (response.status_code, response.data) == (400, {"reason": ["Enter a reason."]})


def test_invalid_input_without_a_field_is_a_non_field_error():
    response = exception_handler(InvalidInput("Unknown fields."), CONTEXT)
    assert (response.status_code, response.data) == (400, {"non_field_errors": ["Unknown fields."]})


def test_a_domain_error_without_its_own_mapping_still_is_not_a_500():
    response = exception_handler(DomainError("Refused."), CONTEXT)
    assert (response.status_code, response.data) == (400, {"detail": "Refused."})


def test_integrity_error_is_409_and_does_not_repeat_the_database_message(caplog):
    error = IntegrityError('duplicate key value violates "x" DETAIL: Key (name)=(Jo Bloggs)')
    response = exception_handler(error, CONTEXT)
    assert (response.status_code, response.data) == (409, {"detail": INTEGRITY_CONFLICT})
    # The database's message can quote personal data: it stays out of the logs too.
    assert "Jo Bloggs" not in caplog.text
    assert "Integrity error answered with 409" in caplog.text


@pytest.mark.parametrize(
    ("error", "status_code"),
    [(Http404("No such referral"), 404), (PermissionDenied("No."), 403),
     (ValidationError({"reason": ["Required."]}), 400)],
)
def test_django_and_drf_errors_are_handled_as_drf_does(error, status_code):
    assert exception_handler(error, CONTEXT).status_code == status_code


def test_anything_else_is_left_to_django():
    assert exception_handler(ZeroDivisionError(), CONTEXT) is None
