from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from core.models import Team, User


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "team", "is_active"]
    list_filter = ["groups", "team", "is_active"]
    list_select_related = ["team"]
    fieldsets = BaseUserAdmin.fieldsets + (("Work", {"fields": ["job_title", "team"]}),)


class ReadOnlyAdminMixin:
    """For workflow records: the admin may look, but every change goes through the
    services, which check permission, enforce the transitions and write history."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
