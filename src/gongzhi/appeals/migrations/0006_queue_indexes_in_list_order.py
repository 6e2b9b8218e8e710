"""The queue indexes with the list's order after path and status, (owner_path | handler_path, status,
submitted_at, id): the staff list's "only mine to act on" finds its page and counts its appeals from the
index alone. Built before the old ones are dropped, concurrently on PostgreSQL (``gongzhi.core.migration_ops``)."""

from django.db import migrations, models

from gongzhi.core.migration_ops import AddIndex, RemoveIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("appeals", "0005_path_submitted_id"),
    ]

    operations = [
        AddIndex(
            model_name="appeal",
            index=models.Index(fields=["handler_path", "status", "submitted_at", "id"], name="appeal_handler_queue"),
        ),
        AddIndex(
            model_name="appeal",
            index=models.Index(fields=["owner_path", "status", "submitted_at", "id"], name="appeal_owner_queue"),
        ),
        RemoveIndex(model_name="appeal", name="appeal_handler_status"),
        RemoveIndex(model_name="appeal", name="appeal_owner_status"),
    ]
