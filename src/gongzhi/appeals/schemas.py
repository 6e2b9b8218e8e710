"""API schemas for appeals: filters and transitions in, appeals with their timeline out; phones masked."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from gongzhi.core.api import COUNT_CAP, Day, Id, InSchema, Text
from gongzhi.core.text import Line, Block

from .models import Channel, DueState, Satisfaction, Status, TimeUnit

# Literal (not Enum) types: the committed OpenAPI file then lists plain values inline.
StatusCode = Literal[tuple(Status.values)]
DueStateCode = Literal[tuple(DueState.values)]
ChannelCode = Literal[tuple(Channel.values)]
SatisfactionCode = Literal[tuple(Satisfaction.values)]
TimeUnitCode = Literal[tuple(TimeUnit.values)]
Queue = Literal["dispatch", "handle", "verify", "mine"]
Reason = Text(min_chars=2, max_length=500, multiline=True)  # the actions want two characters at least (strip() removes spaces)
Result = Text(min_chars=2, max_length=5000, multiline=True)
Description = Text(min_chars=1, max_length=5000, multiline=True)


# --- categories ------------------------------------------------------------------------------------


class FormFieldValueOut(Schema):
    key: str
    name: str


class FormFieldOut(Schema):
    code: str
    datatype: str = Field(description="string, number, datetime, text, singlevaluelist or multivaluelist.")
    required: bool = False
    description: str = ""
    order: int | None = None
    values: list[FormFieldValueOut] = Field([], description="The choices of a list field.")


class CategoryOut(Schema):
    id: int
    code: str = Field(description="Also the Open311 service_code.")
    name: str
    description: str
    parent_id: int | None
    keywords: str
    form_fields: list[FormFieldOut] = Field(description="Details to fill in when filing (Open311 attributes).")
    response_amount: int = Field(description="Respond (accept) within this many units.")
    response_unit: TimeUnitCode
    resolve_amount: int = Field(description="Resolve within this many units.")
    resolve_unit: TimeUnitCode


# --- appeals -----------------------------------------------------------------------------------------


class AppealFilterIn(InSchema):
    queue: Queue | None = Field(None, description=(
        "A work queue instead of everything you may see: dispatch (submitted or returned, yours to dispatch), "
        "handle (dispatched to you or accepted), verify (resolved or verified, yours to check and close), "
        "mine (filed by you, for you, or followed)."
    ))
    status: StatusCode | None = None
    due_state: DueStateCode | None = None
    category: Line | None = Field(None, max_length=40, description="A category code; its subcategories are included.")
    node: Id | None = Field(None, description="Only appeals placed under this org node id.")
    handler_node: Id | None = Field(None, description="Only appeals handled by this org node id.")
    handler_unit: Id | None = Field(None, description="Only appeals handled by this unit id.")
    date_from: Day | None = Field(None, alias="from", description="Filed on or after this day.")
    date_to: Day | None = Field(None, alias="to", description="Filed on or before this day.")
    q: Line = Field("", max_length=50, description="The appeal number, or words of the title or description.")


class AppealOut(Schema):
    """An appeal as lists show it; one you only follow shows its public part (phone and ID numbers masked)."""

    id: int
    number: str = Field(description="The number residents quote; also the Open311 service_request_id.")
    title: str = Field(description="As typed; phone and ID numbers masked in an appeal you only follow.")
    category: str = Field(description="Category code.")
    category_name: str
    channel: ChannelCode
    status: StatusCode
    due_state: DueStateCode
    node_id: int = Field(description="The org node where the problem is.")
    node_name: str
    address: str = Field(description="Where; in an appeal you only follow, the place's name instead of a household.")
    owner_node_id: int = Field(description="The first receiver, who dispatches (首接负责).")
    handler_node_id: int | None = Field(description="The grid, community or subdistrict handling it.")
    handler_unit_id: int | None = Field(description="The department or partner unit handling it.")
    handler_name: str
    submitted_at: dt.datetime
    response_due: dt.datetime
    resolve_due: dt.datetime
    deadline_unconfirmed: bool = Field(description="A deadline crosses a year whose holidays are not confirmed yet.")
    dispatched_at: dt.datetime | None
    accepted_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    satisfaction: SatisfactionCode | Literal[""] = Field(description="The rating; empty until rated.")
    return_count: int
    reopen_count: int
    supervise_count: int
    extension_count: int


class EventOut(Schema):
    id: int
    at: dt.datetime
    kind: str = Field(description="file, dispatch, accept, return, resolve, verify, verify_reject, close, rate, "
                                  "callback, reopen, extension_request, extension_decide, void_request, void_decide, "
                                  "supervise, merge, escalate.")
    label: str = Field(description="The step in words.")
    actor: str = Field(description="Who did it (staff only; empty for residents).")
    from_status: str
    to_status: str
    note: str
    public: bool = Field(description="Shown to the resident.")
    data: dict[str, Any] = Field(description="Details of the step (staff only; empty for residents).")


class RequestOut(Schema):
    id: int
    kind: Literal["extension", "void"]
    state: Literal["pending", "approved", "rejected"]
    reason: str
    extend_days: int | None
    requested_at: dt.datetime
    requested_by: str
    decided_at: dt.datetime | None
    decision_note: str


class AppealDetailOut(AppealOut):
    """The whole appeal for its reporter and the staff; for a follower who did not report it (a neighbour who
    followed it as the same problem, the reporter of an appeal merged into it), its public part: no reporter,
    household, phone or account, the place's name and centre for a household's address and point, and phone
    and ID numbers in the text masked."""

    description: str
    attributes: dict[str, Any] = Field(description="Answers to the category's form fields.")
    lng: float | None
    lat: float | None
    household_id: int | None = Field(description="The household it is placed at; null for a follower.")
    reporter_id: int | None = Field(description="The resident the appeal is for, when registered; null for a follower.")
    reporter_name: str = Field(description="Empty for a follower.")
    reporter_phone: str = Field(description="Masked phone of the reporter; empty for a follower.")
    filed_by: str = Field(description="The account that filed it; empty when filed by an Open311 client.")
    client: str = Field(description="The Open311 client application that filed it, if any.")
    accepted_by: str
    verified_at: dt.datetime | None
    result: str = Field(description="What was done.")
    rating_resolved: bool | None
    rating_comment: str
    rated_at: dt.datetime | None
    rated_by_callback: bool
    merged_into_id: int | None
    events: list[EventOut] = Field(description="The timeline: public steps for residents, every step for staff.")
    requests: list[RequestOut] = Field(description="Extension and void requests (the ledger); staff only.")
    allowed: list[str] = Field(description=(
        "What you may do now: the names of the POST /appeals/{id}/... actions (e.g. accept, extension/decide)."
    ))


# --- writes ---------------------------------------------------------------------------------------------


class AppealFileIn(InSchema):
    category: Line = Field(max_length=40, description="A category code (GET /appeal-categories).")
    title: Line = Field("", max_length=120, description="Optional; the start of the description when empty.")
    description: Description
    channel: ChannelCode = Field("online", description="How it came in; a resident filing for themselves is online.")
    node_id: Id | None = Field(None, description="Where the problem is (staff): an org node id.")
    household_id: Id | None = Field(None, description="Where the problem is: a household id.")
    reporter_id: Id | None = Field(None, description="The resident it is for (staff); residents file for themselves.")
    reporter_name: Line = Field("", max_length=50, description="For someone not in the registry.")
    reporter_phone: Line = Field("", max_length=40, description=(
        "For someone not in the registry; stored encrypted, shown masked."
    ))
    address: Line = Field("", max_length=200)
    lng: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    attributes: dict[str, Any] = Field({}, description="Answers to the category's form fields, by field code.")


class DispatchIn(InSchema):
    to_node_id: Id | None = Field(None, description=(
        "A node of the appeal's community (the community, a grid, a micro-grid) or the subdistrict above it."))
    to_unit_id: Id | None = Field(None, description="A department or partner unit belonging to or serving the place.")
    note: Block = Field("", max_length=500)


class NoteIn(InSchema):
    note: Block = Field("", max_length=500)


class ReasonIn(InSchema):
    reason: Reason = Field(description="Why (2 characters or more).")


class ReopenIn(InSchema):
    reason: str = Field(max_length=500, description="Why it is handled again.")


class ResolveIn(InSchema):
    result: Result = Field(description="What was done (2 characters or more).")


class VerifyIn(InSchema):
    ok: bool = Field(True, description=(
        "False sends it back to the handler; then say what is still to be done in note (2 characters or more)."
    ))
    note: Block = Field("", max_length=500)


class RateIn(InSchema):
    resolved: bool
    satisfaction: SatisfactionCode
    comment: Block = Field("", max_length=500)
    callback: bool = Field(False, description="Staff recording a phone callback (回访) instead of the resident.")


class ExtensionIn(InSchema):
    days: int = Field(ge=1, le=30, description="Extra working days.")
    reason: Reason = Field(description="Why more time is needed (2 characters or more).")


class DecideIn(InSchema):
    approve: bool
    note: Block = Field("", max_length=500)


class SuperviseIn(InSchema):
    note: Block = Field(max_length=500)


class MergeIn(InSchema):
    into_id: Id = Field(description="The main appeal this one duplicates.")
    note: Block = Field("", max_length=500)


class PagedAppealOut(Schema):
    """A page of appeals, as every paged list answers."""

    items: list[AppealOut]
    count: int = Field(description=f"How many items match, counted up to {COUNT_CAP:,}.")
    count_capped: bool = Field(description=f"True when more than {COUNT_CAP:,} items match: `count` stopped there.")
