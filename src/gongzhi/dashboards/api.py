"""Metrics API routes: thin wrappers over ``metrics`` (scoped, read from the roll-ups)."""

from ninja import Query, Router

from gongzhi.core.api import READ_ERRORS

from . import metrics, selectors
from .schemas import MetricsOut, MetricsQueryIn

router = Router(tags=["metrics"])


@router.get(
    "/appeals", response={200: MetricsOut, **READ_ERRORS},
    summary="Appeal figures: the three rates and the rest",
)
def appeal_metrics(request, q: Query[MetricsQueryIn]):
    """Response, resolution and satisfaction rates (三率), on-time, closure and rework rates, average
    handling time and their counts, for the appeals filed under a node in a period (Asia/Shanghai days,
    both inclusive), as docs/metrics.md defines them; optionally broken down with `group`. A node outside
    your area answers 404."""
    node = q.node if q.node is not None else selectors.default_node(request.auth)
    return metrics.metrics(user=request.auth, node=node, date_from=q.date_from, date_to=q.date_to, group=q.group)
