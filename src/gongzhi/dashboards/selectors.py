"""Dashboard reads, always scoped: the node a user may see figures of, summed roll-up rows, the
overdue appeals under a node, the appeals of a ledger."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from gongzhi.appeals.permissions import Perm
from gongzhi.appeals.models import Appeal
from gongzhi.core.scoping import get_scoped, past_subtree, scoped, under
from gongzhi.orgs.models import NodeKind, OrgNode

from . import rollups
from .models import COUNTERS, AppealFact, AppealRollup

STEP = OrgNode.steplen
_PICKER_KINDS = (NodeKind.COUNTY, NodeKind.SUBDISTRICT, NodeKind.COMMUNITY)


def can_view(user) -> bool:
    """Figures are for those who may see the appeals of an area (APPEALS_VIEW somewhere)."""
    return bool(user is not None and user.is_authenticated and user.can(Perm.APPEALS_VIEW))


def metric_node(user, node) -> OrgNode:
    """The node (an OrgNode or an id) if the user may see its appeals; missing and out of scope: 404."""
    pk = node.pk if isinstance(node, OrgNode) else node
    return get_scoped(OrgNode.objects.all(), user, Perm.APPEALS_VIEW, field="path", pk=pk)


def default_node(user) -> OrgNode:
    """The top node of the user's area for appeals; 404 when they have none."""
    paths = user.paths_with(Perm.APPEALS_VIEW) if user is not None and user.is_authenticated else []
    node = OrgNode.objects.filter(path__in=paths).order_by("depth", "path").first()
    if node is None:
        raise Http404("not found")
    return node


def picker_nodes(user, node: OrgNode) -> list[OrgNode]:
    """Nodes to choose from: the user's area down to community level, and the chosen node's
    ancestors, itself and its children (grids and micro-grids are reached through them)."""
    area = scoped(OrgNode.objects.all(), user, Perm.APPEALS_VIEW, field="path")
    step = OrgNode.steplen
    chain = [node.path[:i] for i in range(step, len(node.path) + 1, step)]
    upper = area.filter(kind__in=_PICKER_KINDS)
    around = area.filter(path__in=chain) | area.filter(under(node.path, "path"), depth=node.depth + 1)
    return list((upper | around).distinct().order_by("path"))


def children(node: OrgNode) -> QuerySet[OrgNode]:
    return OrgNode.objects.filter(under(node.path, "path"), depth=node.depth + 1).order_by("path")


def add_counts(total: dict, counts: dict) -> None:
    for name in COUNTERS:
        total[name] = total.get(name, 0) + counts.get(name, 0)


# The sums are plain SQL: compiling 25 Sum() expressions through the ORM costs more than running
# the query on a few hundred roll-up rows, and these run on every dashboard view.
def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _sums(groups: list[str], table, where: list[str], params: list) -> list[tuple[tuple, dict]]:
    """(group values, counters) for ``SELECT groups, SUM(counters) FROM table WHERE ... GROUP BY groups``."""
    cols = ", ".join([*groups, *(f"SUM({_q(c)})" for c in COUNTERS)])
    sql = f"SELECT {cols} FROM {_q(table._meta.db_table)} WHERE {' AND '.join(where)}"
    if groups:
        sql += f" GROUP BY {', '.join(groups)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    n = len(groups)
    return [(row[:n], {c: int(v or 0) for c, v in zip(COUNTERS, row[n:])}) for row in rows]


def _subtree(path: str, column: str) -> tuple[list[str], list]:
    end = past_subtree(path)
    if end is None:
        return [f"{_q(column)} >= %s"], [path]
    return [f"{_q(column)} >= %s", f"{_q(column)} < %s"], [path, end]


def _rollup_where(node: OrgNode, dim: str, date_from: dt.date, date_to: dt.date) -> tuple[list[str], list]:
    return (
        [f"{_q('node_path')} = %s", f"{_q('dim')} = %s", f"{_q('day')} >= %s", f"{_q('day')} <= %s"],
        [node.path, dim, date_from, date_to],
    )


def _fact_where(node: OrgNode, date_from: dt.date, date_to: dt.date) -> tuple[list[str], list]:
    where, params = _subtree(node.path, "place_path")
    return [*where, f"{_q('day')} >= %s", f"{_q('day')} <= %s"], [*params, date_from, date_to]


def rollup_total(node: OrgNode, date_from: dt.date, date_to: dt.date) -> dict:
    """Counters of the appeals filed under ``node`` in the period: one roll-up row per day, or the
    node's facts when it is below the roll-ups."""
    total: dict = {}
    for counts in rollup_by_day(node, date_from, date_to).values():
        add_counts(total, counts)
    return total


def rollup_by_day(node: OrgNode, date_from: dt.date, date_to: dt.date) -> dict[dt.date, dict]:
    if node.depth <= rollups.ROLLUP_DEPTH:
        where, params = _rollup_where(node, AppealRollup.Dim.ALL, date_from, date_to)
        rows = _sums([_q("day")], AppealRollup, [*where, f"{_q('key')} = ''"], params)
    else:
        rows = _sums([_q("day")], AppealFact, *_fact_where(node, date_from, date_to))
    return {_day(g[0]): counts for g, counts in rows}


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)  # SQLite answers text


def rollup_by_key(node: OrgNode, dim: str, date_from: dt.date, date_to: dt.date) -> dict[str, dict]:
    """Counters under ``node`` by category (key: its id) or handler (key: ``rollups.handler_key``)."""
    if node.depth <= rollups.BREAKDOWN_DEPTH:
        rows = _sums([_q("key")], AppealRollup, *_rollup_where(node, dim, date_from, date_to))
        # A key whose appeals all moved elsewhere (dispatched, say) keeps a row of zeros: not a group.
        return {g[0]: counts for g, counts in rows if counts["filed"]}
    out: dict[str, dict] = {}
    if dim == AppealRollup.Dim.CATEGORY:
        for g, counts in _sums([_q("category_id")], AppealFact, *_fact_where(node, date_from, date_to)):
            add_counts(out.setdefault(str(g[0]), {}), counts)
    else:
        groups = [_q("handler_unit_id"), _q("handler_path")]
        for (unit, path), counts in _sums(groups, AppealFact, *_fact_where(node, date_from, date_to)):
            add_counts(out.setdefault(rollups.handler_key(unit, path, node.path), {}), counts)
    return out


def rollup_by_worker(node: OrgNode, date_from: dt.date, date_to: dt.date) -> dict[str, dict]:
    """Counters under ``node`` by the grid worker who accepted (always from the facts: a county's
    month is every appeal of it, so this is not one of the 50 ms figures)."""
    where, params = _fact_where(node, date_from, date_to)
    rows = _sums([_q("worker_id")], AppealFact, [*where, f"{_q('worker_id')} IS NOT NULL"], params)
    return {str(g[0]): counts for g, counts in rows}


def rollup_by_node(node: OrgNode, levels: int, date_from: dt.date, date_to: dt.date) -> dict[str, dict]:
    """Counters of each node 1..``levels`` levels below ``node``, by node path."""
    if node.depth + levels <= rollups.ROLLUP_DEPTH:
        depths = [node.depth + i for i in range(1, levels + 1)]
        where, params = _subtree(node.path, "node_path")
        where += [f"{_q('dim')} = %s", f"{_q('depth')} IN ({', '.join(['%s'] * len(depths))})",
                  f"{_q('day')} >= %s", f"{_q('day')} <= %s"]
        params += [AppealRollup.Dim.ALL, *depths, date_from, date_to]
        return {g[0]: counts for g, counts in _sums([_q("node_path")], AppealRollup, where, params)}
    # From the facts: group by the path cut at the deepest level asked, then add each group to its
    # ancestors down from the first level (an appeal placed at a child counts for the child only).
    size = len(node.path)
    cut = f"SUBSTR({_q('place_path')}, 1, {size + levels * STEP})"
    where, params = _fact_where(node, date_from, date_to)
    out: dict[str, dict] = {}
    for (path,), counts in _sums([cut], AppealFact, [*where, f"{_q('place_path')} > %s"], [*params, node.path]):
        for level in range(1, levels + 1):
            if len(path) >= size + level * STEP:
                add_counts(out.setdefault(path[: size + level * STEP], {}), counts)
    return out


def overdue(node: OrgNode, *, now: dt.datetime | None = None, limit: int = 20) -> tuple[int, list[Appeal]]:
    """Appeals under ``node`` past their resolution deadline and not yet resolved, whenever filed:
    how many, and the ``limit`` most overdue. Read from the facts' small partial indexes (only
    unresolved appeals are in them), then the few appeals themselves."""
    now = now or timezone.now()
    late = AppealFact.objects.filter(under(node.path, "place_path"), due_at__lt=now)
    if node.depth <= rollups.BREAKDOWN_DEPTH:
        # Whole days from the "due" roll-up rows, today's part from the facts: a few hundred rows
        # whatever the backlog.
        tz = ZoneInfo(settings.TIME_ZONE)
        today = timezone.localdate(now, tz)
        before = AppealRollup.objects.filter(node_path=node.path, dim=AppealRollup.Dim.DUE, day__lt=today)
        since_midnight = late.filter(due_at__gte=dt.datetime.combine(today, dt.time.min, tzinfo=tz))
        count = (before.aggregate(n=Sum("filed"))["n"] or 0) + since_midnight.count()
    else:
        count = late.count()
    ids = list(late.order_by("due_at", "appeal_id").values_list("appeal_id", flat=True)[:limit])
    rows = Appeal.objects.filter(pk__in=ids).select_related("category", "node", "handler_node", "handler_unit")
    return count, sorted(rows, key=lambda a: (a.resolve_due, a.pk))


def ledger_appeals(user, node: OrgNode, date_from: dt.date, date_to: dt.date) -> QuerySet[Appeal]:
    """The appeals filed under ``node`` in the period (local days, inclusive), oldest first."""
    tz = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    qs = scoped(Appeal.objects.all(), user, Perm.APPEALS_VIEW)
    return qs.filter(under(node.path), submitted_at__gte=start, submitted_at__lt=end).order_by("submitted_at", "id")
