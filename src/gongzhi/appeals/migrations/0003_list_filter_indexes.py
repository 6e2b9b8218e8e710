"""Indexes for the staff appeal list's filters at a million appeals (see ``Appeal.Meta.indexes``).

- (submitted_at, id, org_path) instead of (submitted_at, id): the list's order with the place as the last key,
  so a scan in list order passes over appeals outside the user's area on the index entries alone;
- the same led by status (not closed), deadline state (not on time), channel, category and handling unit;
- the cross-area expression (handler or first receiver not the place's node nor above it), whose statistics
  tell the planner how few appeals a user sees outside their area.

On PostgreSQL the indexes are built CONCURRENTLY, without blocking writes to the appeals table while they
build, and the table is analysed afterwards, since the planner has no statistics on a new index expression
until then. Other databases get the plain operations.
"""

import django.db.models.functions.text
from django.db import migrations, models

from gongzhi.core.migration_ops import AddIndex, RemoveIndex, analyze


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("appeals", "0002_list_indexes"),
    ]

    operations = [
        AddIndex(
            model_name="appeal",
            index=models.Index(fields=["submitted_at", "id", "org_path"], name="appeal_submitted_path"),
        ),
        RemoveIndex(
            model_name="appeal",
            name="appeal_submitted_id",
        ),
        AddIndex(
            model_name="appeal",
            index=models.Index(
                condition=models.Q(("status", "closed"), _negated=True),
                fields=["status", "submitted_at", "id", "org_path"],
                name="appeal_status_submitted",
            ),
        ),
        AddIndex(
            model_name="appeal",
            index=models.Index(
                condition=models.Q(("due_state", "normal"), _negated=True),
                fields=["due_state", "submitted_at", "id", "org_path"],
                name="appeal_due_submitted",
            ),
        ),
        AddIndex(
            model_name="appeal",
            index=models.Index(fields=["channel", "submitted_at", "id", "org_path"], name="appeal_channel_submitted"),
        ),
        AddIndex(
            model_name="appeal",
            index=models.Index(fields=["category", "submitted_at", "id", "org_path"], name="appeal_category_submitted"),
        ),
        AddIndex(
            model_name="appeal",
            index=models.Index(
                condition=models.Q(("handler_unit__isnull", False)),
                fields=["handler_unit", "submitted_at", "id", "org_path"],
                name="appeal_unit_submitted",
            ),
        ),
        AddIndex(
            model_name="appeal",
            index=models.Index(
                models.Case(
                    models.When(
                        models.Q(
                            models.Q(
                                ("handler_path", django.db.models.functions.text.Left(
                                    "org_path", django.db.models.functions.text.Length("handler_path"))),
                                _negated=True,
                            ),
                            models.Q(
                                ("owner_path", django.db.models.functions.text.Left(
                                    "org_path", django.db.models.functions.text.Length("owner_path"))),
                                _negated=True,
                            ),
                            _connector="OR",
                        ),
                        then=models.Value(1),
                    ),
                    default=models.Value(0),
                    output_field=models.IntegerField(),
                ),
                name="appeal_cross_area",
            ),
        ),
        migrations.RunPython(analyze("appeals_appeal"), migrations.RunPython.noop, elidable=True),
    ]
