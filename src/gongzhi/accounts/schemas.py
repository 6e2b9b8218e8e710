"""API schemas for accounts: token obtain, list and revoke (separate In and Out schemas)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from gongzhi.core.text import Line
from gongzhi.core.api import Id, InSchema


class TokenObtainIn(InSchema):
    username: Line = Field(max_length=150, description="Login name.")
    password: str = Field(max_length=1024, description="Password; wrong ones count towards the login throttle.")
    name: Line = Field("", max_length=100, description="A label for the token, e.g. the script or device using it.")
    expires_in_days: int | None = Field(
        None, ge=0, le=3650,
        description="How many days the token works: one of the lifetimes the server offers (by default 7, 30, 90, "
        "180 or 365); left out: the server's default (90 days). 0: never expires, only where the server allows it.",
    )


class TokenCreatedOut(Schema):
    token: str = Field(description="The secret, shown only this once: send it as `Authorization: Bearer <token>`.")
    id: int
    name: str
    prefix: str = Field(description="The first characters after `gz_`, to recognise the token later.")
    expires_at: dt.datetime | None = Field(description="When the token stops working; null: never.")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The first characters after `gz_`; the secret itself is never shown again.")
    created_at: dt.datetime
    last_used_at: dt.datetime | None = Field(description="Roughly when the token was last used (to the minute).")
    expires_at: dt.datetime | None = Field(description="When the token stops working; null: never.")
    revoked_at: dt.datetime | None
    status: Literal["active", "expired", "revoked"]
    is_active: bool = Field(description="False once revoked or expired.")


class LockedOutError(Schema):
    detail: str = Field(description="Says that logins are locked, why (this account or this address), and how long.")
    locked_until: dt.datetime = Field(description="When logins from this address are accepted again.")


# --- joining by real name ------------------------------------------------------------------------------------------


class JoinCodeIn(InSchema):
    days: int | None = Field(None, ge=1, le=3650, description="How many days the code works: one of the lifetimes "
                             "the server offers (by default 7 or 30); left out: the server's default (30).")


class JoinCodeOut(Schema):
    id: int
    code: str = Field(description="The code to print or show, `ABCD-EFGH` (8 characters without look-alikes).")
    url: str = Field(description="The link the code's QR code opens.")
    expires_at: dt.datetime


class JoinIn(InSchema):
    code: Line = Field(max_length=20, description="The join code from the door notice (`ABCD-EFGH`, dashes and "
                                                  "spaces ignored, any case).")
    name: Line = Field(max_length=50, description="Your name as on your ID card.")
    id_last4: Line = Field(max_length=8, description="The last 4 characters of your ID number.")
    phone: Line = Field(max_length=20, description="Your 11-digit mobile number: the new account's login name.")
    password: str = Field(max_length=1024, description="The new account's password (the server's password rules).")
    sms_code: Line = Field("", max_length=8, description="The code texted to the phone, where the server "
                                                         "verifies phones (`POST /join/phone-code`).")


class JoinOut(Schema):
    status: Literal["active", "pending"] = Field(
        description="`active`: the account is made and linked; log in with the phone and password. `pending`: a "
        "request waits for the grid worker (the same answer whatever did not match)."
    )
    username: str | None = Field(description="The login name when active.")


class PhoneCodeIn(InSchema):
    phone: Line = Field(max_length=20)


class PhoneCodeOut(Schema):
    delivered: bool = Field(description="False when the server has no SMS provider: nothing reached the phone.")


class JoinRequestOut(Schema):
    id: int
    status: Literal["pending", "active", "approved", "rejected"]
    name: str
    phone: str = Field(description="Masked (138****5678).")
    household_id: int | None
    party_member_id: int | None
    community_id: int | None
    compound_id: int | None
    building_id: int | None
    address: str = Field(description="The address the person typed (requests without a code).")
    with_code: bool
    created_at: dt.datetime
    resident_id: int | None = Field(description="The registry member linked, once decided.")
    decided_at: dt.datetime | None
    reason: str

    @staticmethod
    def resolve_phone(obj):
        return obj.phone_masked

    @staticmethod
    def resolve_with_code(obj):
        return obj.code_id is not None


class JoinApproveIn(InSchema):
    resident_id: Id = Field(description="The registry member to link the account to.")


class JoinRejectIn(InSchema):
    reason: Line = Field(max_length=200, description="Why; the person asking is told (by SMS where it is set up).")
# --- staff accounts -----------------------------------------------------------------------------------------

from gongzhi.core.access import Role as _Role  # noqa: E402
from gongzhi.core.api import Text  # noqa: E402

RoleCode = Literal[tuple(_Role.values)]


class UserFilterIn(InSchema):
    q: Text(max_length=50) = Field("", description="Part of the name or of the login name (mobile number).")
    node_id: Id | None = Field(None, description="Only accounts with an active role at this node or below it.")
    role: RoleCode | None = Field(None, description="Only accounts holding this role (at `node_id` or below, if given).")
    status: Literal["active", "waiting", "disabled"] | None = Field(
        None, description="active; waiting: imported, not activated yet; disabled.")


class RoleOut(Schema):
    id: int
    role: RoleCode
    node_id: int
    node_name: str
    unit_id: int | None
    unit_name: str | None
    is_active: bool
    created_at: dt.datetime = Field(description="When the role was given.")
    withdrawn_at: dt.datetime | None
    withdraw_reason: str

    @staticmethod
    def resolve_node_name(obj):
        return obj.node.name

    @staticmethod
    def resolve_unit_name(obj):
        return obj.unit.name if obj.unit_id else None


class UserOut(Schema):
    id: int
    username: str = Field(description="The login name: the mobile number (a few accounts made by the system differ).")
    display_name: str
    is_active: bool = Field(description="False once disabled.")
    status: Literal["active", "waiting", "disabled"]
    must_change_password: bool
    disabled_at: dt.datetime | None
    disabled_reason: str
    roles: list[RoleOut] = Field(description="The active roles.")

    @staticmethod
    def resolve_status(obj):
        if not obj.is_active:
            return "disabled"
        return "active" if obj.has_usable_password() else "waiting"

    @staticmethod
    def resolve_roles(obj):
        found = getattr(obj, "active_roles", None)
        if found is None:
            found = list(obj.role_assignments.filter(is_active=True).select_related("node", "unit"))
        return found


class UserCreateIn(InSchema):
    display_name: Text(min_chars=1, max_length=50) = Field(description="The person's name.")
    phone: str = Field(max_length=20, description="11-digit mobile number: the login name, used by no other account.")
    role: RoleCode = Field(description="The first role.")
    node_id: Id = Field(description="Where the role is held: a node inside your area.")
    unit_id: Id | None = Field(None, description="The unit, for a department handler or partner-unit contact.")


class UserCreatedOut(UserOut):
    one_time_password: str = Field(description="Shown only this once; it must be changed at the first login.")


class RoleAssignIn(InSchema):
    role: RoleCode
    node_id: Id = Field(description="A node inside your area.")
    unit_id: Id | None = Field(None, description="The unit, for a department handler or partner-unit contact.")


class ReasonIn(InSchema):
    reason: Text(min_chars=1, max_length=200) = Field(description="Why; kept in the account's history and the audit log.")


class OpenWorkOut(Schema):
    label: str
    count: int
    url: str = Field(description="A page listing it, or empty.")


class UserDisabledOut(UserOut):
    open_work: list[OpenWorkOut] = Field(description="What the person still had in hand, to reassign.")


class PasswordResetOut(Schema):
    one_time_password: str = Field(description="Shown only this once; it must be changed at the next login.")
