"""What notices, robot messages and e-mails say, per occasion; rendered in the site's language
(zh-hans) when they are made, since they are stored and sent, not shown once."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.appeals import public
from gongzhi.appeals.models import Appeal
from gongzhi.core.pii import mask_free_text

from .channels import Message

# Occasions told to staff (the handling unit, dispatchers, supervisors) and to the reporter.
STAFF_KINDS = ("dispatch", "return", "reopen", "supervise", "due_soon", "overdue", "escalate")
REPORTER_KINDS = ("resolve", "close")


def base_url() -> str:
    return getattr(settings, "GONGZHI_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def appeal_url(appeal_id: int, *, resident: bool = False) -> str:
    """The appeal's page: the resident's phone page or the staff page."""
    return reverse("appeals:m_detail" if resident else "appeals:detail", args=[appeal_id])


def deadline(appeal: Appeal) -> str:
    text = timezone.localtime(appeal.resolve_due).strftime("%Y-%m-%d %H:%M")
    if appeal.deadline_unconfirmed:
        text += " " + _("(holidays not confirmed yet)")
    return text


def handler_label(appeal: Appeal) -> str:
    handler = appeal.handler_unit or appeal.handler_node
    return str(handler) if handler else _("%(owner)s (not dispatched yet)") % {"owner": appeal.owner_node}


@dataclass
class Text:
    title: str
    body: str


def notice_text(kind: str, appeal: Appeal, *, note: str = "", place: str = "") -> Text:
    """The in-app notice (and e-mail) for ``kind``. The reporter's notices also go to followers, other residents:
    phone and ID numbers in the title and the result are masked there (``core.pii.mask_free_text``)."""
    ctx = {"number": appeal.number, "title": appeal.title, "place": place, "category": appeal.category.name,
           "due": deadline(appeal), "handler": handler_label(appeal), "note": note, "result": appeal.result}
    if kind in REPORTER_KINDS:
        ctx["title"], ctx["result"] = public.title(appeal), mask_free_text(appeal.result)
    if kind == "resolve":
        return Text(_("The problem you reported has been resolved"),
                    _("%(title)s: %(result)s Please tell us how it was handled.") % ctx)
    if kind == "close":
        return Text(_("The problem you reported is closed"), _("%(title)s: %(result)s") % ctx)
    titles = {
        "dispatch": _("New appeal to handle: %(number)s %(title)s"),
        "return": _("Appeal returned: %(number)s %(title)s"),
        "reopen": _("Appeal reopened: %(number)s %(title)s"),
        "supervise": _("Appeal supervised: %(number)s %(title)s"),
        "due_soon": _("Appeal due soon: %(number)s %(title)s"),
        "overdue": _("Appeal overdue: %(number)s %(title)s"),
        "escalate": _("Overdue appeal escalated to you: %(number)s %(title)s"),
    }
    bodies = {
        "dispatch": _("%(place)s · %(category)s · resolve by %(due)s"),
        "return": _("Returned by the handling unit: %(note)s"),
        "reopen": _("Reopened: %(note)s Resolve by %(due)s."),
        "supervise": _("Supervision note: %(note)s Resolve by %(due)s."),
        "due_soon": _("%(place)s · resolve by %(due)s"),
        "overdue": _("%(place)s · it was due %(due)s"),
        "escalate": _("%(place)s · handled by %(handler)s · it was due %(due)s"),
    }
    return Text(titles[kind] % ctx, bodies[kind] % ctx)


def robot_message(kind: str, appeal: Appeal, *, note: str = "", place: str = "") -> Message:
    """The group-robot message for ``kind`` (dispatch, due_soon, overdue, supervise)."""
    heads = {
        "dispatch": _("New appeal dispatched"),
        "due_soon": _("Appeal due soon"),
        "overdue": _("Appeal overdue"),
        "supervise": _("Appeal supervised"),
    }
    lines = [
        (_("Number"), appeal.number),
        (_("Title"), appeal.title),
        (_("Place"), place),
        (_("Category"), appeal.category.name),
        (_("Handled by"), handler_label(appeal)),
        (_("Resolve by"), deadline(appeal)),
    ]
    if note:
        lines.append((_("Note"), note))
    return Message(title=f"{heads[kind]} {appeal.number}", lines=lines,
                   link=base_url() + appeal_url(appeal.pk), link_text=_("Open the appeal"))


def test_message(endpoint_name: str) -> Message:
    return Message(
        title=_("Gongzhi test message"),
        lines=[(_("Robot"), endpoint_name), (_("Sent at"), timezone.localtime().strftime("%Y-%m-%d %H:%M"))],
        link=base_url() + "/", link_text=_("Open Gongzhi"),
    )
