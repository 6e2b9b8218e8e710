"""API schemas for the appeal figures: the query in, the figures (docs/metrics.md) out."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from gongzhi.core.api import Day, Id, InSchema

Rate = float | None
_RATE = " A share from 0 to 1 (4 decimals); null when the denominator is 0."


class MetricsQueryIn(InSchema):
    node: Id | None = Field(None, description="Org node id; default: the top node of your area.")
    date_from: Day | None = Field(
        None, alias="from", description="First filing day (Asia/Shanghai), inclusive; default: 29 days before `to`."
    )
    date_to: Day | None = Field(None, alias="to", description="Last filing day, inclusive; default: today.")
    group: Literal["child", "unit", "category", "worker"] | None = Field(
        None, description="Also break the figures down by child node, handling unit, category or grid worker."
    )


class FiguresOut(Schema):
    filed: int = Field(description="Appeals filed in the period under the node, voided and merged ones included.")
    valid: int = Field(description="filed - voided - merged: the appeals every other figure is about.")
    voided: int = Field(description="Voided with approval (作废).")
    merged: int = Field(description="Merged into another appeal as a duplicate (合并).")
    open: int = Field(description="Valid appeals not closed yet.")
    dispatched: int = Field(description="Valid appeals dispatched to a handler at least once.")
    responded: int = Field(description="Valid appeals accepted (签收) at least once.")
    responded_on_time: int = Field(description="... whose first acceptance came by the response deadline.")
    resolved: int = Field(description="Valid appeals resolved now (办结; resolved, verified or closed).")
    resolved_on_time: int = Field(description="... whose latest resolution came by the resolution deadline.")
    closed: int = Field(description="Valid appeals closed (结案).")
    rated: int = Field(description="Valid appeals with a standing rating (by the resident or a callback).")
    rated_resolved: int = Field(description="... rated as resolved.")
    satisfied: int
    basic: int = Field(description="Rated basically satisfied.")
    unsatisfied: int
    callback: int = Field(description="Ratings recorded by staff after a phone callback (回访).")
    returned: int = Field(description="Valid appeals returned (退单) at least once.")
    reopened: int = Field(description="Valid appeals reopened (重办) at least once.")
    reworked: int = Field(description="Valid appeals returned or reopened at least once.")
    returns: int = Field(description="Returns in all.")
    reopens: int = Field(description="Reopens in all.")
    extended: int = Field(description="Valid appeals given more time (延期 approved) at least once.")
    supervised: int = Field(description="Valid appeals supervised (督办) at least once.")
    response_rate: Rate = Field(description="响应率 = responded_on_time / dispatched." + _RATE)
    resolution_rate: Rate = Field(description="解决率 = rated_resolved / rated." + _RATE)
    satisfaction_rate: Rate = Field(description="满意率 = (satisfied + basic) / rated." + _RATE)
    on_time_rate: Rate = Field(description="按期办结率 = resolved_on_time / resolved." + _RATE)
    closure_rate: Rate = Field(description="结案率 = closed / valid." + _RATE)
    rework_rate: Rate = Field(description="返工率 = reworked / dispatched." + _RATE)
    avg_handling_hours: float | None = Field(
        description="Mean hours from filing to (latest) resolution over the resolved appeals; null when none."
    )
    avg_handling_work_hours: float | None = Field(
        description="The same in office hours on working days (Chinese calendar with make-up days)."
    )


class NodeRefOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str


class GroupOut(Schema):
    key: str = Field(
        description="Child node id, category id, user id, or handler key: u<unit id>, n<org path>, or empty "
        "for appeals waiting for dispatch."
    )
    id: int | None = Field(description="The node, unit, category or user id.")
    name: str
    kind: str = Field(description="Node level, 'unit', 'category', 'worker' or 'none'.")
    figures: FiguresOut


class MetricsOut(Schema):
    node: NodeRefOut
    waiting: int = Field(description="Appeal changes the figures do not include yet (the task worker is still "
                         "counting a burst of them; counted up to 51); usually 0.")
    date_from: dt.date
    date_to: dt.date
    figures: FiguresOut
    group: str | None
    groups: list[GroupOut] = Field(description="The breakdown asked for with `group`, else empty.")
