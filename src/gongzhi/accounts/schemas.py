"""API schemas for accounts: token obtain, list and revoke (separate In and Out schemas)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from gongzhi.core.text import Line
from gongzhi.core.api import InSchema


class TokenObtainIn(InSchema):
    username: Line = Field(max_length=150, description="Login name.")
    password: str = Field(max_length=1024, description="Password; wrong ones count towards the login throttle.")
    name: Line = Field("", max_length=100, description="A label for the token, e.g. the script or device using it.")
    expires_in_days: int | None = Field(
        None,
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
