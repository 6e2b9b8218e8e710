"""The paged appeal list that the staff page (``views.staff.appeal_list``) and the API (``GET /api/v1/appeals``)
share: which appeals (``ListQuery``, always inside what the user sees), in which order (newest first, keyset
paging on ``(submitted_at, id)``, the order of the list's indexes), counted up to a cap, and the rows with
the names of their places and handlers, read in one query.

Every list is benchmarked at a million appeals (``gongzhi bench appeals``): the page, its count and the
names it shows are one statement, each part of what the user sees walks its own index in list order (a
UNION ALL of disjoint arms on PostgreSQL), and the rows are tuples made into namespaces, not model
instances. ADR 0004 says why this read is SQL written here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import reduce
from operator import or_
from types import SimpleNamespace

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from gongzhi.appeals.permissions import Perm
from gongzhi.core import process_cache
from gongzhi.core.access import ROLE_PERMS
from gongzhi.core.scoping import under
from gongzhi.core.workdays import day_start
from gongzhi.orgs.models import NodeKind, OrgNode, Resident, Unit

from .. import policies, public
from ..models import Appeal, AppealFollower, Category
from . import _own_q, compiled, queue_parts, to_act_parts, visibility_arms_sql, whole_q

# What a row of the staff list shows (and its cursor): nothing else is read.
PAGE_FIELDS = (
    "id", "number", "title", "category_id", "channel", "status", "due_state", "node_id", "owner_node_id",
    "handler_node_id", "handler_unit_id", "submitted_at", "response_due", "responded_on_time", "resolve_due",
    "deadline_unconfirmed", "return_count",
)
# What an item of the API's list holds.
API_FIELDS = PAGE_FIELDS + (
    "address", "household_id", "description", "dispatched_at", "accepted_at", "resolved_at", "closed_at",
    "satisfaction", "reopen_count", "supervise_count", "extension_count",
)
_TIMES = ("submitted_at", "response_due", "resolve_due", "dispatched_at", "accepted_at", "resolved_at", "closed_at")

# The work queues the API names, as disjoint conditions each of which an index answers (see ``to_act_parts``).
QUEUES = ("dispatch", "handle", "verify", "mine")


@dataclasses.dataclass(frozen=True)
class ListQuery:
    """Which appeals, inside what the user sees. Nodes are ones the caller has already found in the user's area
    (``orgs.selectors``): an id out of scope never reaches here."""

    queue: str = ""  # "": everything the user sees; "act": what waits on them; or one of QUEUES
    node: OrgNode | None = None  # placed under this node
    handler_path: str = ""  # handled by a node under this path (the page) ...
    handler_node_id: int | None = None  # ... or by this node (the API)
    handler_unit_id: int | None = None
    status: str = ""
    due_state: str = ""
    channel: str = ""
    category_ids: frozenset[int] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    text: str = ""


@dataclasses.dataclass
class ListPage:
    rows: list[SimpleNamespace]
    has_prev: bool
    has_next: bool
    found: int  # counted up to the cap + 1

    def count(self, cap: int) -> tuple[int, bool]:
        """(the count as shown, whether it stopped at ``cap``)."""
        return min(self.found, cap), self.found > cap


# --- categories, as the lists name and filter them -------------------------------------------------------------


def category_rows() -> list[tuple]:
    """(id, name, parent_id, code) of every category in Category's order, kept a while per process
    (``core.process_cache``; a change to a category clears it)."""
    return process_cache.get("categories", lambda: list(
        Category.objects.values_list("id", "name", "parent_id", "code")))


def category_names() -> dict[int, str]:
    return {pk: name for pk, name, _parent, _code in category_rows()}


def category_codes() -> dict[int, str]:
    return {pk: code for pk, _name, _parent, code in category_rows()}


def category_subtree(*, pk: int | None = None, code: str = "") -> frozenset[int]:
    """The category (by id or code) and every category below it; empty for one that does not exist."""
    rows = category_rows()
    top = pk if pk is not None else next((i for i, _name, _parent, c in rows if c == code), None)
    if top is None or top not in {i for i, *_ in rows}:
        return frozenset()
    found, grew = {top}, True
    while grew:
        more = {i for i, _name, parent, _code in rows if parent in found} - found
        found |= more
        grew = bool(more)
    return frozenset(found)


# --- which appeals ----------------------------------------------------------------------------------------------


def _text_q(user, text: str) -> Q:
    """An appeal number (8 digits or more) is matched exactly, an index lookup; other text inside the title or
    description, of appeals the user sees whole (``policies.sees_whole``): not of those they only follow, whose
    public part masks phone and ID numbers (a search would tell the masked digits one by one)."""
    if text.isdigit() and len(text) >= 8:
        return Q(number=text)
    followed = AppealFollower.objects.filter(user=user).order_by().values("appeal_id")
    # contains, not icontains: UPPER() over every description read costs 40 times more, and Chinese has no case
    words = Q(title__contains=text) | Q(description__contains=text)
    return words & ~Q(Q(id__in=followed), ~whole_q(user))


def conditions(user, query: ListQuery) -> list[Q]:
    """The filters of ``query`` as conditions on appeals (beside the arms of what the user sees)."""
    where = []
    if query.node is not None:
        where.append(under(query.node.path))
    if query.handler_path:
        where.append(under(query.handler_path, "handler_path"))
    if query.handler_node_id is not None:
        where.append(Q(handler_node_id=query.handler_node_id))
    if query.handler_unit_id is not None:
        where.append(Q(handler_unit_id=query.handler_unit_id))
    for field in ("status", "due_state", "channel"):
        if getattr(query, field):
            where.append(Q(**{field: getattr(query, field)}))
    if query.category_ids is not None:
        where.append(Q(category_id__in=sorted(query.category_ids)))
    if query.date_from:
        where.append(Q(submitted_at__gte=day_start(query.date_from)))
    if query.date_to:
        where.append(Q(submitted_at__lt=day_start(query.date_to + dt.timedelta(days=1))))
    if query.text.strip():
        where.append(_text_q(user, query.text.strip()))
    return where


def _queue_arms(user, queue: str) -> list:
    """Disjoint conditions for a work queue, each status on its own, so each seeks a partial index."""
    if queue == "act":
        return to_act_parts(user)
    if queue == "mine":
        return [_own_q(user)]
    return queue_parts(user, queue)


def arms(user, query: ListQuery) -> list:
    """What the user sees (or the queue asked for), as disjoint conditions, each walked in list order."""
    if query.queue:
        found = _queue_arms(user, query.queue)
    elif query.node is not None and any(query.node.path.startswith(p) for p in user.paths_with(Perm.APPEALS_VIEW)):
        # An area inside the user's own: they see all of it, so the area filter alone says which appeals (one
        # range, which PostgreSQL estimates well, instead of the user's area and this one inside it).
        found = [Q()]
    else:
        found = visibility_arms_sql(user)
    if len(found) > 1 and not connection.features.supports_slicing_ordering_in_compound:
        # SQLite cannot order and cut the parts of a UNION: one query with their OR gives the same rows there.
        found = [reduce(or_, (Q(arm) for arm in found))]
    return found


# --- the page --------------------------------------------------------------------------------------------------


def _first(parts, n: int, order: tuple[str, ...]):
    """The first ``n`` rows in ``order`` of the union of ``parts`` (querysets of disjoint rows): each part
    ordered and cut on its own, so each walks its own index, then merged (a UNION ALL of the parts)."""
    parts = [p.order_by(*order)[:n] for p in parts]
    if len(parts) == 1:
        return parts[0]
    return parts[0].union(*parts[1:], all=True).order_by(*order)[:n]


def _walk(parts, *, after, before, n):
    """The first ``n`` rows of ``parts`` after (older than) or before (newer than) a cursor, in walking order."""
    if before:
        at, pk = before
        walk = [p.filter(submitted_at__gte=at).filter(Q(submitted_at__gt=at) | Q(id__gt=pk)) for p in parts]
    else:
        at, pk = after
        walk = [p.filter(submitted_at__lte=at).filter(Q(submitted_at__lt=at) | Q(id__lt=pk)) for p in parts]
    return _first(walk, n, ("submitted_at", "id") if before else ("-submitted_at", "-id"))


def _newest_found(fields, n: int, offset: int = 0) -> str:
    """SQL for ``fields`` of the newest ``n`` rows in ``found`` (after ``offset``): ordered and cut on ids and
    times first, then only those rows read from the table."""
    qn = connection.ops.quote_name
    columns = ", ".join(f"a.{qn(Appeal._meta.get_field(name).column)}" for name in fields)
    return (f"SELECT {columns} FROM (SELECT id, submitted_at FROM found "
            f"ORDER BY submitted_at DESC, id DESC LIMIT {int(n)} OFFSET {int(offset)}) newest "
            f"JOIN {qn(Appeal._meta.db_table)} a ON a.id = newest.id")


def _found(parts, cap: int):
    """The ids and times of the newest ``cap + 1`` rows of ``parts``: what the list counts."""
    return _first([p.values("id", "submitted_at") for p in parts], cap + 1, ("-submitted_at", "-id"))


_SEP = "\x1f"  # between the names of a node's line in one column (no name holds a control character)


def _node_line_sql(node_id: str) -> tuple[str, list]:
    """A scalar subquery naming the node ``node_id`` with its line, "kind␟community␟grid␟name" (``place_label``
    reads it): the parent and grandparent are looked up by path, only for grids and micro-grids."""
    node = connection.ops.quote_name(OrgNode._meta.db_table)
    step = OrgNode.steplen
    grid, micro = NodeKind.GRID.value, NodeKind.MICRO_GRID.value

    def up(levels):  # the path ``levels`` steps up; never a negative length, which PostgreSQL refuses
        cut = step * levels
        return f"SUBSTR(n.path, 1, CASE WHEN LENGTH(n.path) > {cut} THEN LENGTH(n.path) - {cut} ELSE 0 END)"

    sql = (
        f"(SELECT n.kind || %s || COALESCE(CASE WHEN n.kind = '{micro}' THEN g.name ELSE p.name END, '') || %s "
        f"|| COALESCE(CASE WHEN n.kind = '{micro}' THEN p.name END, '') || %s || n.name FROM {node} n "
        f"LEFT JOIN {node} p ON n.kind IN ('{grid}', '{micro}') AND p.path = {up(1)} "
        f"LEFT JOIN {node} g ON n.kind = '{micro}' AND g.path = {up(2)} "
        f"WHERE n.id = {node_id})"
    )
    return sql, [_SEP, _SEP, _SEP]


def _follower_only_sql(user) -> tuple[str, list]:
    """1 for a row the user only follows (neither filed it nor is it for them), else 0: read for the page's
    rows only; ``_public_parts`` then asks whether their work shows it to them whole."""
    qn = connection.ops.quote_name
    follower, resident = qn(AppealFollower._meta.db_table), qn(Resident._meta.db_table)
    return (
        f"(CASE WHEN page.filed_by_id = %s OR page.reporter_id IN (SELECT r.id FROM {resident} r WHERE r.user_id = %s) "
        f"THEN 0 WHEN EXISTS (SELECT 1 FROM {follower} f WHERE f.appeal_id = page.id AND f.user_id = %s) "
        f"THEN 1 ELSE 0 END)",
        [user.pk, user.pk, user.pk],
    )


def page(user, query: ListQuery, *, fields=PAGE_FIELDS, size: int = 25, after=None, before=None, offset: int = 0,
         cap: int = 200) -> ListPage:
    """One page of the appeals ``query`` asks for, newest first: ``size`` rows after (older than) or before
    (newer than) a cursor ``(submitted_at, id)``, or after ``offset`` rows from the newest (the API; bounded by
    the caller), and how many there are, counted up to ``cap + 1``. The rows are ``rows``' namespaces.

    What is counted (``found``: the ids and times of the newest ``cap + 1`` rows, read from the index where it
    holds them) also holds the first pages, so they are not looked for twice: their rows are the newest of
    ``found``, and only those are read from the table. A page past the cap, or at a cursor, walks on its own."""
    parts = [p for p in (_part(Q(arm, *conditions(user, query))) for arm in arms(user, query)) if p is not None]
    if not parts:
        return ListPage([], False, False, 0)
    fields = tuple(fields) + ("filed_by_id", "reporter_id")
    try:
        found_sql, found_params = _found(parts, max(cap, offset + size)).query.sql_with_params()
        if before or after:
            page_sql, page_params = _walk([p.values_list(*fields) for p in parts], after=after, before=before,
                                          n=size + 1).query.sql_with_params()
        else:
            page_sql, page_params = _newest_found(fields, size + 1, offset), ()
    except EmptyResultSet:
        return ListPage([], False, False, 0)
    direction = "ASC" if before else "DESC"
    unit = connection.ops.quote_name(Unit._meta.db_table)
    place_sql, place_params = _node_line_sql("page.node_id")
    who_sql, who_params = _node_line_sql("COALESCE(page.handler_node_id, page.owner_node_id)")
    follower_sql, follower_params = _follower_only_sql(user)
    sql = (
        f"WITH found AS ({found_sql}), page AS ({page_sql}) SELECT page.*, {place_sql}, {who_sql}, "
        f"(SELECT u.name FROM {unit} u WHERE u.id = page.handler_unit_id), {follower_sql}, "
        f"(SELECT COUNT(*) FROM found) "
        f"FROM page ORDER BY page.submitted_at {direction}, page.id {direction}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*found_params, *page_params, *place_params, *who_params, *follower_params))
        values = cursor.fetchall()
    if before:
        has_prev, values = len(values) > size, values[:size][::-1]
        has_next = True
    else:
        has_next, values = len(values) > size, values[:size]
        has_prev = after is not None or offset > 0
    if values:
        total = values[0][-1]
    elif after or before or offset:  # past the end: the rows are gone, the count is not
        total = _found(parts, cap).count()
    else:
        total = 0
    return ListPage(_rows(user, values, fields), has_prev, has_next, total)


def _part(q: Q):
    """The appeals matching ``q``, its condition compiled once for the page and the count that both read it;
    None when it matches nothing."""
    condition = compiled(q)
    return None if condition is None else Appeal.objects.filter(condition)


# --- the rows -----------------------------------------------------------------------------------------------------


def place_label(kind: str, name: str, community: str = "", grid: str = "", *, communities: bool = False) -> str:
    """A node as a reader tells it from its namesakes: a micro-grid with its grid ("第一网格 · 第一微网格"),
    and a grid or micro-grid with its community too when the reader's area spans several communities."""
    if kind not in (NodeKind.GRID, NodeKind.MICRO_GRID):
        return name
    parts = ([community] if communities and community else []) + ([grid] if grid else []) + [name]
    return " · ".join(parts)


def _line(value) -> tuple[str, str, str, str]:
    """(kind, community, grid, name) of a column made by ``_node_line_sql``."""
    return tuple((str(value or "").split(_SEP, 3) + ["", "", "", ""])[:4])


def _line_label(value, communities: bool) -> str:
    if not value:
        return ""
    kind, community, grid, name = _line(value)
    return place_label(kind, name, community, grid, communities=communities)


def spans_communities(user) -> bool:
    """Whether the appeals the user sees may lie in more than one community: an area above a community,
    areas in two communities, or a unit's appeals (dispatched from anywhere)."""
    seen = set()
    for a in user.active_assignments:
        if a.unit_id:
            return True
        if Perm.APPEALS_VIEW not in ROLE_PERMS.get(a.role, ()):
            continue
        kind = a.node.kind
        if kind in (NodeKind.COUNTY, NodeKind.SUBDISTRICT):
            return True
        up = {NodeKind.GRID: 1, NodeKind.MICRO_GRID: 2}.get(kind, 0) * OrgNode.steplen
        seen.add(a.org_path[:len(a.org_path) - up])
    return len(seen) > 1


def _aware(value):
    """A timestamp read by plain SQL as the ORM would give it (SQLite hands back text or naive UTC)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=dt.timezone.utc)
    return value


def _rows(user, values, fields) -> list[SimpleNamespace]:
    """The rows as namespaces: the fields, and ``place`` (the place's line, labelled as the reader tells it
    apart), ``node_name`` (the place's own name), ``handler_name`` (the handling unit or node), ``handler_label``
    (the same, labelled; empty before dispatch) and ``owner_name`` (the first receiver, labelled, while nobody
    handles it), ``follower_only`` and ``public_part`` (the user sees only the public part: the title masked)."""
    communities = spans_communities(user) if values else False
    n = len(fields)
    rows = []
    for v in values:
        row = SimpleNamespace(pk=v[0], **dict(zip(fields, v)))
        for name in _TIMES:
            if name in fields:
                setattr(row, name, _aware(getattr(row, name)))
        place, who, unit_name, follower_only = v[n:n + 4]
        row.place = _line_label(place, communities)
        row.node_name = _line(place)[3]
        who_name = _line(who)[3] if who else ""
        if row.handler_unit_id:
            row.handler_name = row.handler_label = unit_name or ""
        elif row.handler_node_id:
            row.handler_name, row.handler_label = who_name, _line_label(who, communities)
        else:
            row.handler_name = row.handler_label = ""
        row.owner_name = "" if row.handler_label else _line_label(who, communities)
        row.follower_only, row.public_part = bool(follower_only), False
        rows.append(row)
    _public_parts(user, [row for row in rows if row.follower_only])
    return rows


def _public_parts(user, rows) -> None:
    """Rows the user only follows and does not see through their work (``policies.sees_whole``) show their
    public part: the title (and the address, where read) masked as ``appeals.public`` masks them."""
    if not rows:
        return
    appeals = Appeal.objects.in_bulk([row.pk for row in rows])
    for row in rows:
        appeal = appeals.get(row.pk)
        if appeal is None or policies.staff_sees(user, appeal):
            continue
        row.public_part = True
        row.title = public.title(appeal)
        if hasattr(row, "address"):
            row.address = public.address(appeal, row.node_name)
        if hasattr(row, "description"):
            row.description = public.text(appeal.description)
