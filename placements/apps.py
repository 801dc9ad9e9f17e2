from django.apps import AppConfig


def _child_of_sourcing_request(request_id: int) -> int | None:
    from placements.models import ReferralSourcingRequest

    return (
        ReferralSourcingRequest.objects.filter(sourcing_request_id=request_id)
        .values_list("referral__child_id", flat=True)
        .first()
    )


class PlacementsConfig(AppConfig):
    name = "placements"
    verbose_name = "Children, referrals, placements and money"

    def ready(self):
        # Sourcing requests are anonymised, but the market's audit events must still name
        # the child: this app holds the link, so it tells providers how to find it.
        from providers.services import audit_child

        audit_child.register(_child_of_sourcing_request)
