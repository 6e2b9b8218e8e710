"""Partial indexes of the appeals waiting on someone, status first, then the path and the list's order:
the queues and the staff list's "only mine to act on" seek each status's entries in an area and read a
page and its count from the index alone. Built concurrently on PostgreSQL (``gongzhi.core.migration_ops``)."""

from django.db import migrations, models

from gongzhi.core.migration_ops import AddIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("appeals", "0005_path_submitted_id"),
    ]

    operations = [
        AddIndex(
            model_name="appeal",
            index=models.Index(condition=models.Q(("status__in", ["submitted", "resolved", "verified"])),
                               fields=["status", "owner_path", "submitted_at", "id"], name="appeal_owned_waiting"),
        ),
        AddIndex(
            model_name="appeal",
            index=models.Index(condition=models.Q(("status__in", ["dispatched", "accepted"])),
                               fields=["status", "handler_path", "submitted_at", "id"], name="appeal_handled_waiting"),
        ),
    ]
