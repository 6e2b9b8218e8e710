"""PostgreSQL: a trigram index so "part of a house address" searches do not scan every household.

pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it. Where it
cannot be created, the search still works, only slower; nothing to do on SQLite.
"""

from django.db import migrations, transaction


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic():
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # no privilege: leave the plain indexes
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS household_address_trgm ON orgs_household USING gin (address gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS household_address_trgm")


class Migration(migrations.Migration):
    dependencies = [("orgs", "0002_household_micro_grid")]
    operations = [migrations.RunPython(forwards, backwards)]
