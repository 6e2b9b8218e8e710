"""API schemas for accounts: token obtain, list and revoke (separate In and Out schemas)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from gongzhi.core.text import Line
from gongzhi.core.api import InSchema


class TokenObtainIn(InSchema):
    username: Line = Field(max_length=150, description="Login name.")
    password: str = Field(max_length=4096, description="Password; wrong ones count towards the lockout.")
    name: Line = Field("", max_length=100, description="A label for the token, e.g. the script or device using it.")


class TokenCreatedOut(Schema):
    token: str = Field(description="The secret, shown only this once: send it as `Authorization: Bearer <token>`.")
    id: int
    name: str
    prefix: str = Field(description="The first characters after `gz_`, to recognise the token later.")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The first characters after `gz_`; the secret itself is never shown again.")
    created_at: dt.datetime
    last_used_at: dt.datetime | None = Field(description="Roughly when the token was last used (to the minute).")
    is_active: bool = Field(description="False once revoked.")


class LockedOutError(Schema):
    detail: str
    locked_until: dt.datetime = Field(description="When the account accepts passwords again.")
