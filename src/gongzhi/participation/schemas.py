"""API schemas for micro-wishes (separate In and Out schemas)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from gongzhi.core.api import Day, Id, InSchema, Moment, Text

from . import policies
from .models import OrderStatus, WishChannel, WishKind, WishStatus

WishStatusCode = Literal[tuple(WishStatus.values)]
WishKindCode = Literal[tuple(WishKind.values)]
WishChannelCode = Literal[tuple(WishChannel.values)]
WishTitle = Text(min_chars=1, max_length=60)
WishText = Text(max_length=2000, multiline=True)
StepNote = Text(max_length=1000, multiline=True)
WishStep = Literal["verify", "publish", "reject", "claim", "release", "fulfil", "thank"]


class WishFilterIn(InSchema):
    status: WishStatusCode | None = Field(None, description="Only wishes in this state (`published`: open for claiming).")
    wall: bool = Field(False, description="Only the wall: published wishes you may claim, the longest waiting first.")


class WishOut(Schema):
    id: int
    status: WishStatusCode
    title: str
    description: str
    kind: WishKindCode
    place: str = Field(description="The grid or micro-grid where the resident lives.")
    wisher: str = Field(description="The resident: the whole name for the area's staff and the resident, else the "
                                    "surname only (张*).")
    claimed_by: str = Field(description="Who claimed it (a party member's name or a partner unit); empty until claimed.")
    collected_at: dt.datetime
    published_at: dt.datetime | None
    claimed_at: dt.datetime | None
    fulfilled_at: dt.datetime | None
    fulfilment_note: str
    thanks_note: str
    allowed: list[WishStep] = Field(description="The steps you may take now.")

    @staticmethod
    def resolve_place(obj) -> str:
        return obj.node.name

    @staticmethod
    def resolve_wisher(obj, context) -> str:
        return obj.resident.name if policies.sees_whole(context["request"].auth, obj) else obj.public_name

    @staticmethod
    def resolve_claimed_by(obj) -> str:
        return obj.claimant_name

    @staticmethod
    def resolve_allowed(obj, context) -> list[str]:
        return policies.allowed_steps(context["request"].auth, obj)


class WishIn(InSchema):
    title: WishTitle = Field(description="The wish in a few words (a school bag, a visit).")
    description: WishText = ""
    kind: WishKindCode = WishKind.GOODS.value
    channel: WishChannelCode = Field(WishChannel.VISIT.value, description="Where it came from; `online` for your own.")
    resident_id: Id | None = Field(None, description="The resident whose wish it is (staff); your own when left out.")


class WishStepIn(InSchema):
    note: StepNote = Field(
        "", description="How it was fulfilled (`fulfil`), why (`reject`, `release`), thanks (`thank`).")
    unit_id: Id | None = Field(None, description="`claim`: claim for this partner unit you are a contact of.")


# --- service orders ----------------------------------------------------------------------------------------------

OrderStatusCode = Literal[tuple(OrderStatus.values)]
OrderStep = Literal["dispatch", "open", "take", "complete", "rate", "cancel"]
OrderNote = Text(max_length=1000, multiline=True)


class OrderFilterIn(InSchema):
    status: OrderStatusCode | None = None
    open: bool = Field(False, description="Only orders open for you to take, the soonest window first.")


class ServiceItemOut(Schema):
    id: int
    name: str
    description: str
    community_id: int


class OrderOut(Schema):
    id: int
    status: OrderStatusCode
    service: str
    place: str
    resident: str = Field(description="The whole name for the area's staff, the resident and the taker, else the "
                                      "surname only (张*).")
    address: str = Field(description="For those who see the whole order; else empty.")
    note: str
    window_start: dt.datetime
    window_end: dt.datetime
    ordered_at: dt.datetime
    dispatch_due: dt.datetime
    taken_by: str
    evidence: str
    hours: float | None
    satisfied: bool | None
    rating_comment: str
    allowed: list[OrderStep]

    @staticmethod
    def resolve_service(obj) -> str:
        return obj.item.name

    @staticmethod
    def resolve_place(obj) -> str:
        return obj.node.name

    @staticmethod
    def resolve_resident(obj, context) -> str:
        return obj.resident.name if policies.order_sees_whole(context["request"].auth, obj) else obj.public_name

    @staticmethod
    def resolve_address(obj, context) -> str:
        return obj.resident.household.address if policies.order_sees_whole(context["request"].auth, obj) else ""

    @staticmethod
    def resolve_taken_by(obj) -> str:
        return obj.taker_name

    @staticmethod
    def resolve_hours(obj) -> float | None:
        return float(obj.hours) if obj.hours is not None else None

    @staticmethod
    def resolve_allowed(obj, context) -> list[str]:
        return policies.order_steps(context["request"].auth, obj)


class OrderIn(InSchema):
    item_id: Id = Field(description="An item of the service list of the resident's community.")
    window_start: Moment = Field(description="From when the service suits (China time unless an offset is given).")
    window_end: Moment
    note: OrderNote = ""
    resident_id: Id | None = Field(None, description="The resident it is for (staff); yourself when left out.")


class OrderStepIn(InSchema):
    to_user_id: Id | None = Field(None, description="`dispatch`: the party member's account id.")
    evidence: OrderNote = Field("", description="`complete`: what was done.")
    hours: float | None = Field(None, ge=0.1, le=24, description="`complete`: hours spent (0.1 to 24).")
    satisfied: bool | None = Field(None, description="`rate`: true closes the order; false sends it back to the branch.")
    comment: OrderNote = Field("", description="`rate`: needed when not satisfied; `cancel`: the reason.")


# --- figures -------------------------------------------------------------------------------------------------------


class ParticipationQueryIn(InSchema):
    node: Id | None = Field(None, description="Org node id; default: the top node of your area.")
    date_from: Day | None = Field(None, alias="from", description="First day (Asia/Shanghai), inclusive; default: "
                                                                  "29 days before `to`.")
    date_to: Day | None = Field(None, alias="to", description="Last day, inclusive; default: today.")


class ParticipationFiguresOut(Schema):
    wishes_collected: int
    wishes_published: int
    wishes_claimed: int
    wishes_fulfilled: int
    wishes_claim_rate: float | None = Field(description="Claimed / published, of the wishes collected in the period.")
    wishes_days_to_claim: float | None = Field(description="Mean days from publication to claim.")
    orders: int
    orders_rated: int
    orders_satisfied: int
    orders_satisfaction_rate: float | None = Field(description="Satisfied / rated, of the orders placed in the period.")
    volunteer_hours: float = Field(description="Hours of the satisfied service orders placed in the period.")
    party_members_registered: int = Field(description="In-service members with a confirmed dual registration.")
    party_members_active: int = Field(description="... with at least one satisfied service in the month of `to`.")
    party_member_participation_rate: float | None


class ParticipationOut(Schema):
    node_id: int
    node_name: str
    date_from: dt.date
    date_to: dt.date
    figures: ParticipationFiguresOut
