"""Create one group per role (core.roles.Role). Permissions are checked by the
services against roles, so the groups carry no Django model permissions."""

from django.db import migrations

ROLE_NAMES = [
    "social_worker",
    "team_manager",
    "panel_chair",
    "panel_member",
    "director",
    "commissioning_officer",
    "finance_manager",
    "administrator",
]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_NAMES).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, remove_roles)]
