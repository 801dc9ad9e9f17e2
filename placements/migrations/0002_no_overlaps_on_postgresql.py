"""On PostgreSQL, let the database refuse overlapping periods outright, so that two
concurrent requests cannot both win: one child's placements, and one placement's cost
rows. Periods are half-open [start, end): a placement may start on the day the previous
one ended. SQLite has no exclusion constraints; there the services' checks (run inside a
transaction that SQLite serialises) and the one-open-placement unique constraint hold."""

from django.db import migrations

CONSTRAINTS = [
    (
        "placements_placement",
        "placement_no_overlap_per_child",
        "EXCLUDE USING gist (child_id WITH =, "
        "daterange(start_date, end_date, '[)') WITH &&)",
    ),
    (
        "placements_placementcost",
        "placement_cost_no_overlap",
        "EXCLUDE USING gist (placement_id WITH =, daterange(effective_from, effective_to, '[)') WITH &&)",
    ),
]


def add_exclusion_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for table, name, definition in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def drop_exclusion_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _definition in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("placements", "0001_initial")]

    operations = [migrations.RunPython(add_exclusion_constraints, drop_exclusion_constraints)]
