from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from panels.models import AgendaItem, Decision, DirectorApproval, Panel, PanelMeeting


@admin.register(Panel)
class PanelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "weekday", "default_chair", "is_active"]
    list_select_related = ["default_chair"]
    filter_horizontal = ["members"]


class AgendaItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AgendaItem
    extra = 0
    raw_id_fields = ["referral", "placement"]


@admin.register(PanelMeeting)
class PanelMeetingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["panel", "date", "status", "chair"]
    list_filter = ["panel", "status"]
    list_select_related = ["panel", "chair"]
    inlines = [AgendaItemInline]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["agenda_item", "outcome", "decided_by", "decided_at"]
    list_filter = ["outcome"]
    raw_id_fields = ["agenda_item", "supersedes"]


@admin.register(DirectorApproval)
class DirectorApprovalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["referral", "status", "requested_at", "decided_by"]
    list_filter = ["status"]
    raw_id_fields = ["referral", "decision"]
