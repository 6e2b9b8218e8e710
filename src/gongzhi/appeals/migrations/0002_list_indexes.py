"""Indexes for the staff appeal list at a million appeals.

- (submitted_at, id): the list's keyset order, newest first; a page is an ordered index scan that stops
  after 26 rows instead of sorting the user's whole area.
- PostgreSQL: trigram indexes on title and description, so "words in the title or description" does not
  scan every appeal (pg_trgm, as for household addresses in orgs 0003; without it the search still works,
  only slower; nothing to do on SQLite).
"""

from django.db import migrations, models, transaction


def trigram_forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic():
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # no privilege: leave the plain indexes
        return
    for column in ("title", "description"):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS appeal_{column}_trgm ON appeals_appeal USING gin ({column} gin_trgm_ops)"
        )


def trigram_backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in ("title", "description"):
            schema_editor.execute(f"DROP INDEX IF EXISTS appeal_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("appeals", "0001_initial")]
    operations = [
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(fields=["submitted_at", "id"], name="appeal_submitted_id"),
        ),
        migrations.RunPython(trigram_forwards, trigram_backwards),
    ]
