"""What notices, robot messages and e-mails say, per occasion. Robot messages and e-mails are rendered in
the site's language (zh-hans) when they are made, since they are sent once; an in-app notice keeps its
occasion and the facts it names (``notice_params``) and is said again in each reader's language when shown
(``notice_shown``), its stored title and body being the site's words for old rows and searches."""

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


def _deadline(due: str, unconfirmed: bool) -> str:
    return f"{due} {_('(holidays not confirmed yet)')}" if unconfirmed else due


def deadline(appeal: Appeal) -> str:
    return _deadline(timezone.localtime(appeal.resolve_due).strftime("%Y-%m-%d %H:%M"), appeal.deadline_unconfirmed)


def _handler(handler: str, owner: str) -> str:
    return handler or _("%(owner)s (not dispatched yet)") % {"owner": owner}


def handler_label(appeal: Appeal) -> str:
    handler = appeal.handler_unit or appeal.handler_node
    return _handler(str(handler) if handler else "", str(appeal.owner_node))


@dataclass
class Text:
    title: str
    body: str


def notice_params(kind: str, appeal: Appeal, *, note: str = "", place: str = "") -> dict:
    """The facts a notice names, kept with it (JSON) so that it can be said in any language."""
    handler = appeal.handler_unit or appeal.handler_node
    params = {
        "number": appeal.number, "title": appeal.title, "place": place, "category": appeal.category.name,
        "due": timezone.localtime(appeal.resolve_due).strftime("%Y-%m-%d %H:%M"),
        "unconfirmed": bool(appeal.deadline_unconfirmed), "handler": str(handler) if handler else "",
        "owner": str(appeal.owner_node), "note": note, "result": appeal.result,
    }
    if kind in REPORTER_KINDS:
        # The reporter's notices also go to followers, other residents: phone and ID numbers in the title and
        # the result are masked there (``core.pii.mask_free_text``).
        params["title"], params["result"] = public.title(appeal), mask_free_text(appeal.result)
    return params


def render_notice(kind: str, params: dict) -> Text:
    """The notice for ``kind`` in the current language."""
    ctx = {key: params.get(key, "") for key in ("number", "title", "place", "category", "note", "result")}
    ctx["due"] = _deadline(params.get("due", ""), params.get("unconfirmed", False))
    ctx["handler"] = _handler(params.get("handler", ""), params.get("owner", ""))
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


def notice_text(kind: str, appeal: Appeal, *, note: str = "", place: str = "") -> Text:
    """The in-app notice (and e-mail) for ``kind``, in the current language."""
    return render_notice(kind, notice_params(kind, appeal, note=note, place=place))


def notice_shown(notice) -> Text:
    """A stored notice as its reader reads it: said again in the current language from its facts; an old
    notice without them (or of an occasion this code no longer knows) as it was stored."""
    if notice.params and (notice.kind in STAFF_KINDS or notice.kind in REPORTER_KINDS):
        return render_notice(notice.kind, notice.params)
    return Text(notice.title, notice.body)


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
