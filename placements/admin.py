"""Administration views of the casework. Referrals are read-only here: they change only
through placements.services, which checks permission and writes history. Placements and
their costs stay editable until their own services arrive (the money issue)."""

from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from placements.models import (
    BudgetAdjustment,
    BudgetLine,
    BudgetLineRule,
    Child,
    Contribution,
    FinancialYear,
    Placement,
    PlacementCost,
    Referral,
    ReferralRisk,
    ReferralStatusChange,
)


@admin.register(Child)
class ChildAdmin(admin.ModelAdmin):
    list_display = ["local_child_id", "first_name", "last_name", "team", "social_worker"]
    list_filter = ["team", "legal_status"]
    list_select_related = ["team", "social_worker"]
    search_fields = ["local_child_id", "last_name"]
    raw_id_fields = ["social_worker"]


class ReferralRiskInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReferralRisk
    extra = 0


class ReferralStatusChangeInline(admin.TabularInline):
    model = ReferralStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "by", "at", "reason"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "child", "status", "is_emergency", "placement_type_sought",
                    "wanted_start_date"]
    list_filter = ["status", "is_emergency", "urgency"]
    list_select_related = ["child"]
    search_fields = ["child__local_child_id"]
    readonly_fields = ["status"]
    raw_id_fields = ["child", "created_by", "siblings"]
    inlines = [ReferralRiskInline, ReferralStatusChangeInline]


class PlacementCostInline(admin.TabularInline):
    model = PlacementCost
    extra = 0
    raw_id_fields = ["created_by"]


class ContributionInline(admin.TabularInline):
    model = Contribution
    extra = 0


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin):
    list_display = ["pk", "child", "service", "placement_type", "start_date", "end_date"]
    list_filter = ["placement_type", "place_provider", "on_framework", "out_of_authority"]
    list_select_related = ["child", "service", "service__provider"]
    search_fields = ["child__local_child_id", "service__name"]
    raw_id_fields = ["child", "referral", "service", "quote", "created_by"]
    inlines = [PlacementCostInline, ContributionInline]


admin.site.register(FinancialYear)


class BudgetLineRuleInline(admin.TabularInline):
    model = BudgetLineRule
    extra = 0


@admin.register(BudgetLine)
class BudgetLineAdmin(admin.ModelAdmin):
    list_display = ["name", "financial_year", "amount"]
    list_filter = ["financial_year"]
    list_select_related = ["financial_year"]
    inlines = [BudgetLineRuleInline]


@admin.register(BudgetAdjustment)
class BudgetAdjustmentAdmin(admin.ModelAdmin):
    list_display = ["budget_line", "previous_amount", "new_amount", "by", "at"]
    list_select_related = ["budget_line", "by"]
