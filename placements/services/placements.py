"""A placement over time: its weekly cost, court-ordered retainers, health and education
contributions, its end, and a move to the child's next placement.

Each public function checks the actor's role (finance managers and commissioning
officers), locks the placement row, validates, writes, and queues the refresh of the
ledger weeks it touched (placements.rollups.enqueue_refresh, run on commit), all in one
transaction. Pages and the API call these.

Conventions, the same as the rollups and selectors read them:
- Cost rows and contributions cover half-open periods [from, to): `effective_to` and a
  contribution's `end_date` are the first day no longer covered; empty means open-ended.
  A placement's `end_date` is the day it ceased (the child is not there that night).
- A past week's cost never changes. A cost change or retainer ends the row in force on
  its date and starts a new one; it must be dated after the latest row's start, and no
  change (cost, retainer, contribution, end, move) may be dated more than
  settings.PLACEMENT_CHANGE_BACKDATE_DAYS before today: weeks before that are settled.
- A placement with an end date (ended, or ending on a known day) takes no more changes:
  TransitionNotAllowed.

Audit (core.audit, in the same transaction), each event carrying the child's ID:
placement.cost_change, placement.retainer, contribution.add, contribution.end,
placement.end (written by close_placement, so an end by a move or a confirmation is
recorded the same way) and placement.move (the new placement of a move).
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core import audit
from core.errors import ActionNotPermitted, Conflict, InvalidInput, TransitionNotAllowed
from core.roles import Role, has_role
from placements import rollups
from placements.models import Child, Contribution, Placement, PlacementCost
from placements.reference import ReasonPlaceChange
from providers import geo
from providers.models import Service
from providers.reference import (
    TYPES_WITHOUT_PROVIDER_CODE,
    PlacementType,
    financial_year_bounds,
    financial_year_start,
)

R = PlacementCost.Reason
CHANGE_ROLES = (Role.FINANCE_MANAGER, Role.COMMISSIONING_OFFICER)
COST_CHANGE_REASONS = (R.UPLIFT, R.RENEGOTIATION, R.STEP_DOWN)
PENCE = Decimal("0.01")
# MONEY is 12 digits with 2 decimal places.
MAX_AMOUNT = Decimal("9999999999.99")
# The financial years the budgets can hold (FinancialYear's range).
FIRST_DAY, LAST_DAY = financial_year_bounds(2000)[0], financial_year_bounds(2099)[1]
DAY = datetime.timedelta(days=1)
OVERLAP = "The child already has a placement that overlaps this start date."
# What the audit records of a new placement (placement.confirm, placement.move).
PLACEMENT_AUDIT_FIELDS = (
    "child", "referral", "service", "quote", "placement_type", "place_provider",
    "on_framework", "start_date", "planned_end_date", "distance_from_home_miles",
    "out_of_authority",
)
CONTRIBUTION_AUDIT_FIELDS = (
    "placement", "funder", "funder_name", "weekly_amount", "percentage", "start_date", "end_date",
)


def _day(value: datetime.date) -> str:
    return f"{value.day} {value:%B %Y}"


# --- Checks -------------------------------------------------------------------------------


def _require_role(by, *, action: str) -> None:
    # Roles, not superuser status: an administrator acts only in the roles it holds.
    if not has_role(by, *CHANGE_ROLES):
        raise ActionNotPermitted(
            f"Only finance managers and commissioning officers can {action}."
        )


def _lock(placement: Placement) -> Placement:
    return Placement.objects.select_for_update().get(pk=placement.pk)


def _require_running(placement: Placement) -> None:
    if placement.end_date is not None:
        verb = "ended" if placement.end_date <= timezone.localdate() else "ends"
        raise TransitionNotAllowed(
            f"This placement {verb} on {_day(placement.end_date)}: it can no longer change.",
            current="ended", allowed=[],
        )


def earliest_change_date(today: datetime.date | None = None) -> datetime.date:
    """The earliest day a change may be dated: weeks before it are settled."""
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=settings.PLACEMENT_CHANGE_BACKDATE_DAYS)


def _require_date(value, *, field: str, required: bool = True) -> datetime.date | None:
    if value is None and not required:
        return None
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise InvalidInput("Enter a real date, for example 20 January 2027.", field=field)
    if not FIRST_DAY <= value <= LAST_DAY:
        raise InvalidInput(
            f"Enter a date between {_day(FIRST_DAY)} and {_day(LAST_DAY)}.", field=field
        )
    return value


def _require_not_settled(day: datetime.date, *, field: str) -> None:
    earliest = earliest_change_date()
    if day < earliest:
        raise InvalidInput(
            f"The date must be on or after {_day(earliest)}: changes can be back-dated "
            f"{settings.PLACEMENT_CHANGE_BACKDATE_DAYS} days at most, so that settled "
            "weeks' costs never change.",
            field=field,
        )


def _money(value, *, field: str, label: str = "The weekly amount") -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(PENCE, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(f"{label} must be an amount in pounds, like 850.00.", field=field) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"{label} must be £0.00 or more.", field=field)
    if amount > MAX_AMOUNT:
        raise InvalidInput(f"{label} must be less than £10,000,000,000.", field=field)
    return amount


def _reason_for_change(reason: str, *, field: str = "reason") -> str:
    if reason not in ReasonPlaceChange.values:
        raise InvalidInput("Select the reason the placement ends.", field=field)
    return reason


def _require_after_start(placement: Placement, day: datetime.date, *, field: str) -> None:
    # Strictly after: a placement occupies at least one night.
    if day <= placement.start_date:
        raise InvalidInput(
            f"The date must be after the placement started ({_day(placement.start_date)}).",
            field=field,
        )


# --- Cost rows ------------------------------------------------------------------------------


def _latest_cost(placement: Placement) -> PlacementCost | None:
    return placement.costs.order_by("-effective_from").first()


def _in_force_on(row: PlacementCost | None, day: datetime.date) -> PlacementCost | None:
    if row is None or row.effective_from > day:
        return None
    return row if row.effective_to is None or row.effective_to > day else None


def _require_new_cost_date(placement: Placement, day: datetime.date, latest, *, field: str):
    """A cost change starts after the latest row began, so no earlier row's amount or
    dates change; and within the back-dating window."""
    if day < placement.start_date:
        raise InvalidInput(
            f"The date must be on or after the placement started ({_day(placement.start_date)}).",
            field=field,
        )
    if latest is not None and day <= latest.effective_from:
        raise InvalidInput(
            f"The date must be after {_day(latest.effective_from)}, when the latest weekly "
            "cost took effect: an earlier week's cost never changes.",
            field=field,
        )
    _require_not_settled(day, field=field)


def _require_direction(reason: str, amount: Decimal, current: PlacementCost | None) -> None:
    if current is None:
        return
    before = current.weekly_amount
    if amount == before:
        raise InvalidInput(f"The weekly cost is already £{before:,.2f}.", field="weekly_amount")
    if reason == R.UPLIFT and amount < before:
        raise InvalidInput(
            f"An uplift must raise the weekly cost above £{before:,.2f}: for a lower cost "
            "choose renegotiation or step-down.", field="weekly_amount",
        )
    if reason == R.STEP_DOWN and amount > before:
        raise InvalidInput(
            f"A step-down must lower the weekly cost below £{before:,.2f}.", field="weekly_amount"
        )


def _end_row(row: PlacementCost | None, day: datetime.date) -> None:
    if row is not None:
        row.effective_to = day
        row.save(update_fields=["effective_to"])


# --- Refreshing the rollups ---------------------------------------------------------------


def queue_ledger_refresh(*, first_day: datetime.date, last_day: datetime.date | None) -> None:
    """Queue the ledger refresh for the days a change touched (last_day inclusive). An
    open-ended change (last_day None) touches every financial year from its first day's
    to the current one, and enqueue_refresh's None runs to the end of one year only."""
    if last_day is not None:
        rollups.enqueue_refresh(first_day=first_day, last_day=last_day)
        return
    rollups.enqueue_refresh(first_day=first_day, last_day=None)
    first_year = financial_year_start(first_day)
    for year in range(first_year + 1, financial_year_start(timezone.localdate()) + 1):
        rollups.enqueue_refresh(first_day=financial_year_bounds(year)[0], last_day=None)


def _last_day_before(end: datetime.date | None) -> datetime.date | None:
    return None if end is None else end - DAY


# --- Weekly cost ----------------------------------------------------------------------------


@transaction.atomic
def placement_cost_change(
    *, by, placement: Placement, effective_from: datetime.date, weekly_amount, reason: str,
    note: str = "",
) -> PlacementCost:
    """Change the weekly cost from `effective_from` (uplift, renegotiation or step-down):
    the row in force that day ends and a new open-ended row starts."""
    _require_role(by, action="change a placement's weekly cost")
    placement = _lock(placement)
    _require_running(placement)
    if reason not in COST_CHANGE_REASONS:
        raise InvalidInput("Select the reason for the change.", field="reason")
    amount = _money(weekly_amount, field="weekly_amount")
    _require_date(effective_from, field="effective_from")
    latest = _latest_cost(placement)
    _require_new_cost_date(placement, effective_from, latest, field="effective_from")
    current = _in_force_on(latest, effective_from)
    _require_direction(reason, amount, current)
    _end_row(current, effective_from)
    row = PlacementCost.objects.create(
        placement=placement, effective_from=effective_from, weekly_amount=amount,
        reason=reason, note=(note or "").strip(), created_by=by,
    )
    audit.record(by, "placement.cost_change", placement, reason=_cost_reason(row), changes={
        "weekly_amount": [current.weekly_amount if current else None, amount],
        "effective_from": [None, effective_from],
    })
    queue_ledger_refresh(first_day=effective_from, last_day=None)
    return row


def _cost_reason(row: PlacementCost) -> str:
    """The audit's reason for a cost change: its kind, and the officer's note."""
    return f"{row.get_reason_display()}: {row.note}" if row.note else row.get_reason_display()


@transaction.atomic
def retainer_record(
    *, by, placement: Placement, effective_from: datetime.date,
    effective_to: datetime.date | None, weekly_amount, court_order_reference: str,
) -> PlacementCost:
    """A court-ordered retainer (the place is held, at the retainer's weekly amount)
    from `effective_from` until the day before `effective_to` (open-ended when None).
    The cost in force before it resumes on `effective_to`."""
    _require_role(by, action="record a retainer")
    placement = _lock(placement)
    _require_running(placement)
    reference = (court_order_reference or "").strip()
    if not reference:
        raise InvalidInput(
            "Enter the court order reference: a retainer is paid only when a court orders it.",
            field="court_order_reference",
        )
    if len(reference) > PlacementCost._meta.get_field("court_order_reference").max_length:
        raise InvalidInput("The court order reference must be 50 characters or fewer.",
                           field="court_order_reference")
    amount = _money(weekly_amount, field="weekly_amount")
    _require_date(effective_from, field="effective_from")
    _require_date(effective_to, field="effective_to", required=False)
    if effective_to is not None and effective_to <= effective_from:
        raise InvalidInput("The retainer must end after it starts.", field="effective_to")
    latest = _latest_cost(placement)
    _require_new_cost_date(placement, effective_from, latest, field="effective_from")
    interrupted = _in_force_on(latest, effective_from)
    interrupted_to = interrupted.effective_to if interrupted else None
    resumes = (
        interrupted is not None and effective_to is not None
        and (interrupted_to is None or interrupted_to > effective_to)
    )
    if interrupted_to is not None and (effective_to is None or effective_to > interrupted_to):
        effective_to = interrupted_to  # never past the row it replaces
    _end_row(interrupted, effective_from)
    retainer = PlacementCost.objects.create(
        placement=placement, effective_from=effective_from, effective_to=effective_to,
        weekly_amount=amount, reason=R.RETAINER, court_order_reference=reference,
        created_by=by,
    )
    if resumes:
        PlacementCost.objects.create(
            placement=placement, effective_from=effective_to, effective_to=interrupted_to,
            weekly_amount=interrupted.weekly_amount,
            reason=interrupted.reason,
            note=f"The weekly cost before the retainer of {_day(effective_from)} resumes.",
            created_by=by,
        )
    audit.record(by, "placement.retainer", placement, reason=f"Court order {reference}", changes={
        "weekly_amount": [interrupted.weekly_amount if interrupted else None, amount],
        "effective_from": [None, effective_from],
        "effective_to": [None, effective_to],
        "court_order_reference": [None, reference],
    })
    queue_ledger_refresh(first_day=effective_from, last_day=_last_day_before(effective_to))
    return retainer


# --- Contributions --------------------------------------------------------------------------


def _overlapping(contributions, start: datetime.date, end: datetime.date | None):
    overlapping = contributions.filter(Q(end_date__isnull=True) | Q(end_date__gt=start))
    return overlapping if end is None else overlapping.filter(start_date__lt=end)


def _require_share_within_gross(
    placement: Placement, *, start, end, weekly_amount, percentage
) -> None:
    """Percentages of overlapping contributions total 100% at most; a fixed amount is no
    more than the gross weekly cost in force when it starts."""
    if percentage is not None:
        others = _overlapping(placement.contributions.filter(percentage__isnull=False), start, end)
        taken = sum((c.percentage for c in others), Decimal("0"))
        if taken + percentage > 100:
            raise InvalidInput(
                f"Other contributions already cover {taken.normalize():f}% of the cost in "
                "this period: the percentages cannot total more than 100%.",
                field="percentage",
            )
    else:
        gross = _in_force_on(
            placement.costs.filter(effective_from__lte=start).order_by("-effective_from").first(),
            start,
        )
        if gross is not None and weekly_amount > gross.weekly_amount:
            raise InvalidInput(
                f"The contribution cannot be more than the weekly cost on {_day(start)} "
                f"(£{gross.weekly_amount:,.2f}).", field="weekly_amount",
            )


def _share(weekly_amount, percentage) -> tuple[Decimal | None, Decimal | None]:
    if weekly_amount is None and percentage is None:
        raise InvalidInput("Enter a weekly amount or a percentage of the cost.",
                           field="weekly_amount")
    if weekly_amount is not None and percentage is not None:
        raise InvalidInput("Enter a weekly amount or a percentage, not both.", field="percentage")
    if weekly_amount is not None:
        amount = _money(weekly_amount, field="weekly_amount")
        if amount == 0:
            raise InvalidInput("The weekly amount must be more than £0.00.", field="weekly_amount")
        return amount, None
    try:
        share = Decimal(str(percentage)).quantize(PENCE, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput("The percentage must be a number, like 25.", field="percentage") from None
    if not share.is_finite() or not 0 < share <= 100:
        raise InvalidInput("The percentage must be more than 0 and at most 100.", field="percentage")
    return None, share


@transaction.atomic
def contribution_add(
    *, by, placement: Placement, funder: str, funder_name: str = "", weekly_amount=None,
    percentage=None, start_date: datetime.date, end_date: datetime.date | None = None,
) -> Contribution:
    """Health, education or another funder pays part of the cost from `start_date` until
    the day before `end_date` (open-ended when None): a fixed weekly amount, or a
    percentage of the gross weekly cost in force each day."""
    _require_role(by, action="add a contribution")
    placement = _lock(placement)
    _require_running(placement)
    if funder not in Contribution.Funder.values:
        raise InvalidInput("Select who pays the contribution.", field="funder")
    funder_name = (funder_name or "").strip()
    if funder == Contribution.Funder.OTHER and not funder_name:
        raise InvalidInput("Enter the name of the funder.", field="funder_name")
    if len(funder_name) > Contribution._meta.get_field("funder_name").max_length:
        raise InvalidInput("The funder's name must be 200 characters or fewer.", field="funder_name")
    amount, share = _share(weekly_amount, percentage)
    _require_date(start_date, field="start_date")
    _require_date(end_date, field="end_date", required=False)
    if start_date < placement.start_date:
        raise InvalidInput(
            f"The contribution must start on or after the placement started "
            f"({_day(placement.start_date)}).", field="start_date",
        )
    _require_not_settled(start_date, field="start_date")
    if end_date is not None and end_date <= start_date:
        raise InvalidInput("The contribution must end after it starts.", field="end_date")
    _require_share_within_gross(
        placement, start=start_date, end=end_date, weekly_amount=amount, percentage=share
    )
    contribution = Contribution.objects.create(
        placement=placement, funder=funder, funder_name=funder_name, weekly_amount=amount,
        percentage=share, start_date=start_date, end_date=end_date,
    )
    audit.record(by, "contribution.add", contribution, child=placement.child_id,
                 changes=audit.created(contribution, CONTRIBUTION_AUDIT_FIELDS))
    queue_ledger_refresh(first_day=start_date, last_day=_last_day_before(end_date))
    return contribution


@transaction.atomic
def contribution_end(*, by, contribution: Contribution, end_date: datetime.date) -> Contribution:
    """The funder stops paying: the contribution covers days before `end_date` only. A
    contribution with a later end date may be ended sooner, never extended."""
    _require_role(by, action="end a contribution")
    placement = _lock(contribution.placement)
    _require_running(placement)
    contribution = Contribution.objects.select_for_update().get(pk=contribution.pk)
    previous_end = contribution.end_date
    if previous_end is not None and previous_end <= timezone.localdate():
        raise TransitionNotAllowed(
            f"This contribution ended on {_day(previous_end)}.", current="ended", allowed=[]
        )
    _require_date(end_date, field="end_date")
    if end_date <= contribution.start_date:
        raise InvalidInput(
            f"The end date must be after the contribution started ({_day(contribution.start_date)}).",
            field="end_date",
        )
    if previous_end is not None and end_date >= previous_end:
        raise InvalidInput(
            f"The contribution already ends on {_day(previous_end)}: enter an earlier date.",
            field="end_date",
        )
    _require_not_settled(end_date, field="end_date")
    contribution.end_date = end_date
    contribution.save(update_fields=["end_date"])
    audit.record(by, "contribution.end", contribution, child=placement.child_id,
                 changes={"end_date": [previous_end, end_date]})
    queue_ledger_refresh(first_day=end_date, last_day=_last_day_before(previous_end))
    return contribution


# --- Ending a placement, and moving the child -----------------------------------------------


def close_placement(placement: Placement, *, by, end_date: datetime.date, reason: str) -> None:
    """End a locked placement on `end_date`, the day it ceased: its cost rows and
    contributions end (exclusively) that day too; any that would only have started later
    (a scheduled uplift) never took effect and go. No checks: callers make them. Audited
    here as placement.end, whichever service ends it (an end, a move, a confirmation)."""
    changes = audit.diff(
        audit.snapshot(placement, ["end_date", "reason_for_change"]),
        {"end_date": end_date, "reason_for_change": reason},
    )
    placement.end_date, placement.reason_for_change = end_date, reason
    placement.save(update_fields=["end_date", "reason_for_change"])
    changes.update(_cancelled(placement, end_date))
    placement.costs.filter(effective_from__gte=end_date).delete()
    placement.costs.filter(
        Q(effective_to__isnull=True) | Q(effective_to__gt=end_date), effective_from__lt=end_date
    ).update(effective_to=end_date)
    placement.contributions.filter(start_date__gte=end_date).delete()
    placement.contributions.filter(
        Q(end_date__isnull=True) | Q(end_date__gt=end_date)
    ).update(end_date=end_date)
    audit.record(by, "placement.end", placement, changes=changes, reason=reason)


def _cancelled(placement: Placement, end_date: datetime.date) -> dict:
    """The scheduled cost rows and contributions an end removes (they never took effect),
    as audit changes, so that the log keeps what was deleted."""
    changes = {}
    costs = placement.costs.filter(effective_from__gte=end_date).order_by("effective_from")
    if costs:
        changes["scheduled_costs"] = [
            [audit.snapshot(row, ["effective_from", "weekly_amount", "reason"]) for row in costs], [],
        ]
    contributions = placement.contributions.filter(start_date__gte=end_date).order_by("start_date")
    if contributions:
        changes["scheduled_contributions"] = [
            [audit.snapshot(c, ["funder", "weekly_amount", "percentage", "start_date"])
             for c in contributions], [],
        ]
    return changes


def lock_current_placement(child: Child) -> Placement | None:
    """The child's open placement (no end date), locked; None when there is none."""
    return Placement.objects.select_for_update().filter(child=child, end_date__isnull=True).first()


def require_no_overlap(child: Child, *, start: datetime.date) -> None:
    """A new placement runs open-ended from `start`, so any other placement of the child
    still running after that day overlaps it. PostgreSQL's exclusion constraint would
    refuse it too; SQLite has none, so without this check it would be saved there."""
    later = Placement.objects.filter(child=child).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=start)
    )
    if later.exists():
        raise Conflict(OVERLAP)


def distance_from_home(child: Child, service: Service) -> Decimal | None:
    home = geo.district_for(child.home_postcode)
    if home is None:
        return None
    return geo.miles_between(home.latitude, home.longitude, service.latitude, service.longitude)


def is_out_of_authority(service: Service) -> bool:
    area = service.local_authority_area
    return bool(area) and area != settings.LOCAL_AUTHORITY_AREA


@transaction.atomic
def placement_end(*, by, placement: Placement, end_date: datetime.date, reason: str) -> Placement:
    """The placement ceased on `end_date` (SSDA903 reason for change); its open cost rows
    and contributions end that day."""
    _require_role(by, action="end a placement")
    placement = _lock(placement)
    _require_running(placement)
    reason = _reason_for_change(reason)
    _require_date(end_date, field="end_date")
    _require_after_start(placement, end_date, field="end_date")
    _require_not_settled(end_date, field="end_date")
    close_placement(placement, by=by, end_date=end_date, reason=reason)
    queue_ledger_refresh(first_day=end_date, last_day=None)
    return placement


def _new_placement_fields(*, service, placement_type, on_framework, planned_end_date, start):
    if placement_type not in PlacementType.values:
        raise InvalidInput("Select the type of the new placement.", field="placement_type")
    if not isinstance(service, Service):
        raise InvalidInput("Select the service the child moves to.", field="service")
    if not service.is_active:
        raise InvalidInput(f"{service.name} no longer takes placements.", field="service")
    _require_date(planned_end_date, field="planned_end_date", required=False)
    if planned_end_date is not None and planned_end_date <= start:
        raise InvalidInput("The planned end date must be after the move.", field="planned_end_date")
    return {
        "service": service, "placement_type": placement_type, "on_framework": bool(on_framework),
        "planned_end_date": planned_end_date,
        # SSDA903 leaves the provider code blank for temporary and "other" placements.
        "place_provider": ""
        if placement_type in TYPES_WITHOUT_PROVIDER_CODE else service.provider.place_provider,
    }


@transaction.atomic
def child_move(
    *, by, placement: Placement, end_date: datetime.date, reason: str, service: Service,
    placement_type: str, weekly_amount, on_framework: bool,
    planned_end_date: datetime.date | None = None,
) -> Placement:
    """End the placement on `end_date` (with its SSDA903 reason) and start the child's
    next one that same day, with its first weekly cost: both or neither. Another
    placement of the child overlapping the new one (a booked one) refuses the move."""
    _require_role(by, action="move a child to another placement")
    placement = _lock(placement)
    _require_running(placement)
    reason = _reason_for_change(reason)
    _require_date(end_date, field="end_date")
    _require_after_start(placement, end_date, field="end_date")
    _require_not_settled(end_date, field="end_date")
    fields = _new_placement_fields(
        service=service, placement_type=placement_type, on_framework=on_framework,
        planned_end_date=planned_end_date, start=end_date,
    )
    amount = _money(weekly_amount, field="weekly_amount")
    child = Child.objects.get(pk=placement.child_id)
    close_placement(placement, by=by, end_date=end_date, reason=reason)
    require_no_overlap(child, start=end_date)
    try:
        with transaction.atomic():
            new = Placement.objects.create(
                child=child, start_date=end_date, created_by=by,
                distance_from_home_miles=distance_from_home(child, service),
                out_of_authority=is_out_of_authority(service), **fields,
            )
    except IntegrityError:
        raise Conflict(OVERLAP) from None
    PlacementCost.objects.create(
        placement=new, effective_from=end_date, weekly_amount=amount, reason=R.INITIAL,
        note=f"Moved from placement {placement.pk}.", created_by=by,
    )
    audit.record(by, "placement.move", new, reason=reason, changes={
        **audit.created(new, PLACEMENT_AUDIT_FIELDS),
        "weekly_amount": [None, amount],
        "moved_from": [None, placement.pk],
    })
    queue_ledger_refresh(first_day=end_date, last_day=None)
    return new
