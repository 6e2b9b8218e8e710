"""Appeal reads, always scoped: the place's subtree, the handler's queue, the resident's own appeals; the paged list
that the staff page and the API share is in ``listing``."""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Exact
from django.http import Http404
from django.utils import timezone

from gongzhi.appeals.permissions import Perm
from gongzhi.core import process_cache
from gongzhi.core.scoping import scope_q, under
from gongzhi.orgs.models import NodeKind, OrgNode, Resident

from .. import policies
from ..models import OPEN_STATUSES, Appeal, AppealFollower, AppealRequest, Category, Status


def handle_q(user) -> Q | None:
    """Appeals dispatched to an org node in the subtrees where the user handles (``policies.handle_paths``)."""
    paths = policies.handle_paths(user)
    if not paths:
        return None
    q = Q()
    for path in paths:
        q |= under(path, "handler_path")
    return q


def visibility_q(user, *, indexable: bool = False) -> Q | None:
    """Appeals a user may see: under their area (APPEALS_VIEW), dispatched to them (their grid,
    community or unit), or their own (filed, for them, or followed).

    ``indexable``: the user's own appeals as ``_own_q`` gives them instead of a join and a subquery, so
    every arm of the OR can use an index and PostgreSQL combines them (BitmapOr) rather than scanning a
    million appeals for a grid worker's few."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    parts = [
        scope_q(user, Perm.APPEALS_VIEW),
        handle_q(user),
        scope_q(user, Perm.APPEALS_DISPATCH, "owner_path"),
    ]
    units = policies.unit_ids(user)
    if units:
        parts.append(Q(handler_unit_id__in=units))
    if indexable:
        parts.append(_own_q(user))
    else:
        parts.append(Q(filed_by=user) | Q(reporter__user=user))
        parts.append(Q(Exists(AppealFollower.objects.filter(appeal=OuterRef("pk"), user=user))))
    q = Q()
    for part in parts:
        if part is not None:
            q |= part
    return q


def cross_area():
    """1 for an appeal whose handler or first receiver is not its place's node nor above it (dispatched
    across areas, to a fixed routing target, or left so by a node move), else 0: the expression the
    ``appeal_cross_area`` index is on, which finds the few such appeals and whose statistics tell
    PostgreSQL how few (the plain condition would be guessed to hold for almost every appeal)."""
    return next(index for index in Appeal._meta.indexes if index.name == "appeal_cross_area").expressions[0]


def visibility_arms(user) -> list[Q]:
    """``visibility_q(user, indexable=True)`` as disjoint conditions, for paged lists that take each on its
    own (a UNION ALL on PostgreSQL) and so can walk an index in list order for each; [] sees nothing.

    The first, when the user may view appeals anywhere, is the area: the place (``org_path``) in the user's
    subtrees. A single subtree is a plain range, which an index scan checks on the index entries, without
    reading the appeals outside it. The second is what the user sees outside the area: dispatched to their
    subtrees or units, first received there, or their own. An appeal handled (or first received) in a
    subtree inside the area but placed outside the area has a handler (first receiver) that is not its
    place's node nor above it, so the condition names ``cross_area`` too and is found through its index
    rather than among every appeal handled in the area. (Every role that handles or dispatches
    also views today; a subtree outside the area would be taken whole.)"""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    views = user.paths_with(Perm.APPEALS_VIEW)
    area = scope_q(user, Perm.APPEALS_VIEW)
    rest, inside = [], []
    for field, paths in (("handler_path", policies.handle_paths(user)),
                         ("owner_path", user.paths_with(Perm.APPEALS_DISPATCH))):
        for path in paths:
            (inside if any(path.startswith(v) for v in views) else rest).append(under(path, field))
    if inside:
        rest.append(reduce(or_, inside) & Q(Exact(cross_area(), 1)))
    units = policies.unit_ids(user)
    if units:
        rest.append(Q(handler_unit_id__in=units))
    rest.append(_own_q(user))
    outside = reduce(or_, rest)
    return [outside] if area is None else [area, outside & ~area]


def compiled(q: Q):
    """``q`` compiled once to SQL for filters on appeals (``RawSQL``): ``Q()`` when it matches every appeal,
    None when it matches none. Django compiles a condition anew for every query that uses it, and the list's
    conditions are long enough for that to cost more than PostgreSQL takes to run the query."""
    query = Appeal.objects.filter(q).query
    try:
        sql, params = query.get_compiler(connection=connection).compile(query.where)
    except EmptyResultSet:
        return None
    except FullResultSet:
        return Q()
    return RawSQL(sql, tuple(params), output_field=BooleanField())


def visibility_arms_sql(user) -> list:
    """``visibility_arms(user)`` compiled (``compiled``), kept a while per user and role set
    (``core.process_cache``): they depend on nothing else (the user's own appeals are subqueries, read when
    the query runs)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    return process_cache.get((process_cache.scope_key(user, "visibility-arms"), user.pk), lambda: [
        arm for arm in map(compiled, visibility_arms(user)) if arm is not None])


class _AnyOf(Func):
    """``field = ANY(ARRAY(subquery))``: PostgreSQL runs the subquery once and looks its values up in the
    column's index, also as one arm of an OR, where ``field IN (subquery)`` is checked appeal by appeal."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra):
        field, subquery = self.get_source_expressions()
        field_sql, field_params = compiler.compile(field)
        subquery_sql, subquery_params = compiler.compile(subquery)
        return f"{field_sql} = ANY(ARRAY{subquery_sql})", (*field_params, *subquery_params)


def _in(field: str, subquery: QuerySet) -> Q:
    if connection.vendor == "postgresql":
        return Q(_AnyOf(F(field), Subquery(subquery)))
    return Q(**{f"{field}__in": subquery})


def _own_q(user) -> Q:
    """The user's own appeals: filed by them, for one of their resident records, or followed after a merge,
    each part one that an index answers (no query of its own first)."""
    from gongzhi.orgs.models import Resident

    residents = Resident.objects.filter(user=user).order_by().values("id")
    followed = AppealFollower.objects.filter(user=user).order_by().values("appeal_id")
    return Q(filed_by=user) | _in("reporter_id", residents) | _in("id", followed)


def appeals(user, *, indexable: bool = False) -> QuerySet[Appeal]:
    q = visibility_q(user, indexable=indexable)
    if q is None:
        return Appeal.objects.none()
    return Appeal.objects.filter(q).select_related("category", "node", "handler_node", "handler_unit", "owner_node")


def appeal_get(user, pk) -> Appeal:
    """One appeal the user may see; missing and out of scope answer the same 404."""
    try:
        return appeals(user).get(pk=pk)
    except (Appeal.DoesNotExist, ValueError, TypeError):
        raise Http404("not found") from None


_TO_DISPATCH = (Status.SUBMITTED,)
_TO_HANDLE = (Status.DISPATCHED, Status.ACCEPTED)
_TO_VERIFY = (Status.RESOLVED, Status.VERIFIED)


def _owned_q(user) -> Q | None:
    """Appeals first received in the subtrees where the user dispatches (and checks and closes)."""
    return scope_q(user, Perm.APPEALS_DISPATCH, "owner_path")


def _handled_q(user) -> Q | None:
    """Appeals whose handler is the user's grid or community (``handle_q``) or one of their units."""
    q = handle_q(user)
    units = policies.unit_ids(user)
    if units:
        q = (q or Q()) | Q(handler_unit_id__in=units)
    return q


def _queue(user, q: Q | None, statuses) -> QuerySet[Appeal]:
    return Appeal.objects.none() if q is None else appeals(user).filter(q, status__in=statuses)


def to_dispatch(user) -> QuerySet[Appeal]:
    """Submitted (or returned) appeals the user's area owns: the dispatcher's queue."""
    return _queue(user, _owned_q(user), _TO_DISPATCH)


def to_handle(user) -> QuerySet[Appeal]:
    """Dispatched and accepted appeals whose handler is the user's grid, community or unit."""
    return _queue(user, _handled_q(user), _TO_HANDLE)


def to_verify(user) -> QuerySet[Appeal]:
    """Resolved and verified appeals the user's area owns: to check and close."""
    return _queue(user, _owned_q(user), _TO_VERIFY)


_QUEUE_STATUSES = {"dispatch": _TO_DISPATCH, "handle": _TO_HANDLE, "verify": _TO_VERIFY}


def queue_parts(user, queue: str) -> list[Q]:
    """A work queue (``dispatch``, ``handle``, ``verify``) as disjoint conditions, one per status: each seeks its
    status and area in a partial index (``appeal_owned_waiting``, ``appeal_handled_waiting``), so only the
    entries wanted are read. (With all the index's statuses in one condition, PostgreSQL drops it as implied by
    the index and reads the index whole.) [] : the user has no such queue.

    Every part is also a part of ``visibility_q`` (the dispatch, handle and unit arms), so these appeals are
    ones the user sees, as the queues' ``appeals(user).filter(...)`` are, without repeating that test."""
    q = _handled_q(user) if queue == "handle" else _owned_q(user)
    return [] if q is None else [q & Q(status=status) for status in _QUEUE_STATUSES[queue]]


def to_act_parts(user) -> list[Q]:
    """What ``to_dispatch``, ``to_handle`` and ``to_verify`` hold together (the staff list's "only mine to act
    on"), as disjoint conditions (``queue_parts``): the appeals first received in the user's area waiting on its
    dispatcher (submitted, resolved, verified), and those handled by the user's grid, community or unit waiting
    on the handler (dispatched, accepted). [] : no queue at all."""
    return [*queue_parts(user, "dispatch"), *queue_parts(user, "verify"), *queue_parts(user, "handle")]


def waiting_count(user) -> int | None:
    """How many appeals wait for the user to act (their dispatch, handling and checking queues together);
    None when the user has none of these queues."""
    parts = to_act_parts(user)
    if not parts:
        return None
    return Appeal.objects.filter(reduce(or_, parts)).count()


def requests_to_decide(user):
    """Pending extension requests the user's area may decide (the dispatcher's chain or a supervisor)
    and void requests a supervisor may decide, as ``actions.extension_decide`` / ``void_decide`` check."""
    dispatch = scope_q(user, Perm.APPEALS_DISPATCH, "appeal__owner_path")
    supervise = scope_q(user, Perm.APPEALS_SUPERVISE, "appeal__org_path")
    parts = []
    either = [q for q in (dispatch, supervise) if q is not None]
    if either:
        parts.append(Q(kind=AppealRequest.Kind.EXTENSION) & reduce(or_, either))
    if supervise is not None:
        parts.append(Q(kind=AppealRequest.Kind.VOID) & supervise)
    if not parts:
        return AppealRequest.objects.none()
    return (
        AppealRequest.objects.filter(reduce(or_, parts), state=AppealRequest.State.PENDING)
        .exclude(requested_by=user)  # someone else decides what one asked for (policies.can_decide_*)
        .select_related("appeal__category", "requested_by")
    )


def mine(user) -> QuerySet[Appeal]:
    """A resident's own appeals: filed by them, for them, or followed after a merge."""
    if user is None or not user.is_authenticated:
        return Appeal.objects.none()
    # ``_own_q``: each part an index answers, where a join to the reporter would read every appeal.
    return Appeal.objects.filter(_own_q(user)).select_related("category")


def whole_q(user) -> Q:
    """Appeals the user sees whole however they came to see them (``policies.sees_whole``): their own (filed by
    them or for them), or seen through their work (their area, handled, first received or dispatched to their
    unit); not those they only follow."""
    residents = Resident.objects.filter(user=user).order_by().values("id")
    q = Q(filed_by=user) | Q(reporter_id__in=residents)
    for part in (scope_q(user, Perm.APPEALS_VIEW), scope_q(user, Perm.APPEALS_SUPERVISE), handle_q(user),
                 scope_q(user, Perm.APPEALS_DISPATCH, "owner_path")):
        if part is not None:
            q |= part
    units = policies.unit_ids(user)
    if units:
        q |= Q(handler_unit_id__in=units)
    return q


def categories() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).select_related("parent", "policy")


def _bigrams(text: str) -> set[str]:
    text = "".join(ch for ch in (text or "") if not ch.isspace())
    return {text[i:i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of character bigrams: works for Chinese without word segmentation."""
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


def possible_duplicates(*, node, category: Category, text: str, household=None, exclude: int | None = None,
                        days: int = 30, limit: int = 5, threshold: float = 0.25) -> list[tuple[Appeal, float]]:
    """Open appeals at the same place (household, or node) and category from the last ``days``,
    whose text looks alike: shown while filing and to the dispatcher, who may merge them."""
    since = timezone.now() - dt.timedelta(days=days)
    qs = Appeal.objects.filter(category=category, status__in=OPEN_STATUSES, submitted_at__gte=since)
    qs = qs.filter(household=household) if household is not None else qs.filter(node=node)
    if exclude:
        qs = qs.exclude(pk=exclude)
    scored = [(a, similarity(text, f"{a.title} {a.description}")) for a in qs.order_by("-submitted_at")[:200]]
    scored = [(a, s) for a, s in scored if s >= threshold]
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]


def followable(user) -> QuerySet[Appeal]:
    """Open appeals in a resident's own community: those they may join as "same problem? follow it" when one
    was offered to them while filing (``policies.can_follow``)."""
    community = policies.home_community(user)
    if community is None:
        return Appeal.objects.none()
    return Appeal.objects.filter(under(community.path), status__in=OPEN_STATUSES)


PLACE_KINDS = (NodeKind.GRID, NodeKind.MICRO_GRID)


def place_nodes(user, *, own: bool, limit: int = 400) -> list[OrgNode]:
    """Grids and micro-grids an appeal may be placed at on the filing forms: a resident filing for
    themselves (``own``) picks in their own community; staff filing for residents in their filing scope."""
    if own:
        community = policies.home_community(user)
        q = under(community.path, "path") if community is not None else None
    else:
        q = scope_q(user, Perm.APPEALS_FILE, "path")
    if q is None:
        return []
    nodes = list(OrgNode.objects.filter(q, kind__in=PLACE_KINDS, is_active=True).order_by("path")[:limit])
    _label_places(nodes)
    return nodes


def _label_places(nodes: list[OrgNode]) -> None:
    """``node.label``: "grid › micro-grid", with the community in front when the list spans several."""
    step = OrgNode.steplen
    above = {n.path[:i] for n in nodes for i in range(step, len(n.path), step)}
    names = {p: (name, kind) for p, name, kind in
             OrgNode.objects.filter(path__in=above, kind__in=(NodeKind.COMMUNITY, NodeKind.GRID))
             .values_list("path", "name", "kind")}
    communities = {p for p, (_name, kind) in names.items() if kind == NodeKind.COMMUNITY}
    for n in nodes:
        chain = [names[n.path[:i]] for i in range(step, len(n.path), step) if n.path[:i] in names]
        if len(communities) <= 1:
            chain = [c for c in chain if c[1] != NodeKind.COMMUNITY]
        n.label = " › ".join([*(name for name, _kind in chain), n.name])


# --- the county set-up checklist (``core.parts.setup_step``, registered in apps.py) ----------------------


def setup_routing(user, node) -> tuple[int, str, bool]:
    """Categories and routing: active categories, and routing rules that apply in the county (at it, above
    it or below it); done when there are both."""
    from django.urls import reverse

    from ..models import RoutingRule
    from ..routing import ancestor_paths

    categories = Category.objects.filter(is_active=True).count()
    rules = RoutingRule.objects.filter(under(node.path) | Q(org_path__in=ancestor_paths(node.path))).count()
    return categories + rules, reverse("appeals:admin_index"), bool(categories and rules)


def setup_calendar(user, node) -> tuple[int, str, bool]:
    """The working-day calendar: of this year and the next, the years whose holidays are known (the library
    or an administrator's confirmation); done when this year's are."""
    from django.urls import reverse

    from gongzhi.core import workdays

    year = timezone.localdate().year
    known = [y for y in (year, year + 1) if workdays.year_confirmed(y)]
    return len(known), reverse("appeals:admin_calendar"), year in known
def open_work_of(user) -> list[tuple[str, int, str]]:
    """What a person still has in hand in the appeals loop, for whoever reassigns it when their account is
    disabled (``core.parts.open_work``): the appeals they accepted and have not resolved, and the appeals
    waiting on a grid, community or unit where nobody else active handles them (those they accepted counted
    once, in the first line)."""
    from django.urls import reverse
    from django.utils.http import urlencode
    from django.utils.translation import gettext as _

    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.core.access import ROLE_PERMS, UNIT_ROLES

    listing = reverse("appeals:list")
    found = [(_("Appeals they accepted and have not resolved"),
              Appeal.objects.filter(accepted_by=user, status=Status.ACCEPTED).count(),
              f"{listing}?{urlencode({'status': Status.ACCEPTED})}")]
    held = RoleAssignment.objects.filter(user=user, is_active=True).select_related("node", "unit")
    others = RoleAssignment.objects.filter(is_active=True, user__is_active=True).exclude(user=user)
    handlers = [r for r in ROLE_PERMS if Perm.APPEALS_HANDLE in ROLE_PERMS[r]]
    for a in held:
        if Perm.APPEALS_HANDLE not in ROLE_PERMS.get(a.role, ()):
            continue
        if a.role in UNIT_ROLES and a.unit_id:
            if others.filter(unit_id=a.unit_id, role__in=UNIT_ROLES).exists():
                continue
            waiting = (Appeal.objects.filter(handler_unit_id=a.unit_id, status__in=_TO_HANDLE)
                       .exclude(accepted_by=user, status=Status.ACCEPTED).count())
            found.append((_("Appeals waiting on %(place)s, which has no other handler") % {"place": a.unit.name},
                          waiting, f"{listing}?{urlencode({'handler': f'u{a.unit_id}'})}"))
        elif a.role not in UNIT_ROLES:
            if others.filter(node_id=a.node_id, role__in=[r for r in handlers if r not in UNIT_ROLES]).exists():
                continue
            waiting = (Appeal.objects.filter(handler_path=a.org_path, handler_unit__isnull=True, status__in=_TO_HANDLE)
                       .exclude(accepted_by=user, status=Status.ACCEPTED).count())
            found.append((_("Appeals waiting on %(place)s, which has no other handler") % {"place": a.node.name},
                          waiting, f"{listing}?{urlencode({'handler': f'n{a.node_id}'})}"))
    return found
