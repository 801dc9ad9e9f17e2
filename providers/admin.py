from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from providers.models import (
    Framework,
    FrameworkLot,
    FrameworkMembership,
    FrameworkRate,
    NegotiationStep,
    PostcodeDistrict,
    Provider,
    ProviderDiscount,
    Quote,
    Service,
    ServiceNeed,
    ServicePlacementType,
    ServiceRiskExclusion,
    SourcingInvitation,
    SourcingRequest,
)


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0
    fields = ["name", "ofsted_urn", "ofsted_rating", "postcode", "places", "vacancies"]
    show_change_link = True


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "place_provider", "is_active"]
    list_filter = ["kind", "place_provider", "is_active"]
    search_fields = ["name"]
    inlines = [ServiceInline]


class ServicePlacementTypeInline(admin.TabularInline):
    model = ServicePlacementType
    extra = 0


class ServiceNeedInline(admin.TabularInline):
    model = ServiceNeed
    extra = 0


class ServiceRiskExclusionInline(admin.TabularInline):
    model = ServiceRiskExclusion
    extra = 0


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "ofsted_urn", "ofsted_rating", "postcode", "vacancies"]
    list_filter = ["ofsted_rating", "provider__kind"]
    list_select_related = ["provider"]
    search_fields = ["name", "ofsted_urn", "provider__name", "postcode"]
    inlines = [ServicePlacementTypeInline, ServiceNeedInline, ServiceRiskExclusionInline]


class FrameworkLotInline(admin.TabularInline):
    model = FrameworkLot
    extra = 0


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ["name", "lead_authority", "start_date", "end_date"]
    inlines = [FrameworkLotInline]


@admin.register(FrameworkMembership)
class FrameworkMembershipAdmin(admin.ModelAdmin):
    list_display = ["framework", "lot", "provider", "start_date", "end_date"]
    list_filter = ["framework"]
    list_select_related = ["framework", "lot", "provider"]
    search_fields = ["provider__name"]


@admin.register(FrameworkRate)
class FrameworkRateAdmin(admin.ModelAdmin):
    list_display = ["framework", "lot", "provider", "placement_type", "financial_year",
                    "ceiling_weekly_price"]
    list_filter = ["framework", "financial_year", "placement_type"]
    list_select_related = ["framework", "lot", "provider"]


@admin.register(ProviderDiscount)
class ProviderDiscountAdmin(admin.ModelAdmin):
    list_display = ["provider", "basis", "percentage", "valid_from", "valid_to"]
    list_select_related = ["provider"]


class SourcingInvitationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SourcingInvitation
    extra = 0
    raw_id_fields = ["service"]


@admin.register(SourcingRequest)
class SourcingRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["reference", "status", "placement_type", "urgency", "response_deadline"]
    list_filter = ["status", "urgency"]
    search_fields = ["reference"]
    inlines = [SourcingInvitationInline]


class NegotiationStepInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = NegotiationStep
    extra = 0


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "sourcing_request", "service", "status", "quoted_weekly_price",
                    "agreed_weekly_price"]
    list_filter = ["status"]
    list_select_related = ["sourcing_request", "service", "service__provider"]
    raw_id_fields = ["service", "sourcing_request"]
    inlines = [NegotiationStepInline]


@admin.register(PostcodeDistrict)
class PostcodeDistrictAdmin(admin.ModelAdmin):
    list_display = ["outward_code", "latitude", "longitude"]
    search_fields = ["outward_code"]
