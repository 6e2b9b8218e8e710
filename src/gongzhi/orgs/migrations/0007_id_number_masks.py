"""The stored masks recomputed with the current ``core.pii`` mask functions: an ID-number mask no longer keeps
the last four characters (sequence and check character), which with the birth date or age shown beside it
let anyone rebuild the number (docs/adr/0002, "What a mask may show").

The full values are decrypted a batch at a time (ordered by id, so any batch costs the same) and only the rows
whose masks change are written, a transaction per batch: a migration stopped half way is simply run again."""

from django.db import migrations, transaction

from gongzhi.core.pii import decrypt, mask_id_number, mask_phone

BATCH = 2000


def recompute_masks(apps, schema_editor):
    Resident = apps.get_model("orgs", "Resident")
    db = schema_editor.connection.alias
    last = 0
    while True:
        rows = list(
            Resident.objects.using(db).filter(pk__gt=last).order_by("pk")
            .values_list("pk", "id_number_enc", "phone_enc", "id_number_masked", "phone_masked")[:BATCH]
        )
        if not rows:
            return
        last = rows[-1][0]
        changed = []
        for pk, id_enc, phone_enc, id_masked, phone_masked in rows:
            new_id, new_phone = mask_id_number(decrypt(id_enc)), mask_phone(decrypt(phone_enc))
            if (new_id, new_phone) != (id_masked, phone_masked):
                changed.append(Resident(pk=pk, id_number_masked=new_id, phone_masked=new_phone))
        if changed:
            with transaction.atomic(using=db):
                Resident.objects.using(db).bulk_update(changed, ["id_number_masked", "phone_masked"])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orgs", "0006_birth_date_with_place"),
    ]

    operations = [
        # Backwards: the new masks stay (they show less; the old ones are not wanted back).
        migrations.RunPython(recompute_masks, migrations.RunPython.noop, elidable=True),
    ]
