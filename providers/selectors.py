"""Reads of the provider directory that pages and the API share.

Providers are not personal data, so every signed-in user may read all of it; there is no
access helper here, unlike placements and panels.
"""

import datetime
from typing import NamedTuple

import django_filters
from django import forms
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.forms import GovukForm
from providers.geo import distance_from, district_for, outward_code
from providers.models import (
    Framework,
    FrameworkLot,
    FrameworkMembership,
    FrameworkRate,
    PostcodeDistrict,
    Provider,
    ProviderDiscount,
    Service,
    ServicePlacementType,
)
from providers.reference import OfstedRating, PlacementType, PlaceProvider, ProviderKind

UNKNOWN_POSTCODE = "Enter a postcode in England we know, like LS6 2AB"
# Best first, for sorting by rating.
RATING_ORDER = (
    OfstedRating.OUTSTANDING,
    OfstedRating.GOOD,
    OfstedRating.REQUIRES_IMPROVEMENT,
    OfstedRating.INADEQUATE,
    OfstedRating.NOT_YET_INSPECTED,
)


def current_memberships(*, day: datetime.date) -> QuerySet[FrameworkMembership]:
    """Memberships in force on `day`, of frameworks in force on `day` (end dates inclusive)."""
    return FrameworkMembership.objects.filter(
        start_date__lte=day,
        framework__start_date__lte=day,
        framework__end_date__gte=day,
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=day))


def with_distance(services: QuerySet[Service], *, near: PostcodeDistrict) -> QuerySet[Service]:
    """Annotate `distance_miles` (float, NULL where the service has no location)."""
    return services.annotate(distance_miles=distance_from(near.latitude, near.longitude))


def services_for_directory(*, near: PostcodeDistrict | None = None) -> QuerySet[Service]:
    """Every service with its provider and codes, `on_framework` for today and, given a
    district, `distance_miles` from its centre."""
    on_framework = current_memberships(day=timezone.localdate()).filter(
        provider=OuterRef("provider_id")
    )
    services = (
        Service.objects.select_related("provider")
        .prefetch_related("placement_types", "needs_accepted", "risks_excluded")
        .annotate(on_framework=Exists(on_framework))
    )
    if near is not None:
        services = with_distance(services, near=near)
    return services


def providers_for_list() -> QuerySet[Provider]:
    """Providers with `service_count` (all their services) and `vacancy_total` (vacancies
    in their active services: an inactive service cannot take a child)."""
    return Provider.objects.annotate(
        service_count=Count("services"),
        vacancy_total=Coalesce(
            Sum("services__vacancies", filter=Q(services__is_active=True)), Value(0)
        ),
    ).order_by("name")


def _count(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT subquery, so several counts never multiply each other's joins."""
    counted = queryset.order_by().values("framework").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def frameworks_for_list() -> QuerySet[Framework]:
    """Frameworks with `lot_count` and `member_count` (memberships in force today)."""
    today = timezone.localdate()
    lots = FrameworkLot.objects.filter(framework=OuterRef("pk"))
    members = current_memberships(day=today).filter(framework=OuterRef("pk"))
    return Framework.objects.annotate(lot_count=_count(lots), member_count=_count(members))


class RateRow(NamedTuple):
    """One ceiling in a framework's rates table: for a lot or for one provider."""

    subject: object  # FrameworkLot or Provider
    placement_type: str
    ceiling: object  # Decimal

    @property
    def placement_type_label(self) -> str:
        return PlacementType(self.placement_type).label


def framework_rates_table(*, framework: Framework) -> dict[int, list[RateRow]]:
    """{financial year: rows}, newest year first; in a year, lot rates by lot number, then
    providers' own rates by name, each by placement type. One query."""
    rates = (
        FrameworkRate.objects.filter(framework=framework)
        .select_related("lot", "provider")
        .order_by(
            "-financial_year",
            F("lot__number").asc(nulls_last=True),
            "provider__name",
            "placement_type",
        )
    )
    table: dict[int, list[RateRow]] = {}
    for rate in rates:
        subject = rate.lot if rate.lot_id else rate.provider
        table.setdefault(rate.financial_year, []).append(
            RateRow(subject, rate.placement_type, rate.ceiling_weekly_price)
        )
    return table


def discounts_valid_on(*, provider: Provider, day: datetime.date) -> QuerySet[ProviderDiscount]:
    """The provider's discounts in force on `day` (valid_to inclusive), largest first."""
    return (
        ProviderDiscount.objects.filter(provider=provider, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .order_by("-percentage", "valid_from", "pk")
    )


# --- The directory filter ----------------------------------------------------------------


class PostcodeDistrictField(forms.CharField):
    """A postcode or outward code, cleaned to the PostcodeDistrict we hold for it."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        code = outward_code(value)
        district = district_for(value) if 2 <= len(code) <= 4 else None
        if district is None:
            raise forms.ValidationError(UNKNOWN_POSTCODE, code="unknown_postcode")
        return district


class ServiceFilterForm(GovukForm):
    """The filter's form: a distance needs somewhere to measure from."""

    def clean(self):
        cleaned = super().clean()
        if "postcode" in self.errors:
            return cleaned
        has_postcode = cleaned.get("postcode") is not None
        if cleaned.get("within_miles") and not has_postcode:
            self.add_error("within_miles", "Enter a postcode to search within a distance")
        if cleaned.get("sort") == "distance" and not has_postcode:
            self.add_error("sort", "Enter a postcode to sort by distance")
        return cleaned


class PostcodeFilter(django_filters.Filter):
    field_class = PostcodeDistrictField


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def _applied_in_filter_queryset(queryset, name, value):
    """postcode, within_miles and sort work together; ServiceFilter.filter_queryset
    applies them after the other filters."""
    return queryset


class ServiceFilter(django_filters.FilterSet):
    """Filters for the service directory page and /api/v1/services/.

    Pass services_for_directory() as the queryset. Given a postcode, the results carry
    `distance_miles` from that district's centre."""

    q = django_filters.CharFilter(method="filter_q", label="Service, provider or Ofsted URN")
    placement_type = django_filters.ChoiceFilter(
        choices=PlacementType.choices, method="filter_placement_type", label="Placement type",
        empty_label="Any",
    )
    rating = django_filters.MultipleChoiceFilter(
        field_name="ofsted_rating", choices=OfstedRating.choices, label="Ofsted rating",
        widget=forms.CheckboxSelectMultiple,
    )
    has_vacancy = django_filters.ChoiceFilter(
        choices=[("yes", "Yes"), ("no", "No")], method="filter_has_vacancy",
        label="Has a vacancy?", empty_label="Any",
    )
    # field_name only says (in the API schema) what the ID is; filter_framework decides.
    framework = django_filters.ModelChoiceFilter(
        field_name="provider__framework_memberships__framework",
        queryset=Framework.objects.all(), method="filter_framework",
        label="On framework", empty_label="Any",
        error_messages={"invalid_choice": "Select a framework from the list"},
    )
    kind = django_filters.ChoiceFilter(
        field_name="provider__kind", choices=ProviderKind.choices, label="Kind of provider",
        empty_label="Any",
    )
    postcode = PostcodeFilter(
        method=_applied_in_filter_queryset, label="Near postcode",
        help_text="A full postcode or the first part, like LS6",
    )
    within_miles = IntegerFilter(
        method=_applied_in_filter_queryset, label="Within (miles)", min_value=1,
        max_value=500,
    )
    sort = django_filters.ChoiceFilter(
        choices=[
            ("name", "Name"),
            ("distance", "Distance (nearest first)"),
            ("vacancies", "Vacancies (most first)"),
            ("rating", "Ofsted rating (best first)"),
        ],
        method=_applied_in_filter_queryset, label="Sort by", empty_label="Default",
    )

    class Meta:
        model = Service
        fields = ["q", "placement_type", "rating", "has_vacancy", "framework", "kind"]
        form = ServiceFilterForm

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(provider__name__icontains=value)
            | Q(ofsted_urn__icontains=value)
        )

    def filter_placement_type(self, queryset, name, value):
        offered = ServicePlacementType.objects.filter(
            service=OuterRef("pk"), placement_type=value
        )
        return queryset.filter(Exists(offered))

    def filter_has_vacancy(self, queryset, name, value):
        return queryset.filter(vacancies__gt=0) if value == "yes" else queryset.filter(vacancies=0)

    def filter_framework(self, queryset, name, value):
        members = current_memberships(day=timezone.localdate()).filter(
            framework=value, provider=OuterRef("provider_id")
        )
        return queryset.filter(Exists(members))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        district = data.get("postcode")
        if district is not None:
            queryset = with_distance(queryset, near=district)
            if data.get("within_miles"):
                queryset = queryset.filter(distance_miles__lte=data["within_miles"])
        return self._sorted(queryset, data.get("sort") or ("distance" if district else ""))

    @staticmethod
    def _sorted(queryset, sort: str):
        if sort == "distance":
            return queryset.order_by(F("distance_miles").asc(nulls_last=True), "name", "pk")
        if sort == "name":
            return queryset.order_by("name", "provider__name", "pk")
        if sort == "vacancies":
            return queryset.order_by("-vacancies", "name", "pk")
        if sort == "rating":
            rank = Case(
                *(When(ofsted_rating=rating, then=Value(i)) for i, rating in enumerate(RATING_ORDER)),
                default=Value(len(RATING_ORDER)),
                output_field=IntegerField(),
            )
            return queryset.alias(rating_rank=rank).order_by("rating_rank", "name", "pk")
        return queryset


class ProviderFilter(django_filters.FilterSet):
    """Filters for the provider list and /api/v1/providers/."""

    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name")
    kind = django_filters.ChoiceFilter(
        choices=ProviderKind.choices, label="Kind of provider", empty_label="Any"
    )
    place_provider = django_filters.ChoiceFilter(
        choices=PlaceProvider.choices, label="SSDA903 provider code", empty_label="Any"
    )
    framework = django_filters.ModelChoiceFilter(
        field_name="framework_memberships__framework",
        queryset=Framework.objects.all(), method="filter_framework", label="On framework",
        empty_label="Any", error_messages={"invalid_choice": "Select a framework from the list"},
    )
    is_active = django_filters.BooleanFilter(label="Active")

    class Meta:
        model = Provider
        fields = ["q", "kind", "place_provider", "framework", "is_active"]
        form = GovukForm

    def filter_framework(self, queryset, name, value):
        members = current_memberships(day=timezone.localdate()).filter(framework=value)
        return queryset.filter(pk__in=members.values("provider_id"))


class FrameworkRateFilter(django_filters.FilterSet):
    """Filters for /api/v1/framework-rates/."""

    placement_type = django_filters.ChoiceFilter(choices=PlacementType.choices)
    financial_year = IntegerFilter(min_value=2000, max_value=2100)

    class Meta:
        model = FrameworkRate
        fields = ["framework", "lot", "provider", "placement_type", "financial_year"]
