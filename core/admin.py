from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from core import outbox
from core.models import AuditEvent, PendingTask, Team, User
from core.roles import Role, has_role


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


def administrator_only(user) -> bool:
    return user.is_active and user.is_staff and (
        user.is_superuser or has_role(user, Role.ADMINISTRATOR)
    )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit log, searchable by child, user, action and date. Nobody can add, change
    or delete an event here (nor anywhere else in the application)."""

    list_display = ["at", "actor", "action", "object_type", "object_id", "child_id"]
    list_filter = ["action", ("at", admin.DateFieldListFilter)]
    date_hierarchy = "at"
    # "=" for ids: an exact child or record number, not a substring of one.
    search_fields = ["=child_id", "=object_id", "actor__username", "action"]
    search_help_text = "Child number, record number, username or action."
    list_select_related = ["actor"]
    fields = ["at", "actor", "action", "object_type", "object_id", "child_id", "changes", "reason"]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return administrator_only(request.user)

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(PendingTask)
class PendingTaskAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Tasks recorded and not yet done, such as e-mails waiting for a worker: a row that
    stays here has failed (its error's class is shown) or waits for the broker."""

    list_display = ["pk", "task", "created_at", "failures", "last_error", "last_tried_at"]
    actions = ["retry"]
    list_filter = ["task", "last_error"]
    fields = ["task", "kwargs", "created_at", "failures", "last_error", "last_tried_at"]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return administrator_only(request.user)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    @admin.action(description="Try the selected set-aside tasks again")
    def retry(self, request, queryset):
        count = outbox.retry(by=request.user, pks=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} set-aside task(s) will be tried at the next sweep, "
                                   f"within 5 minutes.")
