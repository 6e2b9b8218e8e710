"""(org_path, submitted_at, id) instead of (org_path, submitted_at): with the id in the index, a small area's
appeal list (a grid worker's) finds its page and counts its appeals from the index alone. Built
concurrently on PostgreSQL (``gongzhi.core.migration_ops``)."""

from django.db import migrations, models

from gongzhi.core.migration_ops import AddIndex, RemoveIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("appeals", "0004_fk_indexes_covered"),
    ]

    operations = [
        AddIndex(
            model_name="appeal",
            index=models.Index(fields=["org_path", "submitted_at", "id"], name="appeal_path_submitted_id"),
        ),
        RemoveIndex(model_name="appeal", name="appeal_path_submitted"),
    ]
