"""/api/v1/sourcing-requests/ and /api/v1/quotes/: what the sourcing pages do, for systems.

Thin, like placements.api: reads start from placements.access (a request or quote the user
may not see answers 404), writes call placements.services.sourcing (the referral's side)
or providers.services.sourcing (the market's side), and the serializers only check the
shape of the data. The services' refusals become 403/409/400 in core.api.exception_handler.

A sourcing request does not know its referral (providers never import placements), so the
referral, its status and the social worker's choice are read through
ReferralSourcingRequest as annotations (placements.api_sourcing.reads).

- sourcing_requests: the requests, their shortlist and comparison;
- common: error responses, ID fields, locking the referral; reads: the annotations;
- quotes: the providers' answers, their flags, the choice and the acceptance.
"""

from placements.api_sourcing.quotes import QuoteViewSet
from placements.api_sourcing.sourcing_requests import SourcingRequestViewSet

__all__ = ["QuoteViewSet", "SourcingRequestViewSet"]
