"""Audit trail: every write action records actor, action, object and changed fields in its own transaction."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction
from django.utils.text import capfirst

from .models import AuditEvent
from .pii import mask_id_number, mask_phone

# Field names whose values are personal data: masked in the audit trail, never stored plain.
_MASKERS = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "contact_phone": mask_phone,
}
_HIDDEN_SUFFIXES = ("_enc", "_hash")

# What each action code means in words, given by the app that records it (``describe`` from its
# AppConfig.ready): core knows no app's codes.
_ACTION_WORDS: dict[str, object] = {}
_CHANGE_WORDS: dict[str, dict[str, object]] = {}


def describe(action: str, label, *, changes: dict | None = None) -> None:
    """Give an audit action code the words the audit log shows for it (a lazy translation), and the words
    of the keys of its changes that are not fields of its object (counts, names of other things)."""
    _ACTION_WORDS[action] = label
    if changes:
        _CHANGE_WORDS.setdefault(action, {}).update(changes)


def change_label(action: str, key: str) -> str | None:
    """The words an app gave for a change key of this action, if any."""
    label = _CHANGE_WORDS.get(action, {}).get(key)
    return str(label) if label is not None else None


def action_label(action: str) -> str:
    """The action in the reader's language; the code itself where no app described it."""
    label = _ACTION_WORDS.get(action)
    return str(label) if label is not None else action


def type_label(object_type: str) -> str:
    """An object type ("orgs.resident") as its model's name in the reader's language ("居民")."""
    try:
        return str(capfirst(apps.get_model(object_type)._meta.verbose_name))
    except (LookupError, ValueError):
        return object_type


def object_label(event: AuditEvent) -> str:
    """The object as recorded (its string), else its type and number ("居民 #12")."""
    if event.object_repr:
        return event.object_repr
    if event.object_type or event.object_id:
        return f"{type_label(event.object_type)} #{event.object_id}".strip()
    return ""


def _plain(value):
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, decimal.Decimal)):
        return str(value)
    return value


def clean_changes(changes: dict) -> dict:
    """Drop ciphertexts and hashes, mask personal data, make values JSON-friendly."""
    out = {}
    for key, value in changes.items():
        if key.endswith(_HIDDEN_SUFFIXES):
            continue
        mask = _MASKERS.get(key)
        if isinstance(value, (list, tuple)) and len(value) == 2:
            old, new = value
            if mask:
                old, new = mask(old or ""), mask(new or "")
            out[key] = [_plain(old), _plain(new)]
        else:
            out[key] = mask(value or "") if mask else _plain(value)
    return out


def record(
    *, actor, action: str, obj=None, changes: dict | None = None, reason: str = "", org_path: str | None = None,
    object_type: str = "", object_id: str = "", object_repr: str = "",
) -> AuditEvent:
    """Write one audit row; must run inside the action's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the action's transaction")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        if org_path is None:
            org_path = getattr(obj, "org_path", "") or ""
    actor_ok = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if actor_ok else None,
        actor_name=(str(actor) if actor_ok else "system")[:150],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        org_path=org_path or "",
        changes=clean_changes(changes or {}),
        reason=reason,
    )


@dataclass(frozen=True)
class Subject:
    """What one row of ``record_many`` is about, when the objects themselves are not at hand."""

    object_type: str
    object_id: str
    object_repr: str = ""
    org_path: str = ""


def record_many(*, actor, action: str, subjects, changes: dict | None = None, reason: str = "",
                batch_size: int = 1000) -> int:
    """The batch form of ``record``: one audit row per subject (a model instance or a ``Subject``), all with
    the same actor, action, changes and reason, written in bulk. For actions over many objects at once (the
    deadline sweep escalating thousands, an import): same rows as ``record`` would write, in a few INSERTs.
    Must run inside the action's transaction. Returns how many rows were written."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record_many must run inside the action's transaction")
    actor_ok = actor is not None and getattr(actor, "is_authenticated", False)
    cleaned = clean_changes(changes or {})
    rows = []
    for s in subjects:
        if isinstance(s, models.Model):
            s = Subject(s._meta.label_lower, str(s.pk), str(s)[:200], getattr(s, "org_path", "") or "")
        rows.append(AuditEvent(
            actor=actor if actor_ok else None, actor_name=(str(actor) if actor_ok else "system")[:150],
            action=action, object_type=s.object_type, object_id=s.object_id, object_repr=s.object_repr[:200],
            org_path=s.org_path or "", changes=cleaned, reason=reason,
        ))
    AuditEvent.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields whose value changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def snapshot(obj, fields) -> dict:
    return {f: getattr(obj, f) for f in fields}
