"""Appeal reads, always scoped: the place's subtree, the handler's queue, the resident's own appeals."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from gongzhi.accounts.roles import Perm
from gongzhi.core.scoping import scope_q, under
from gongzhi.orgs.models import NodeKind, OrgNode

from . import policies
from .models import OPEN_STATUSES, Appeal, AppealFollower, Category, Status


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

    ``indexable``: the user's own appeals as literal id lists (two small queries first) instead of a
    join and a subquery, so every arm of the OR can use an index and PostgreSQL combines them
    (BitmapOr) rather than scanning a million appeals for a grid worker's few. Paged lists use it."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if indexable:
        from gongzhi.orgs.models import Resident

        own = Q(filed_by=user)
        residents = list(Resident.objects.filter(user=user).values_list("id", flat=True))
        if residents:
            own |= Q(reporter_id__in=residents)
        followed = list(AppealFollower.objects.filter(user=user).values_list("appeal_id", flat=True))
        if followed:
            own |= Q(pk__in=followed)
    parts = [
        scope_q(user, Perm.APPEALS_VIEW),
        handle_q(user),
        scope_q(user, Perm.APPEALS_DISPATCH, "owner_path"),
    ]
    units = policies.unit_ids(user)
    if units:
        parts.append(Q(handler_unit_id__in=units))
    if indexable:
        parts.append(own)
    else:
        parts.append(Q(filed_by=user) | Q(reporter__user=user))
        parts.append(Q(Exists(AppealFollower.objects.filter(appeal=OuterRef("pk"), user=user))))
    q = Q()
    for part in parts:
        if part is not None:
            q |= part
    return q


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


def to_dispatch(user) -> QuerySet[Appeal]:
    """Submitted (or returned) appeals the user's area owns: the dispatcher's queue."""
    q = scope_q(user, Perm.APPEALS_DISPATCH, "owner_path")
    if q is None:
        return Appeal.objects.none()
    return appeals(user).filter(q, status=Status.SUBMITTED)


def to_handle(user) -> QuerySet[Appeal]:
    """Dispatched and accepted appeals whose handler is the user's grid, community or unit."""
    q = handle_q(user) or Q(pk__in=[])
    units = policies.unit_ids(user)
    if units:
        q |= Q(handler_unit_id__in=units)
    return appeals(user).filter(q, status__in=(Status.DISPATCHED, Status.ACCEPTED))


def to_verify(user) -> QuerySet[Appeal]:
    q = scope_q(user, Perm.APPEALS_DISPATCH, "owner_path")
    if q is None:
        return Appeal.objects.none()
    return appeals(user).filter(q, status__in=(Status.RESOLVED, Status.VERIFIED))


def mine(user) -> QuerySet[Appeal]:
    """A resident's own appeals: filed by them, for them, or followed after a merge."""
    if user is None or not user.is_authenticated:
        return Appeal.objects.none()
    followed = AppealFollower.objects.filter(appeal=OuterRef("pk"), user=user)
    return Appeal.objects.filter(Q(filed_by=user) | Q(reporter__user=user) | Q(Exists(followed))).select_related("category")


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
    """Open appeals a resident may join as "same problem? follow it": those in their own community."""
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
