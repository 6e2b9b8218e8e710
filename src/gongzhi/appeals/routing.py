"""Routing and deadlines: which unit handles (node, category), and when an appeal is due."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from gongzhi.core import workdays
from gongzhi.orgs.models import NodeKind, OrgNode, Unit

from .models import Category, DeadlinePolicy, RoutingRule, TimeUnit

STEP = OrgNode.steplen


@dataclass
class Route:
    node: OrgNode | None
    unit: Unit | None
    auto_dispatch: bool
    rule: RoutingRule | None

    @property
    def label(self) -> str:
        return str(self.unit or self.node or "")


def ancestor_paths(path: str) -> list[str]:
    """The path itself and every ancestor's, deepest first."""
    return [path[:i] for i in range(len(path), 0, -STEP)]


def category_chain(category: Category) -> list[Category]:
    chain, seen = [], set()
    while category is not None and category.pk not in seen:
        chain.append(category)
        seen.add(category.pk)
        category = category.parent
    return chain


LINE_FIELDS = ("id", "path", "depth", "numchild", "name", "kind", "code", "is_rural", "is_active")
RULE_FIELDS = ("id", "node_id", "category_id", "target", "target_node_id", "target_unit_id", "auto_dispatch")


class Line(dict):
    """The node at a path and its ancestors, by kind (the place itself, its grid, its community), with the
    routing rules that may apply to one category along it (``rules``) and, if asked, the id taken for a new
    appeal (``next_id``). Pass it to ``grid_of``, ``community_of`` and ``route``."""

    rules: list[RoutingRule]
    next_id: int | None


def line_with_rules(path: str, category: Category, *, next_id_sql: str = "") -> Line:
    """The line of ``path`` and the routing rules at its nodes for ``category``, its parents or every category,
    in one query (a LEFT JOIN of the rules on the nodes): what filing needs to know of a place.
    ``next_id_sql``: a scalar SQL expression evaluated once with them (the new appeal's id)."""
    paths = ancestor_paths(path)
    chain = [c.pk for c in category_chain(category)]
    qn = connection.ops.quote_name
    node_cols = ", ".join(f"n.{qn(c)}" for c in LINE_FIELDS)
    rule_cols = ", ".join(f"r.{qn(c)}" for c in RULE_FIELDS)
    sql = (
        f"SELECT {node_cols}, {rule_cols}{', ' + next_id_sql if next_id_sql else ''} "
        f"FROM {qn(OrgNode._meta.db_table)} n LEFT JOIN {qn(RoutingRule._meta.db_table)} r ON r.node_id = n.id "
        f"AND (r.category_id IN ({', '.join(['%s'] * len(chain))}) OR r.category_id IS NULL) "
        f"WHERE n.path IN ({', '.join(['%s'] * len(paths))})"
    )
    line, seen = Line(), set()
    line.rules, line.next_id = [], None
    db = OrgNode.objects.db
    with connection.cursor() as cursor:
        cursor.execute(sql, [*chain, *paths])
        rows = cursor.fetchall()
    n = len(LINE_FIELDS)
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            node = OrgNode.from_db(db, LINE_FIELDS, row[:n])
            line[node.kind] = node
        if row[n] is not None:
            rule = RoutingRule.from_db(db, RULE_FIELDS, row[n:n + len(RULE_FIELDS)])
            rule.auto_dispatch = bool(rule.auto_dispatch)
            line.rules.append(rule)
        if next_id_sql:
            line.next_id = row[-1]
    by_id = {node.pk: node for node in line.values()}
    for rule in line.rules:
        rule.org_path = by_id[rule.node_id].path
    return line


def _level(node: OrgNode, kind: str, line: dict[str, OrgNode] | None = None) -> OrgNode | None:
    """The node itself or its ancestor at ``kind``'s level, None when there is none above it."""
    if node.kind == kind:
        return node
    if line is not None:
        return line.get(kind)
    return OrgNode.objects.filter(path__in=ancestor_paths(node.path), kind=kind).first()


def grid_of(node: OrgNode, line: dict[str, OrgNode] | None = None) -> OrgNode | None:
    return _level(node, NodeKind.GRID, line)


def community_of(node: OrgNode, line: dict[str, OrgNode] | None = None) -> OrgNode | None:
    return _level(node, NodeKind.COMMUNITY, line)


def route(node: OrgNode, category: Category, line: Line | None = None) -> Route:
    """The handling unit for an appeal at ``node`` in ``category``: the rule at the deepest node on the
    way up wins; at one node a rule for the category beats its parent category's beats "every
    category". Without any rule the appeal's community handles it. ``line``: ``line_with_rules(node.path,
    category)`` when the caller has it already (else it is read here: the place's line and the rules that
    may apply in one query; a named target is fetched when it wins)."""
    if line is None:
        line = line_with_rules(node.path, category)
    chain = category_chain(category)
    rank = {c.pk: i for i, c in enumerate(chain)}
    rules = sorted(line.rules, key=lambda r: (-len(r.org_path), rank.get(r.category_id, len(chain))))
    for rule in rules:
        target = _target(rule, node, line)
        if target is not None:
            return Route(*target, auto_dispatch=rule.auto_dispatch, rule=rule)
    return Route(community_of(node, line) or node, None, auto_dispatch=False, rule=None)


def _target(rule: RoutingRule, node: OrgNode, line: dict[str, OrgNode] | None):
    if rule.target == RoutingRule.Target.OWN_GRID:
        grid = grid_of(node, line)
        return (grid, None) if grid else None
    if rule.target == RoutingRule.Target.OWN_COMMUNITY:
        community = community_of(node, line)
        return (community, None) if community else None
    if rule.target == RoutingRule.Target.NODE and rule.target_node_id:
        return (rule.target_node, None)
    if rule.target == RoutingRule.Target.UNIT and rule.target_unit_id:
        return (None, rule.target_unit)
    return None


# --- deadlines ---------------------------------------------------------------------------------

DEFAULT_POLICY = {"name": "普通", "response_amount": 2, "response_unit": TimeUnit.WORKING_HOURS,
                  "resolve_amount": 7, "resolve_unit": TimeUnit.WORKING_DAYS}


def policy_for(category: Category) -> DeadlinePolicy:
    """The category's policy, else the nearest parent's, else the default ordinary policy."""
    for c in category_chain(category):
        if c.policy_id:
            return c.policy
    policy, _created = DeadlinePolicy.objects.get_or_create(name=DEFAULT_POLICY["name"], defaults=DEFAULT_POLICY)
    return policy


def due_after(start: dt.datetime, amount: int, unit: str) -> workdays.Deadline:
    if unit == TimeUnit.WORKING_HOURS:
        return workdays.add_working_hours(start, amount)
    if unit == TimeUnit.WORKING_DAYS:
        return workdays.add_working_days(start, amount)
    if unit == TimeUnit.NATURAL_DAYS:
        return workdays.add_natural_hours(start, amount * 24)
    return workdays.add_natural_hours(start, amount)


@dataclass
class Deadlines:
    response_due: dt.datetime
    resolve_due: dt.datetime
    due_soon_at: dt.datetime
    unconfirmed: bool


def deadlines(policy: DeadlinePolicy, start: dt.datetime) -> Deadlines:
    response = due_after(start, policy.response_amount, policy.response_unit)
    resolve = due_after(start, policy.resolve_amount, policy.resolve_unit)
    return Deadlines(
        response_due=response.at,
        resolve_due=resolve.at,
        due_soon_at=due_soon(start, resolve.at, policy.due_soon_percent),
        unconfirmed=response.warning or resolve.warning,
    )


def due_soon(start: dt.datetime, due: dt.datetime, percent: int) -> dt.datetime:
    """Yellow when ``percent`` of the time from start to due is left."""
    return due - (due - start) * (max(0, min(percent, 100)) / 100)
