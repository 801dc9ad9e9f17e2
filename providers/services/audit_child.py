"""Which child a sourcing request is for, asked only by the market's audit events.

A sourcing request is anonymised: providers never learn the child, and this app imports
nothing of placements. Yet an administrator must find every audit event about a child,
the market's too (requests, invitations, quotes). So the placements app, which links
referrals to requests, registers the lookup when it starts (placements/apps.py): the
higher layer tells the lower one, never the other way round. Until it has, events name
no child.
"""

from collections.abc import Callable

ChildLookup = Callable[[int], int | None]


def _nobody(request_id: int) -> None:
    return None


_lookup: ChildLookup = _nobody


def register(lookup: ChildLookup) -> None:
    """`lookup(request_id)` → the child's id, or None when the request has no referral."""
    global _lookup
    _lookup = lookup


def child_of_request(request_id: int) -> int | None:
    return _lookup(request_id)
