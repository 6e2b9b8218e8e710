"""Registry export to xlsx: the import template's columns (with each resident's 记录编号) plus gender and age,
streamed write-only.

ID numbers and phones are masked (the stored masks) and the birth date left out unless the exporter may
reveal them over the node and gives a reason; every export leaves one audit row. Either export can be
uploaded again as it is: the 记录编号 matches each row with its resident, and a masked cell keeps the
number on record.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.orgs.permissions import Perm
from gongzhi.core import audit, excel
from gongzhi.core.pii import decrypt
from gongzhi.core.scoping import scoped, under

from .imports import (
    AGE_HEADER,
    BIRTH_HEADER,
    CARE_LABELS,
    COLUMNS,
    GENDER_HEADER,
    GENDER_LABELS,
    NO,
    RELATION_LABELS,
    RESIDENCY_LABELS,
    SHEET,
    YES,
)
from .models import CareTag, NodeKind, OrgNode, Resident

_FIELDS = (
    "id", "household__grid_id", "household__micro_grid_id", "household__address", "household__compound__name",
    "household__building__name", "household__entrance__name", "household__room", "name", "id_number_masked",
    "phone_masked", "id_number_enc", "phone_enc", "relation", "residency", "ethnicity", "is_party_member", "gender",
    "birth_date",
)


def grid_labels(node: OrgNode) -> dict[int, str]:
    """What the 网格编码 column says for each grid and micro-grid under ``node``: its code, else its
    name path from the top of the tree (which the import accepts)."""
    step = OrgNode.steplen
    above = [node.path[:i] for i in range(step, len(node.path), step)]
    rows = OrgNode.objects.filter(Q(path__in=above) | under(node.path, "path")).values("id", "path", "name", "kind", "code")
    names = {r["path"]: r["name"] for r in rows}
    labels = {}
    for r in rows:
        if r["kind"] in (NodeKind.GRID, NodeKind.MICRO_GRID):
            chain = [names.get(r["path"][:i], "") for i in range(step, len(r["path"]) + 1, step)]
            labels[r["id"]] = r["code"].strip() or "/".join(chain)
    return labels


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def registry_export(*, by, node: OrgNode, reveal: bool = False, reason: str = "") -> tuple[str, int, str]:
    """Write the residents under ``node`` to a temporary xlsx; returns (path, count, download name).

    Full ID numbers and phones only with ``pii.reveal`` over the node and a reason: that export is
    recorded as one ``pii.reveal.export`` audit row; a masked one as ``registry.export``.
    """
    if by is None or not by.can(Perm.REGISTRY_EXPORT, node.path):
        raise PermissionDenied(_("You may not export records outside your area."))
    reason = (reason or "").strip()
    if reveal:
        if not by.can(Perm.PII_REVEAL, node.path):
            raise PermissionDenied(_("Your role may not see full personal data."))
        if len(reason) < 2:
            raise ValidationError(_("Say why you need full ID numbers and phones."))

    labels = grid_labels(node)
    care = defaultdict(list)
    order = {group: i for i, group in enumerate(CARE_LABELS)}
    for resident_id, group in CareTag.objects.filter(under(node.path)).values_list("resident_id", "group"):
        care[resident_id].append(group)
    people = (
        scoped(Resident.objects.filter(under(node.path)), by, Perm.REGISTRY_EXPORT)
        .order_by("household__address", "household_id", "id").values_list(*_FIELDS)
    )
    today = timezone.localdate()
    book = excel.workbook(write_only=True)
    extra = [GENDER_HEADER, BIRTH_HEADER, AGE_HEADER] if reveal else [GENDER_HEADER, AGE_HEADER]
    ws = excel.write_only_sheet(book, SHEET, [c.header for c in COLUMNS] + extra,
                                widths=[c.width for c in COLUMNS] + ([6, 12, 6] if reveal else [6, 6]))
    count = 0
    for (rid, grid_id, micro_grid_id, address, compound, building, entrance, room, name, id_masked, phone_masked,
         id_enc, phone_enc, relation, residency, ethnicity, party, gender, birth) in people.iterator(chunk_size=2000):
        groups = sorted(care.get(rid, ()), key=lambda g: order.get(g, 99))
        values = {
            "grid": labels.get(micro_grid_id or grid_id, ""), "address": address, "compound": compound or "",
            "building": building or "", "entrance": entrance or "", "room": room, "name": name,
            "id_number": decrypt(id_enc) if reveal else id_masked, "phone": decrypt(phone_enc) if reveal else phone_masked,
            "relation": RELATION_LABELS.get(relation, relation), "residency": RESIDENCY_LABELS.get(residency, residency),
            "ethnicity": ethnicity, "party": YES if party else NO,
            "care_groups": "、".join(CARE_LABELS.get(g, g) for g in groups), "record": rid,
        }
        born = [birth.isoformat()] if reveal else []  # the masked export tells the age only
        ws.append([values[c.key] for c in COLUMNS] + [GENDER_LABELS.get(gender, gender), *born, _age(birth, today)])
        count += 1
    handle = tempfile.NamedTemporaryFile(prefix="gongzhi-export-", suffix=".xlsx", delete=False)
    handle.close()
    book.save(handle.name)

    with transaction.atomic():
        audit.record(
            actor=by, action="pii.reveal.export" if reveal else "registry.export", obj=node, reason=reason,
            changes={"node": str(node), "count": count, "full_personal_data": bool(reveal)},
        )
    filename = f"居民名册-{node.name}-{today:%Y%m%d}.xlsx"
    return handle.name, count, filename
