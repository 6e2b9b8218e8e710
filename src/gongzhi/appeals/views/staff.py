"""Staff appeal pages: the scoped list with its filters, the work queues, the appeal page with the action forms."""

from __future__ import annotations

from html import escape
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.appeals.permissions import Perm
from gongzhi.core import pages
from gongzhi.core import process_cache
from gongzhi.orgs import selectors as org_selectors
from gongzhi.orgs.models import NodeKind, OrgNode, Unit

from .. import actions, policies, routing, selectors
from ..selectors import listing
from ..selectors.listing import place_label, spans_communities  # noqa: F401  (the queue pages label rows too)
from ..actions import ACTION_LABELS, TransitionError
from ..forms import (
    AppealFilterForm,
    CallbackForm,
    DecideForm,
    DispatchForm,
    ExtensionForm,
    MergeForm,
    NoteForm,
    ReasonForm,
    RequiredNoteForm,
    ResolveForm,
    VerifyForm,
)
from ..models import (
    Appeal,
    AppealEvent,
    AppealRequest,
    Category,
    Channel,
    DueState,
    Satisfaction,
    Status,
    response_overdue,
)

PAGE_SIZE = 25
# Lists count at most this many rows: "more than 200" (eight pages) is all a reader needs to narrow the
# filters. Counting further costs a scan proportional to the cap over a million appeals (30 ms at 1,000
# for a community's share on PostgreSQL); an exact total would scan them all.
COUNT_CAP = 200
QUEUE_PAGE_SIZE = 50
_IMAGE_TYPES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG", "image/png"), (b"GIF8", "image/gif"),
                (b"RIFF", "image/webp"))


def _labels(choices) -> dict:
    return {key: str(label) for key, label in choices}



def _category_tree(categories: list[Category]) -> list[dict]:
    """Categories in tree order with their depth, for selects and the admin list."""
    children: dict[int | None, list[Category]] = {}
    for c in categories:
        children.setdefault(c.parent_id, []).append(c)
    out: list[dict] = []

    def walk(parent_id, depth):
        for c in children.get(parent_id, []):
            out.append({"category": c, "depth": depth, "label": "\u3000" * depth + c.name})
            if depth < 10:  # a cycle typed by hand must not hang the page
                walk(c.pk, depth + 1)

    walk(None, 0)
    return out


# --- the list -----------------------------------------------------------------------------------


_ACTIVE = (Status.SUBMITTED, Status.DISPATCHED, Status.ACCEPTED)


def node_labeller(nodes, communities: bool):
    """``place_label`` for each of ``nodes`` (and only those): the grids and communities above them named
    from one query. Returns a function of a node."""
    step = OrgNode.steplen
    above = {n.path[:len(n.path) - step * k] for n in nodes if n.kind in (NodeKind.GRID, NodeKind.MICRO_GRID)
             for k in (1, 2) if len(n.path) > step * k}
    names = dict(OrgNode.objects.filter(path__in=above).values_list("path", "name")) if above else {}

    def label(n: OrgNode) -> str:
        parent, grand = names.get(n.path[:-step], ""), names.get(n.path[:-2 * step], "")
        if n.kind == NodeKind.MICRO_GRID:
            return place_label(n.kind, n.name, grand, parent, communities=communities)
        return place_label(n.kind, n.name, parent, communities=communities)

    return label


def _label_rows(rows: list[Appeal], communities: bool) -> None:
    """What a row of ``appeals/_table.html`` shows, for rows fetched with their category, nodes and handler
    (the queue pages); the list reads fewer columns and names its rows in its query (``_keyset_page``)."""
    _row_labels(rows)
    label = node_labeller([n for a in rows for n in (a.node, a.handler_node, a.owner_node) if n is not None],
                          communities)
    for a in rows:
        a.handler_label = str(a.handler_unit) if a.handler_unit else label(a.handler_node) if a.handler_node else ""
        a.category_name, a.place = a.category.name, label(a.node)
        a.owner_name = "" if a.handler_label else label(a.owner_node)


def _row_labels(rows) -> None:
    """Links, labels and local times worked out once per page in Python: a list is benchmarked at a million
    appeals, and template filters, get_FOO_display and url reversing per row cost more than the query."""
    statuses, dues, channels = _labels(Status.choices), _labels(DueState.choices), _labels(Channel.choices)
    tz = timezone.get_current_timezone()
    now = timezone.now()
    base = reverse("appeals:detail", args=[0])[:-2]
    for a in rows:
        a.response_late = response_overdue(a.status, a.responded_on_time, a.response_due, now)
        a.url = f"{base}{a.pk}/"
        a.status_label = statuses.get(a.status, a.status)
        late = a.status in _ACTIVE and a.due_state != DueState.NORMAL
        a.due_label = dues.get(a.due_state, a.due_state) if late else ""
        a.channel_label = channels.get(a.channel, a.channel)
        a.submitted_local = a.submitted_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        a.due_local = a.resolve_due.astimezone(tz).strftime("%m-%d %H:%M")


def _parts_html(label: str) -> str:
    """A ``place_label`` that breaks between its names, never inside one (a line never starts with "·")."""
    parts = label.split(" · ")
    return " ".join(f'<span class="nowrap">{escape(part)}{" ·" if i < len(parts) - 1 else ""}</span>'
                    for i, part in enumerate(parts))


def _rows_html(rows) -> str:
    """The rows of ``appeals/_table.html`` (labelled by ``_label_rows`` or ``_list_rows``), as one string
    built here with every value escaped: 25 rows of template variables cost more than the page's query."""
    labels = [escape(str(label)) for label in (
        _("Number"), _("Appeal"), _("Category"), _("Place"), _("Status"), _("Handled by"), _("Filed at"),
        _("Resolve by"))]
    number, title, category, place, status, handler, submitted, due = labels
    unconfirmed = escape(_("Holiday schedule not confirmed"))
    not_accepted = escape(_("not accepted in time"))
    out = []
    for a in rows:
        url, state = escape(a.url), escape(a.due_state)
        returned = (f' <span class="tag">{escape(_("returned %(n)s×") % {"n": a.return_count})}</span>'
                    if a.return_count else "")
        who = (_parts_html(a.handler_label) if a.handler_label
               else f'<span class="muted">{_parts_html(a.owner_name)}</span>')
        late = (f' <span class="due due-{state}" data-due="{state}">{escape(a.due_label)}</span>'
                if a.due_label else "")
        if a.response_late:
            late += f' <span class="due due-overdue" data-due="response">{not_accepted}</span>'
        if a.deadline_unconfirmed:
            late += (f' <span class="due-warn" data-testid="deadline-unconfirmed" title="{unconfirmed}">⚠'
                     f'<span class="sr-only">{unconfirmed}</span></span>')
        out.append(
            f'<tr data-appeal="{a.pk}" class="due-row-{state}">\n'
            f'    <td data-label="{number}" class="mono nowrap"><a href="{url}">{escape(a.number)}</a></td>\n'
            f'    <td data-label="{title}" class="title-cell"><a href="{url}" title="{escape(a.title)}">{escape(a.title)}</a> '
            f'<span class="muted small">{escape(a.channel_label)}</span>{returned}</td>\n'
            f'    <td data-label="{category}" class="nowrap">{escape(a.category_name)}</td>\n'
            f'    <td data-label="{place}" class="place-cell">{_parts_html(a.place)}</td>\n'
            f'    <td data-label="{status}" class="nowrap"><span class="status status-{escape(a.status)}">'
            f'{escape(a.status_label)}</span></td>\n'
            f'    <td data-label="{handler}" class="handler-cell">{who}</td>\n'
            f'    <td data-label="{submitted}" class="nowrap">{escape(a.submitted_local)}</td>\n'
            f'    <td data-label="{due}"><span class="nowrap">{escape(a.due_local)}</span>{late}</td>\n'
            f'  </tr>'
        )
    return mark_safe("".join(out))


@login_required
def appeal_list(request):
    """The scoped list with its filters: the form parsed here, the rows from ``selectors.listing``."""
    user = request.user
    pages.need(user, Perm.WORKBENCH)
    form = AppealFilterForm(request.GET or None)
    categories = [SimpleNamespace(pk=pk, name=name, parent_id=parent)  # in Category's order
                  for pk, name, parent, _code in listing.category_rows()]
    data = form.cleaned_data if form.is_valid() else {}
    full_page = not request.htmx or request.htmx.history_restore_request
    handler = data.get("handler") or ""
    handler_node = int(handler[1:]) if handler.startswith("n") else None
    wanted = {pk for pk in (data.get("node"), handler_node) if pk}
    area_options, picked = org_selectors.area_nodes(user, wanted, options=full_page, selected=data.get("node"))
    if any(pk not in picked for pk in wanted):
        raise Http404("not found")
    node = picked.get(data["node"]) if data.get("node") else None
    query = listing.ListQuery(
        queue="act" if data.get("mine") else "", node=node,
        handler_path=picked[handler_node].path if handler_node else "",
        handler_unit_id=int(handler[1:]) if handler.startswith("u") else None,
        status=data.get("status") or "", due_state=data.get("due") or "", channel=data.get("channel") or "",
        category_ids=listing.category_subtree(pk=data["category"]) if data.get("category") else None,
        date_from=data.get("date_from"), date_to=data.get("date_to"), text=data.get("q", ""),
    )
    page_no = request.GET.get("page", "1")
    page_no = int(page_no) if page_no.isdigit() and int(page_no) > 0 else 1
    found = listing.page(
        user, query, size=PAGE_SIZE, cap=COUNT_CAP,
        after=pages.time_cursor(request.GET.get("after")), before=pages.time_cursor(request.GET.get("before")),
    )
    if not found.has_prev:
        page_no = 1
    rows = found.rows
    names = listing.category_names()
    for row in rows:
        row.category_name = names.get(row.category_id, "")
    _row_labels(rows)
    total, more = found.count(COUNT_CAP)
    context = {
        "form": form, "node": node, "rows": rows, "rows_html": _rows_html(rows), "page_no": page_no,
        "has_prev": found.has_prev, "has_next": found.has_next,
        "first_cursor": pages.time_cursor_of(rows[0].submitted_at, rows[0].pk) if rows else "",
        "last_cursor": pages.time_cursor_of(rows[-1].submitted_at, rows[-1].pk) if rows else "",
        "total": total, "more": more,
    }
    if full_page:
        # Plain option lists: the form's widget templates cost more than the queries here.
        units = process_cache.get(process_cache.scope_key(user, "units"), lambda: list(
            org_selectors.units(user).order_by("kind", "name").values_list("pk", "name")))
        context["node_options"] = pages.options_html(area_options, str(node.pk) if node else "")
        context["handler_node_options"] = pages.options_html(((f"n{pk}", label) for pk, label in area_options), handler)
        context["unit_options"] = pages.options_html(((f"u{pk}", name) for pk, name in units), handler)
        context["category_options"] = pages.options_html(
            ((c["category"].pk, c["label"]) for c in _category_tree(categories)), str(data.get("category") or "")
        )
        context["tabs"] = queue_tabs(user)
        more = ("status", "due", "category", "channel", "node", "handler", "date_from", "date_to")
        context["more_filters"] = any(request.GET.get(name) for name in more)  # open on a phone when in use
        context["choice_filters"] = [
            {"name": name, "label": form.fields[name].label,
             "options": pages.options_html(form.fields[name].choices[1:], request.GET.get(name, ""))}
            for name in ("status", "due", "channel")
        ]
    return pages.partial_or_page(request, "appeals/list.html", "table", context)


# --- queues -------------------------------------------------------------------------------------


def _may_handle(user) -> bool:
    return bool(policies.handle_paths(user) or policies.unit_ids(user))


QUEUES = [
    ("dispatch", gettext_lazy("To dispatch"), lambda u: u.can(Perm.APPEALS_DISPATCH), selectors.to_dispatch),
    ("handle", gettext_lazy("To handle"), _may_handle, selectors.to_handle),
    ("verify", gettext_lazy("To check and close"), lambda u: u.can(Perm.APPEALS_DISPATCH), selectors.to_verify),
    ("requests", gettext_lazy("Requests to decide"),
     lambda u: u.can(Perm.APPEALS_DISPATCH) or u.can(Perm.APPEALS_SUPERVISE), selectors.requests_to_decide),
]


def queue_tabs(user, counts: bool = False) -> list[dict]:
    """The queues the user has, for the tabs above the lists; counted (capped) on the queue pages only."""
    return [
        {"kind": k, "label": label,
         "count": fetch(user).order_by().values("id")[: COUNT_CAP + 1].count() if counts else None}
        for k, label, may, fetch in QUEUES if may(user)
    ]


@login_required
def queue(request, kind=None):
    user = request.user
    current = next((q for q in QUEUES if q[0] == kind), None)
    if kind is not None and current is None:
        raise Http404("no such queue")
    mine = [q for q in QUEUES if q[2](user)]
    if not mine:
        raise PermissionDenied
    if kind is None:
        # The first queue with work in it, else the first the user has.
        first = next((k for k, _label, _may, fetch in mine if fetch(user).order_by().exists()), mine[0][0])
        return redirect("appeals:queue", kind=first)
    if current not in mine:
        raise PermissionDenied
    tabs = queue_tabs(user, counts=True)
    qs = current[3](user)
    if kind == "requests":
        qs = qs.order_by("requested_at", "id")
    else:
        qs = qs.order_by("resolve_due", "id")  # the most urgent first
    page = pages.offset_page(request, qs, QUEUE_PAGE_SIZE)
    if kind != "requests":
        _label_rows(page["rows"], spans_communities(user))
        page["rows_html"] = _rows_html(page["rows"])
    return render(request, "appeals/queue.html", {
        "kind": kind, "title": current[1], "tabs": tabs, "page": page, "cap": COUNT_CAP,
    })


# --- the appeal page ----------------------------------------------------------------------------


def _node_label_map(nodes: list[OrgNode]) -> dict[str, str]:
    """"community › grid" labels from names along the path (only the nodes given are named)."""
    names: dict[str, str] = {}
    for n in sorted(nodes, key=lambda n: n.path):
        parent = next((names[n.path[:i]] for i in range(len(n.path) - OrgNode.steplen, 0, -OrgNode.steplen)
                       if n.path[:i] in names), "")
        names[n.path] = f"{parent} › {n.name}" if parent else n.name
    return names


def dispatch_targets(appeal: Appeal, route: routing.Route) -> list[tuple[str, str]]:
    """Where the appeal may be dispatched (``policies.dispatch_target_nodes`` / ``_units``: its community and
    everything in it, its subdistrict, the departments and partner units serving it) and always the routing
    suggestion, as select options. The same for every dispatcher: a county administrator sees more of the
    tree, not more places to send one appeal."""
    area = policies.dispatch_area(appeal)
    nodes = list(policies.dispatch_target_nodes(appeal, area).order_by("path"))
    if route.node is not None and all(n.pk != route.node.pk for n in nodes):
        nodes.append(route.node)
    labels = _node_label_map(nodes)
    kind_labels = _labels(NodeKind.choices)
    options = [(f"n{n.pk}", f"{labels[n.path]} ({kind_labels.get(n.kind, n.kind)})") for n in nodes]
    units = list(policies.dispatch_target_units(appeal, area).order_by("kind", "name"))
    if route.unit is not None and all(u.pk != route.unit.pk for u in units):
        units.append(route.unit)
    options += [(f"u{u.pk}", f"{u.name} ({u.get_kind_display()})") for u in units]
    return options


def _attributes(appeal: Appeal) -> list[dict]:
    """The answers to the category's form fields, with the list values' names."""
    out, seen = [], set()
    for field in appeal.category.form_fields or []:
        code = field.get("code")
        if code not in appeal.attributes:
            continue
        seen.add(code)
        value = appeal.attributes[code]
        names = {str(v.get("key")): v.get("name") for v in field.get("values", [])}
        if isinstance(value, list):
            value = "、".join(str(names.get(str(v), v)) for v in value)
        else:
            value = names.get(str(value), value)
        out.append({"label": field.get("description") or code, "value": value})
    out += [{"label": k, "value": v} for k, v in appeal.attributes.items() if k not in seen]
    return out


# The action forms of the appeal page: the policy's actions but the resident's own rating (their phone pages).
PAGE_ACTIONS = tuple(a for a in policies.ACTIONS if a != "rate")


def available(user, appeal: Appeal, requests) -> dict[str, bool]:
    """The action forms this user may use on the appeal now: ``policies.allowed_actions``."""
    allowed = set(policies.allowed_actions(user, appeal, requests))
    return {action: action in allowed for action in PAGE_ACTIONS}


def _fresh_forms(appeal: Appeal, can: dict, targets, route) -> dict:
    seen = {"seen": appeal.status}
    dispatch = None
    if can["dispatch"] and route is not None:
        suggestion = f"u{route.unit.pk}" if route.unit else (f"n{route.node.pk}" if route.node else "")
        dispatch = DispatchForm(initial={**seen, "target": suggestion}, targets=targets)
    return {
        "dispatch": dispatch,
        "accept": NoteForm(initial=seen, prefix="accept"),
        "return": ReasonForm(initial=seen, prefix="return"),
        "extension_request": ExtensionForm(initial=seen, prefix="ext"),
        "resolve": ResolveForm(initial=seen, prefix="resolve"),
        "verify": VerifyForm(initial=seen, prefix="verify"),
        "close": NoteForm(initial=seen, prefix="close"),
        "callback": CallbackForm(initial=seen, prefix="callback"),
        "reopen": ReasonForm(initial=seen, prefix="reopen"),
        "void_request": ReasonForm(initial=seen, prefix="void"),
        "supervise": RequiredNoteForm(initial=seen, prefix="supervise"),
        "merge": MergeForm(initial=seen, prefix="merge"),
    }


def _timeline(appeal: Appeal) -> list[AppealEvent]:
    statuses = _labels(Status.choices)
    satisfactions = _labels(Satisfaction.choices)
    events = list(appeal.events.prefetch_related("photos").select_related("actor"))
    for e in events:
        e.label = ACTION_LABELS.get(e.kind, e.kind)
        e.to_label = statuses.get(e.to_status, e.to_status)
        e.changed = e.from_status and e.from_status != e.to_status
        e.satisfaction_label = satisfactions.get(e.data.get("satisfaction"), "")
    return events


def _who_labels(user, appeal: Appeal) -> dict:
    """The first receiver and the handling node, told from their namesakes as the lists tell them."""
    label = node_labeller([n for n in (appeal.owner_node, appeal.handler_node) if n is not None],
                          spans_communities(user))
    return {"owner_label": label(appeal.owner_node),
            "handler_node_label": label(appeal.handler_node) if appeal.handler_node else ""}


def _map_points(user, appeal: Appeal) -> list[dict]:
    """The named points drawn around the appeal's own on its small map (no tiles reach us): the grids and
    micro-grids of its community that the user sees and that have coordinates. [] without a point."""
    if appeal.lat is None or appeal.lng is None:
        return []
    community = routing.community_of(appeal.node)
    if community is None:
        return []
    rows = (org_selectors.nodes(user)
            .filter(path__startswith=community.path, kind__in=(NodeKind.GRID, NodeKind.MICRO_GRID),
                    lng__isnull=False, lat__isnull=False)
            .order_by("path").values_list("name", "kind", "lng", "lat")[:200])
    return [{"name": name, "kind": kind, "lng": lng, "lat": lat} for name, kind, lng, lat in rows]


def detail_context(request, appeal: Appeal) -> dict:
    user = request.user
    requests = list(appeal.requests.select_related("requested_by", "decided_by").order_by("requested_at", "id"))
    can = available(user, appeal, requests)
    route = routing.route(appeal.node, appeal.category) if can["dispatch"] else None
    targets = dispatch_targets(appeal, route) if route else []
    duplicates = []
    if can["merge"]:
        # The same place is the same node: the reporter's household need not be where the problem is.
        found = selectors.possible_duplicates(
            node=appeal.node, category=appeal.category, text=f"{appeal.title} {appeal.description}",
            exclude=appeal.pk,
        )
        duplicates = [(a, round(score * 100)) for a, score in found if policies.can_dispatch(user, a)]
    reporter = appeal.reporter
    events = _timeline(appeal)
    appeal.due_label = DueState(appeal.due_state).label
    context = {
        "appeal": appeal,
        "status_label": Status(appeal.status).label,
        "response_late": response_overdue(appeal.status, appeal.responded_on_time, appeal.response_due, timezone.now()),
        "channel_label": Channel(appeal.channel).label if appeal.channel in Channel.values else appeal.channel,
        "satisfaction_label": Satisfaction(appeal.satisfaction).label if appeal.satisfaction else "",
        "attributes": _attributes(appeal),
        "events": events,
        # Photos sent with the appeal; a handler's photos show with the step they belong to.
        "photos": [p for p in appeal.photos.select_related("event") if p.event is None or p.event.kind == "file"],
        "place": " › ".join([n.name for n in org_selectors.node_ancestors(appeal.node)[1:]] + [appeal.node.name]),
        "map_points": _map_points(user, appeal),
        **_who_labels(user, appeal),
        "requests": requests,
        "ledger": [e for e in events if e.data.get("ledger") and e.kind in ("return", "reopen")],
        "followers": list(appeal.followers.select_related("user", "resident", "from_appeal")),
        "merged_here": list(
            selectors.appeals(user).filter(merged_into=appeal).select_related(None).only("id", "number", "title")
        ),
        "reporter_link": reporter is not None and user.can(Perm.REGISTRY_VIEW, reporter.org_path),
        "can": can,
        "any_action": any(can.values()),
        # Verified and theirs to close, but the resident's word is awaited: until when (policies.may_close_now).
        "close_waits_until": policies.close_waits_until(appeal) if (
            appeal.status == Status.VERIFIED and not can["close"] and policies.can_close(user, appeal)) else None,
        "route": route,
        "duplicates": duplicates,
        "forms": _fresh_forms(appeal, can, targets, route) if any(can.values()) else {},
        "pending_extension": next((r for r in requests if r.state == "pending" and r.kind == "extension"), None),
        "pending_void": next((r for r in requests if r.state == "pending" and r.kind == "void"), None),
        "now": timezone.now(),
    }
    return context


def _render_detail(request, appeal: Appeal, *, failed: tuple[str, object] | None = None, flash: str = ""):
    context = detail_context(request, appeal)
    if failed is not None:
        action, form = failed
        context["failed"] = action
        errors = [str(e) for e in form.non_field_errors()]
        if context["can"].get(action) and context["forms"].get(action) is not None:
            # The form is still offered: its field errors show beside the fields, the refusal once at the top.
            form.errors.pop("__all__", None)
            context["forms"][action] = form
            errors = errors or [_("Check the form below.")]
        else:
            errors += [f"{form[name].label}: {e}" for name, errs in form.errors.items() if name != "__all__"
                       for e in errs]
        context["errors"] = errors
    context["flash"] = flash
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "appeals/detail.html#body", context)
    return render(request, "appeals/detail.html", context)


@login_required
def appeal_detail(request, pk):
    pages.need(request.user, Perm.WORKBENCH)
    appeal = selectors.appeal_get(request.user, pk)
    if not policies.sees_whole(request.user, appeal):  # staff who only follow it, as a resident: its public part
        return redirect("appeals:m_detail", pk=appeal.pk)
    return _render_detail(request, appeal)


@login_required
def photo(request, pk, photo_pk):
    """A photo of an appeal the user may see. The type comes from the file's first bytes, never its name."""
    appeal = selectors.appeal_get(request.user, pk)
    item = appeal.photos.filter(pk=photo_pk).first() if policies.sees_whole(request.user, appeal) else None
    if item is None:
        raise Http404("not found")
    handle = item.image.open("rb")
    head = handle.read(12)
    handle.seek(0)
    kind = next((t for magic, t in _IMAGE_TYPES if head.startswith(magic)), "application/octet-stream")
    response = FileResponse(handle, content_type=kind)
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- the action forms ---------------------------------------------------------------------------


def _target(user, appeal: Appeal, value: str):
    """The dispatch target picked from the select: ("n<id>" an org node, "u<id>" a unit)."""
    # The form only accepts values from dispatch_targets(), so the id is one the user may pick.
    pk = int(value[1:])
    if value.startswith("u"):
        return None, Unit.objects.get(pk=pk)
    return OrgNode.objects.get(pk=pk), None


def _run_dispatch(request, appeal, data):
    to_node, to_unit = _target(request.user, appeal, data["target"])
    actions.appeal_dispatch(appeal=appeal, by=request.user, to_node=to_node, to_unit=to_unit, note=data["note"])
    return _("Dispatched to %(who)s.") % {"who": to_unit or to_node}


def _run_merge(request, appeal, data):
    into = selectors.appeal_get(request.user, data["into"])
    actions.appeal_merge(appeal=appeal, into=into, by=request.user, note=data["note"])
    return _("Merged into %(number)s.") % {"number": into.number}


def _decide(kind):
    def run(request, appeal, data):
        req = appeal.requests.filter(pk=data["request"], kind=kind).first()
        if req is None:
            raise ValidationError(_("This request does not exist any more."))
        decide = actions.extension_decide if kind == AppealRequest.Kind.EXTENSION else actions.void_decide
        decide(request=req, by=request.user, approve=data["approve"], note=data["note"])
        return _("Approved.") if data["approve"] else _("Rejected.")
    return run


def _run_accept(request, appeal, data):
    actions.appeal_accept(appeal=appeal, by=request.user, note=data["note"])
    return _("You accepted this appeal.")


def _run_return(request, appeal, data):
    actions.appeal_return(appeal=appeal, by=request.user, reason=data["reason"])
    return _("Returned to the dispatcher.")


def _run_extension_request(request, appeal, data):
    actions.extension_request(appeal=appeal, by=request.user, days=data["days"], reason=data["reason"])
    return _("More time was asked for; the dispatcher decides.")


def _run_resolve(request, appeal, data):
    actions.appeal_resolve(appeal=appeal, by=request.user, result=data["result"], photos=data["photos"])
    return _("Resolved: the dispatcher will check it.")


def _run_verify(request, appeal, data):
    actions.appeal_verify(appeal=appeal, by=request.user, ok=data["ok"], note=data["note"])
    return _("Verified.") if data["ok"] else _("Sent back to the handler.")


def _run_close(request, appeal, data):
    actions.appeal_close(appeal=appeal, by=request.user, note=data["note"])
    return _("Closed.")


def _run_callback(request, appeal, data):
    actions.appeal_rate(appeal=appeal, by=request.user, resolved=data["resolved"],
                        satisfaction=data["satisfaction"], comment=data["comment"], callback=True)
    return _("The callback was recorded.")


def _run_reopen(request, appeal, data):
    actions.appeal_reopen(appeal=appeal, by=request.user, reason=data["reason"])
    return _("Reopened for the same handler.")


def _run_void_request(request, appeal, data):
    actions.void_request(appeal=appeal, by=request.user, reason=data["reason"])
    return _("Voiding was asked for; a supervisor decides.")


def _run_supervise(request, appeal, data):
    actions.appeal_supervise(appeal=appeal, by=request.user, note=data["note"])
    return _("Supervision recorded; the handler is told.")


# action -> (form, form prefix on the page, what runs it)
_ACTIONS = {
    "dispatch": (DispatchForm, "", _run_dispatch),
    "merge": (MergeForm, "merge", _run_merge),
    "accept": (NoteForm, "accept", _run_accept),
    "return": (ReasonForm, "return", _run_return),
    "extension_request": (ExtensionForm, "ext", _run_extension_request),
    "resolve": (ResolveForm, "resolve", _run_resolve),
    "verify": (VerifyForm, "verify", _run_verify),
    "close": (NoteForm, "close", _run_close),
    "callback": (CallbackForm, "callback", _run_callback),
    "reopen": (ReasonForm, "reopen", _run_reopen),
    "void_request": (ReasonForm, "void", _run_void_request),
    "supervise": (RequiredNoteForm, "supervise", _run_supervise),
    "extension_decide": (DecideForm, "", _decide(AppealRequest.Kind.EXTENSION)),
    "void_decide": (DecideForm, "", _decide(AppealRequest.Kind.VOID)),
}


def _next_url(request) -> str | None:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return None


@login_required
@require_POST
def appeal_act(request, pk, action):
    """One action from the appeal page: the form is checked, the action called (atomic: on a refusal
    nothing is written), and the page shown again with the outcome or the reason for the refusal."""
    user = request.user
    pages.need(user, Perm.WORKBENCH)
    appeal = selectors.appeal_get(user, pk)
    if action not in _ACTIONS:
        raise Http404("no such action")
    form_class, prefix, run = _ACTIONS[action]
    kwargs = {"prefix": prefix or None}
    if form_class is DispatchForm:
        kwargs["targets"] = dispatch_targets(appeal, routing.route(appeal.node, appeal.category))
    form = form_class(request.POST, request.FILES, **kwargs)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if "seen" in data and data["seen"] != appeal.status:
                raise TransitionError(actions.stale_message(appeal))
            message = run(request, appeal, data)
        except (ValidationError, PermissionDenied) as exc:
            pages.form_errors(form, exc)
        else:
            back = _next_url(request)
            if back:
                messages.success(request, message)
                return redirect(back)
            if request.htmx:
                return _render_detail(request, selectors.appeal_get(user, pk), flash=message)
            messages.success(request, message)
            return redirect("appeals:detail", pk=pk)
    back = _next_url(request)
    if back and form.errors:
        for error in form.non_field_errors() or [_("Check the form.")]:
            messages.error(request, error)
        return redirect(back)
    # The action may have changed the instance before it failed: show what the database holds.
    return _render_detail(request, selectors.appeal_get(user, pk), failed=(action, form))

