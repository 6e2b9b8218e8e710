"""The audit log and the health check."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import connection
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


from gongzhi.core.workdays import day_start
from gongzhi.core.access import Perm

from .forms import DateField
from .audit import action_label, change_label, object_label, type_label
from .models import AuditEvent
from .scoping import scoped
from .text import LineField

AUDIT_PAGE_SIZE = 50
# Audit keys that are not fields of the object's model: personal data (stored as *_masked) and tag lists.
_CHANGE_LABELS = {"id_number": _("ID number"), "phone": _("Phone"), "care_groups": _("Care groups")}
_CHANGE_CHOICES = {"care_groups": ("orgs.CareTag", "group")}


class AuditFilterForm(forms.Form):
    actor = LineField(label=_("Actor (user name)"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False)
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    date_from = DateField(label=pgettext_lazy("date range", "From"), required=False)
    date_to = DateField(label=pgettext_lazy("date range", "To"), required=False)
    reason = LineField(label=_("Reason contains"), required=False, max_length=100)

    def __init__(self, *args, actions=(), object_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The codes behind the words the reader picks, in the order of the words.
        self.fields["action"].choices = [("", _("Any"))] + _worded(actions, action_label)
        self.fields["object_type"].choices = [("", _("Any"))] + _worded(object_types, type_label)


def _worded(codes, label) -> list[tuple[str, str]]:
    return sorted(((code, label(code)) for code in codes), key=lambda pair: (pair[1], pair[0]))



def _audit_filter(qs, data: dict):
    if data.get("actor"):
        qs = qs.filter(Q(actor__username__iexact=data["actor"]) | Q(actor_name__icontains=data["actor"]))
    if data.get("action"):
        qs = qs.filter(action=data["action"])
    if data.get("object_type"):
        qs = qs.filter(object_type=data["object_type"])
    if data.get("date_from"):
        qs = qs.filter(at__gte=day_start(data["date_from"]))
    if data.get("date_to"):
        qs = qs.filter(at__lt=day_start(data["date_to"] + dt.timedelta(days=1)))
    if data.get("reason"):
        qs = qs.filter(reason__icontains=data["reason"])
    return qs


@login_required
def audit(request):
    """The audit trail of the user's area: who changed or revealed what, newest first."""
    user = request.user
    if not user.can(Perm.AUDIT_VIEW):
        raise PermissionDenied
    events = scoped(AuditEvent.objects.all(), user, Perm.AUDIT_VIEW)
    distinct = events.order_by()
    form = AuditFilterForm(
        request.GET or None,
        actions=sorted(distinct.values_list("action", flat=True).distinct()),
        object_types=sorted(distinct.exclude(object_type="").values_list("object_type", flat=True).distinct()),
    )
    if form.is_valid():
        events = _audit_filter(events, form.cleaned_data)
    page = request.GET.get("page", "1")
    number = int(page) if page.isdigit() and int(page) > 0 else 1
    start = (number - 1) * AUDIT_PAGE_SIZE
    rows = list(events.select_related("actor").order_by("-at", "-id")[start: start + AUDIT_PAGE_SIZE + 1])
    for event in rows:
        event.change_rows = _change_rows(event.changes, event.object_type, event.action)
        event.action_label = action_label(event.action)
        event.object_label = object_label(event)
        event.type_label = type_label(event.object_type) if event.object_repr and event.object_type else ""
    return render(request, "core/audit.html", {
        "form": form, "rows": rows[:AUDIT_PAGE_SIZE], "number": number,
        "has_prev": number > 1, "has_next": len(rows) > AUDIT_PAGE_SIZE,
    })


def _field(model_label: str, name: str):
    try:
        return apps.get_model(model_label)._meta.get_field(name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return None


def _change_label(object_type: str, key: str, action: str = "") -> tuple[str, dict]:
    """A change key as the reader's words (what the recording app called it, else the field's verbose
    name) and its choice labels, if any: the audit trail stores field names and choice values, which are code."""
    field = _field(object_type, key) if object_type else None
    if key in _CHANGE_CHOICES:
        field = _field(*_CHANGE_CHOICES[key])
    if field is not None and not hasattr(field, "verbose_name"):
        # A reverse relation (an org node's "households"): the audit holds a count of the related objects.
        label = change_label(action, key) or _CHANGE_LABELS.get(key) or capfirst(field.related_model._meta.verbose_name_plural)
        return str(label), {}
    label = change_label(action, key) or _CHANGE_LABELS.get(key) or getattr(field, "verbose_name", None) or key
    if field is not None and field.is_relation and not isinstance(field.verbose_name, Promise):
        label = field.related_model._meta.verbose_name  # a plain str is the name Django made up: untranslated
    choices = {str(k): v for k, v in field.flatchoices} if getattr(field, "choices", None) else {}
    return str(capfirst(label)), choices


def _change_rows(changes, object_type: str = "", action: str = "") -> list[tuple[str, str]]:
    """Changes as (field, "old → new" or value) pairs; personal data in them is already masked."""
    if not isinstance(changes, dict):
        return [("", str(changes))]
    out = []
    for key, value in changes.items():
        label, choices = _change_label(object_type, key, action)
        if isinstance(value, list) and len(value) == 2:
            out.append((label, f"{_text(value[0], choices)} → {_text(value[1], choices)}"))
        else:
            out.append((label, _text(value, choices)))
    return out


def _text(value, choices: dict | None = None) -> str:
    if value is None or value == "":
        return "∅"
    if isinstance(value, (list, tuple)):
        return "、".join(_text(v, choices) for v in value) or "∅"
    if choices and str(value) in choices:
        return str(choices[str(value)])
    return str(value)


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
