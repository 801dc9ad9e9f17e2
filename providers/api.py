"""/api/v1/providers/, services/, frameworks/, framework-rates/ and provider-discounts/:
the provider directory for systems.

Every signed-in user may read it (providers are not personal data). Writes go through
providers.services.catalogue, which checks the actor and the data; the serializers only
check the shape. Only commissioning officers and administrators write, and the
permission below refuses anyone else before their data is even read.
"""

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ACTION_ERRORS, NamedChoiceField, error_responses
from core.roles import has_role
from providers import selectors
from providers.geo import rounded_miles
from providers.models import (
    Framework,
    FrameworkLot,
    FrameworkRate,
    Provider,
    ProviderDiscount,
    Service,
)
from providers.reference import (
    Need,
    OfstedRating,
    PlacementType,
    PlaceProvider,
    ProviderKind,
    Risk,
    financial_year_label,
)
from providers.services import catalogue

LIST_ERRORS = error_responses(400, 403)
DETAIL_ERRORS = error_responses(403, 404)
CREATE_ERRORS = error_responses(400, 403, 409)


class ReadOrEditCatalogue(permissions.BasePermission):
    """Anyone signed in reads; commissioning officers and administrators write."""

    message = (
        "Only a commissioning officer or an administrator can change the provider directory."
    )

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or has_role(
            request.user, *catalogue.EDITORS
        )


class CatalogueViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, ReadOrEditCatalogue]


@extend_schema_field({"$ref": "#/components/schemas/RiskEnum"})
class RiskCodeField(serializers.ChoiceField):
    """A risk code. Documented as the RiskEnum component that placements.api's risk
    fields already produce: a NamedChoiceField(Risk) here would clash with that name."""

    def __init__(self, **kwargs):
        super().__init__(choices=Risk.choices, **kwargs)


# --- Providers ---------------------------------------------------------------------------


class ProviderSerializer(serializers.ModelSerializer):
    kind = NamedChoiceField(ProviderKind, read_only=True)
    place_provider = NamedChoiceField(PlaceProvider, read_only=True)
    # A plain string: the address may be empty, which an "email" format does not allow.
    email = serializers.CharField(
        read_only=True, help_text="Where sourcing requests are sent; empty when not known."
    )
    service_count = serializers.IntegerField(read_only=True, help_text="All its services.")
    vacancy_total = serializers.IntegerField(
        read_only=True, help_text="Vacancies in its active services."
    )

    class Meta:
        model = Provider
        fields = [
            "id", "name", "kind", "place_provider", "email", "phone", "is_active", "created_at",
            "service_count", "vacancy_total",
        ]
        read_only_fields = fields


class ProviderInputSerializer(serializers.Serializer):
    """A provider's details; on PATCH, only the fields given change."""

    name = serializers.CharField(max_length=200)
    kind = NamedChoiceField(ProviderKind)
    place_provider = NamedChoiceField(PlaceProvider, help_text="The SSDA903 provider code.")
    email = serializers.EmailField(required=False, allow_blank=True,
                                   help_text="Where sourcing requests are sent.")
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    is_active = serializers.BooleanField(required=False)


@extend_schema_view(
    list=extend_schema(responses={200: ProviderSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: ProviderSerializer, **DETAIL_ERRORS}),
    create=extend_schema(
        request=ProviderInputSerializer, responses={201: ProviderSerializer, **CREATE_ERRORS}
    ),
    partial_update=extend_schema(
        request=ProviderInputSerializer, responses={200: ProviderSerializer, **ACTION_ERRORS}
    ),
)
class ProviderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CatalogueViewSet):
    """Providers in the directory. No DELETE: a provider that stops trading is made
    inactive, because past placements and quotes still point to it."""

    serializer_class = ProviderSerializer
    filterset_class = selectors.ProviderFilter

    def get_queryset(self):
        return selectors.providers_for_list().order_by("name", "pk")

    def create(self, request):
        body = ProviderInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        provider = catalogue.provider_create(by=request.user, fields=dict(body.validated_data))
        return self._provider_response(provider, code=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        provider = self.get_object()
        body = ProviderInputSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        catalogue.provider_update(
            by=request.user, provider=provider, fields=dict(body.validated_data)
        )
        return self._provider_response(provider)

    def _provider_response(self, provider: Provider, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=provider.pk)
        return Response(ProviderSerializer(fresh).data, status=code)


# --- Services ----------------------------------------------------------------------------


class ServiceSerializer(serializers.ModelSerializer):
    """A service with its codes; `distance_miles` is there when the list was asked for
    services near a postcode."""

    provider_name = serializers.CharField(source="provider.name", read_only=True)
    ofsted_rating = NamedChoiceField(OfstedRating, read_only=True)
    placement_types = serializers.SerializerMethodField()
    needs = serializers.SerializerMethodField(help_text="Needs the service accepts.")
    excluded_risks = serializers.SerializerMethodField(help_text="Risks the service will not take.")
    on_framework = serializers.BooleanField(
        read_only=True, help_text="The provider is a member of a framework in force today."
    )
    distance_miles = serializers.SerializerMethodField(
        help_text="Straight-line miles from the postcode filter's district; null without one "
        "or when the service has no location."
    )

    class Meta:
        model = Service
        fields = [
            "id", "provider", "provider_name", "name", "ofsted_urn", "ofsted_rating",
            "ofsted_inspection_date", "postcode", "latitude", "longitude",
            "local_authority_area", "min_age", "max_age", "places", "vacancies", "is_active",
            "placement_types", "needs", "excluded_risks", "on_framework", "distance_miles",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=NamedChoiceField(PlacementType)))
    def get_placement_types(self, service: Service) -> list[str]:
        return sorted(row.placement_type for row in service.placement_types.all())

    @extend_schema_field(serializers.ListField(child=NamedChoiceField(Need)))
    def get_needs(self, service: Service) -> list[str]:
        return sorted(row.need for row in service.needs_accepted.all())

    @extend_schema_field(serializers.ListField(child=RiskCodeField()))
    def get_excluded_risks(self, service: Service) -> list[str]:
        return sorted(row.risk for row in service.risks_excluded.all())

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_distance_miles(self, service: Service) -> float | None:
        miles = rounded_miles(getattr(service, "distance_miles", None))
        return None if miles is None else float(miles)


class ServiceInputSerializer(serializers.Serializer):
    """A service's details; on PATCH only the fields given change, and a list given
    replaces the service's list. Latitude and longitude, when not given, come from the
    postcode district's centre."""

    provider = serializers.PrimaryKeyRelatedField(
        queryset=Provider.objects.all(), help_text="Only when creating."
    )
    name = serializers.CharField(max_length=200)
    ofsted_urn = serializers.CharField(required=False, allow_blank=True, max_length=10)
    ofsted_rating = NamedChoiceField(OfstedRating, required=False)
    ofsted_inspection_date = serializers.DateField(required=False, allow_null=True)
    postcode = serializers.CharField(max_length=10)
    latitude = serializers.DecimalField(
        max_digits=8, decimal_places=5, min_value=-90, max_value=90, required=False,
        allow_null=True,
    )
    longitude = serializers.DecimalField(
        max_digits=8, decimal_places=5, min_value=-180, max_value=180, required=False,
        allow_null=True,
    )
    local_authority_area = serializers.CharField(required=False, allow_blank=True, max_length=100)
    min_age = serializers.IntegerField(required=False, min_value=0, max_value=25)
    max_age = serializers.IntegerField(required=False, min_value=0, max_value=25)
    places = serializers.IntegerField(required=False, min_value=0, max_value=32767)
    vacancies = serializers.IntegerField(required=False, min_value=0, max_value=32767)
    is_active = serializers.BooleanField(required=False)
    placement_types = serializers.ListField(
        child=NamedChoiceField(PlacementType), required=False, max_length=len(PlacementType)
    )
    needs = serializers.ListField(child=NamedChoiceField(Need), required=False,
                                  max_length=len(Need))
    excluded_risks = serializers.ListField(child=RiskCodeField(), required=False,
                                           max_length=len(Risk))

    def validate_provider(self, provider):
        if self.partial:
            raise serializers.ValidationError("A service cannot move to another provider.")
        return provider

    def service_arguments(self) -> dict:
        """validated_data as the services take it: provider, fields and the three lists."""
        fields = dict(self.validated_data)
        arguments = {
            name: fields.pop(name, None) for name in ("placement_types", "needs", "excluded_risks")
        }
        if "provider" in fields:
            arguments["provider"] = fields.pop("provider")
        return {"fields": fields, **arguments}


class ServiceApiFilter(selectors.ServiceFilter):
    provider = django_filters.ModelChoiceFilter(
        queryset=Provider.objects.all(), label="Provider"
    )

    class Meta(selectors.ServiceFilter.Meta):
        fields = [*selectors.ServiceFilter.Meta.fields, "provider"]


@extend_schema_view(
    list=extend_schema(responses={200: ServiceSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: ServiceSerializer, **DETAIL_ERRORS}),
    create=extend_schema(
        request=ServiceInputSerializer, responses={201: ServiceSerializer, **CREATE_ERRORS}
    ),
    partial_update=extend_schema(
        request=ServiceInputSerializer, responses={200: ServiceSerializer, **ACTION_ERRORS}
    ),
)
class ServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CatalogueViewSet):
    """Homes and fostering services. Filter by `postcode` to get `distance_miles` and to
    use `within_miles` or `sort=distance`. No DELETE: make a service inactive instead."""

    serializer_class = ServiceSerializer
    filterset_class = ServiceApiFilter

    def get_queryset(self):
        return selectors.services_for_directory().order_by("provider__name", "name", "pk")

    def create(self, request):
        body = ServiceInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        service = catalogue.service_create(by=request.user, **self._lists_or_empty(body))
        return self._service_response(service, code=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        service = self.get_object()
        body = ServiceInputSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        catalogue.service_update(by=request.user, service=service, **body.service_arguments())
        return self._service_response(service)

    @staticmethod
    def _lists_or_empty(body: ServiceInputSerializer) -> dict:
        arguments = body.service_arguments()
        for name in ("placement_types", "needs", "excluded_risks"):
            arguments[name] = arguments[name] or []
        return arguments

    def _service_response(self, service: Service, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=service.pk)
        return Response(ServiceSerializer(fresh).data, status=code)


# --- Frameworks and their rates ----------------------------------------------------------


class FrameworkLotSerializer(serializers.ModelSerializer):
    class Meta:
        model = FrameworkLot
        fields = ["id", "number", "name"]
        read_only_fields = fields


class FrameworkSerializer(serializers.ModelSerializer):
    lots = FrameworkLotSerializer(many=True, read_only=True)
    member_count = serializers.IntegerField(
        read_only=True, help_text="Providers whose membership is in force today."
    )

    class Meta:
        model = Framework
        fields = ["id", "name", "lead_authority", "start_date", "end_date", "lots",
                  "member_count"]
        read_only_fields = fields


class FrameworkRateSerializer(serializers.ModelSerializer):
    placement_type = NamedChoiceField(PlacementType, read_only=True)
    financial_year_label = serializers.SerializerMethodField(help_text="For example 2026/27.")

    class Meta:
        model = FrameworkRate
        fields = ["id", "framework", "lot", "provider", "placement_type", "financial_year",
                  "financial_year_label", "ceiling_weekly_price"]
        read_only_fields = fields
        extra_kwargs = {"financial_year": {"help_text": "2026 means 1 April 2026 – 31 March 2027."}}

    def get_financial_year_label(self, rate: FrameworkRate) -> str:
        return financial_year_label(rate.financial_year)


class UpliftSerializer(serializers.Serializer):
    from_year = serializers.IntegerField(
        min_value=2000, max_value=2098,
        help_text="Every rate of this financial year is carried into the next one.",
    )
    percentage = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100,
        help_text="For example 3.5 for a 3.5% uplift; ceilings are rounded half-up to pence.",
    )


@extend_schema_view(
    list=extend_schema(responses={200: FrameworkSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: FrameworkSerializer, **DETAIL_ERRORS}),
)
class FrameworkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CatalogueViewSet):
    """Regional frameworks with their lots; POST …/uplift/ carries a year's ceilings into
    the next year."""

    serializer_class = FrameworkSerializer

    def get_queryset(self):
        lots = Prefetch("lots", queryset=FrameworkLot.objects.order_by("number", "pk"))
        return selectors.frameworks_for_list().prefetch_related(lots).order_by(
            "-start_date", "name", "pk"
        )

    @extend_schema(
        request=UpliftSerializer,
        responses={201: FrameworkRateSerializer(many=True), **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def uplift(self, request, pk=None):
        """Create every rate of from_year again for the next year at ceiling × (1 +
        percentage/100). Refused (409) when the next year already has rates."""
        framework = self.get_object()
        body = UpliftSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rates = catalogue.framework_apply_uplift(
            by=request.user, framework=framework, **body.validated_data
        )
        created = FrameworkRate.objects.filter(pk__in=[rate.pk for rate in rates]).order_by("pk")
        return Response(
            FrameworkRateSerializer(created, many=True).data, status=status.HTTP_201_CREATED
        )


class FrameworkRateInputSerializer(serializers.Serializer):
    framework = serializers.PrimaryKeyRelatedField(queryset=Framework.objects.all())
    lot = serializers.PrimaryKeyRelatedField(
        queryset=FrameworkLot.objects.all(), required=False, allow_null=True,
        help_text="The lot the ceiling is for. Give this or provider.",
    )
    provider = serializers.PrimaryKeyRelatedField(
        queryset=Provider.objects.all(), required=False, allow_null=True,
        help_text="The provider whose own ceiling this is. Give this or lot.",
    )
    placement_type = NamedChoiceField(PlacementType)
    financial_year = serializers.IntegerField(min_value=2000, max_value=2099)
    ceiling_weekly_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)

    def validate(self, data):
        if (data.get("lot") is None) == (data.get("provider") is None):
            raise serializers.ValidationError("Give either lot or provider, not both.")
        return data


class FrameworkRateCeilingSerializer(serializers.Serializer):
    ceiling_weekly_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


@extend_schema_view(
    list=extend_schema(responses={200: FrameworkRateSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: FrameworkRateSerializer, **DETAIL_ERRORS}),
    create=extend_schema(
        request=FrameworkRateInputSerializer,
        responses={201: FrameworkRateSerializer, **CREATE_ERRORS},
    ),
    partial_update=extend_schema(
        request=FrameworkRateCeilingSerializer,
        responses={200: FrameworkRateSerializer, **ACTION_ERRORS},
    ),
)
class FrameworkRateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CatalogueViewSet):
    """Ceiling weekly prices per lot or provider, placement type and financial year. POST
    adds a rate (409 if that rate exists); PATCH changes a rate's ceiling."""

    serializer_class = FrameworkRateSerializer
    filterset_class = selectors.FrameworkRateFilter

    def get_queryset(self):
        return FrameworkRate.objects.order_by(
            "framework", "-financial_year", "lot__number", "provider__name", "placement_type", "pk"
        )

    def create(self, request):
        body = FrameworkRateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rate = catalogue.framework_rate_set(by=request.user, only_new=True, **body.validated_data)
        return Response(FrameworkRateSerializer(rate).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        rate = self.get_object()
        body = FrameworkRateCeilingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rate = catalogue.framework_rate_set(
            by=request.user, framework=rate.framework, lot=rate.lot, provider=rate.provider,
            placement_type=rate.placement_type, financial_year=rate.financial_year,
            **body.validated_data,
        )
        return Response(FrameworkRateSerializer(rate).data)


# --- Discounts ---------------------------------------------------------------------------


class ProviderDiscountSerializer(serializers.ModelSerializer):
    basis = NamedChoiceField(ProviderDiscount.Basis)

    class Meta:
        model = ProviderDiscount
        fields = ["id", "provider", "basis", "description", "percentage", "valid_from",
                  "valid_to"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "percentage": {"min_value": 0, "max_value": 100},
            "valid_to": {"help_text": "The discount's last day; empty while it runs on."},
        }


@extend_schema_view(
    list=extend_schema(responses={200: ProviderDiscountSerializer(many=True), **LIST_ERRORS}),
    create=extend_schema(
        request=ProviderDiscountSerializer,
        responses={201: ProviderDiscountSerializer, **CREATE_ERRORS},
    ),
)
class ProviderDiscountViewSet(mixins.ListModelMixin, CatalogueViewSet):
    """Volume and duration discounts providers have agreed with the council."""

    serializer_class = ProviderDiscountSerializer
    filterset_fields = ["provider"]

    def get_queryset(self):
        return ProviderDiscount.objects.order_by("provider", "-valid_from", "pk")

    def create(self, request):
        body = ProviderDiscountSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        discount = catalogue.discount_create(
            by=request.user, provider=fields.pop("provider"), fields=fields
        )
        return Response(ProviderDiscountSerializer(discount).data, status=status.HTTP_201_CREATED)
