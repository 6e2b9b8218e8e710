"""(birth_date, org_path) in place of the birth date's own index: an age range within an area is one range of
the index with the place checked on its entries. The new index is built concurrently on PostgreSQL
(``gongzhi.core.migration_ops``) before the old one goes."""

from django.conf import settings
from django.db import migrations, models

from gongzhi.core.migration_ops import AddIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orgs", "0005_list_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndex(
            model_name="resident",
            index=models.Index(fields=["birth_date", "org_path"], name="resident_birth_path"),
        ),
        migrations.AlterField(
            model_name="resident",
            name="birth_date",
            field=models.DateField(verbose_name="birth date"),
        ),
    ]
