"""ID numbers kept masked in audit rows (``changes["id_number"]``, a value or an [old, new] pair) masked again
with the current ``pii.mask_id_number``: the old mask kept the last four characters, the sequence and check
character that let the number be rebuilt from the resident's age (docs/adr/0002). The new mask keeps a part of
what the old one showed, so it is made from the stored mask; nothing is decrypted."""

from django.db import migrations, transaction

from gongzhi.core.pii import mask_id_number

BATCH = 2000


def _remask(value):
    if isinstance(value, list):
        return [_remask(v) for v in value]
    return mask_id_number(value) if isinstance(value, str) else value


def remask_audit(apps, schema_editor):
    AuditEvent = apps.get_model("core", "AuditEvent")
    db = schema_editor.connection.alias
    rows = AuditEvent.objects.using(db).filter(changes__has_key="id_number")
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last).order_by("pk").only("pk", "changes")[:BATCH])
        if not batch:
            return
        last = batch[-1].pk
        changed = []
        for event in batch:
            new = _remask(event.changes["id_number"])
            if new != event.changes["id_number"]:
                event.changes["id_number"] = new
                changed.append(event)
        if changed:
            with transaction.atomic(using=db):
                AuditEvent.objects.using(db).bulk_update(changed, ["changes"])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("core", "0004_periodicjob"),
    ]

    operations = [
        migrations.RunPython(remask_audit, migrations.RunPython.noop, elidable=True),
    ]
