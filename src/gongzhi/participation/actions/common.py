"""What every participation action shares: the actor as stored, free text as accepted, the community of a
place, and one step written to an object's timeline and the audit log together."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit
from gongzhi.core.text import TextError, clean_block, clean_line
from gongzhi.orgs.models import OrgNode

from .. import policies


def who(by):
    """The account to store as the actor; None for the system (the demo, imports)."""
    return by if getattr(by, "is_authenticated", False) else None


def text(value: str, field: str, *, block: bool = False, required: bool = False, most: int | None = None) -> str:
    """Free text as ``core.text`` accepts it (one line, or several with ``block``), refused on ``field`` with the
    reason when it is missing or too long."""
    try:
        value = clean_block(value or "") if block else clean_line(value or "")
    except TextError as exc:
        raise ValidationError({field: str(exc)}) from None
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if most is not None and len(value) > most:
        raise ValidationError({field: _("At most %(n)s characters.") % {"n": most}})
    return value


def community_of(node: OrgNode) -> OrgNode:
    community = policies.community_of_path(node.path)
    if community is None:
        raise ValidationError({"node": _("A wish belongs to a place inside a community.")})
    return community


def record_step(obj, step_model, kind: str, by, *, from_status: str, note: str = "", **changes):
    """The step on ``obj``'s timeline (``step_model``: its ``Step`` model, whose foreign key to ``obj`` is named
    after ``obj``'s model) and its audit row (``<model>.<kind>``, e.g. ``wish.claim``), both naming the actor."""
    name = obj._meta.model_name
    label = {"serviceorder": "order"}.get(name, name)
    actor = who(by)
    step = step_model.objects.create(
        **{label: obj}, at=timezone.now(), actor=actor, actor_name=str(by)[:150] if actor else "system", kind=kind,
        from_status=from_status, to_status=obj.status, note=note,
    )
    audit.record(actor=actor, action=f"{label}.{kind}", obj=obj,
                 changes={"status": obj.status, **({"note": note} if note else {}), **changes})
    return step
