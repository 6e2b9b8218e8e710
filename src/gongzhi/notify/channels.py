"""Group-robot message formats, signing and sending, as each vendor documents its custom robot:

- WeCom (企业微信群机器人): POST ``{"msgtype": "markdown", "markdown": {"content": ...}}`` to the
  webhook address (its ``key`` is the credential; there is no signing); content at most 4096 bytes.
- DingTalk (钉钉自定义机器人): ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; with the
  加签 secret, ``timestamp`` (ms) and ``sign`` = urlencode(base64(HMAC-SHA256(key=secret,
  msg="timestamp\\nsecret"))) go into the query string.
- Feishu (飞书自定义机器人): ``{"msg_type": "post", "content": {"post": {"zh_cn": {"title", "content"}}}}``;
  with the 签名校验 secret, ``timestamp`` (s) and ``sign`` = base64(HMAC-SHA256(key="timestamp\\nsecret",
  msg="")) go into the body.

All three answer HTTP 200 with an error code in the JSON body when they refuse a message (WeCom and
DingTalk ``errcode != 0``, Feishu ``code != 0``): that is a failure like an HTTP error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .models import WebhookKind

TIMEOUT_SECONDS = 5
WECOM_MAX_BYTES = 4096
VALUE_MAX_CHARS = 200


class DeliveryError(Exception):
    """A message the receiver did not take; the text says why (kept as the delivery's last error)."""


@dataclass
class Message:
    """What a robot message says, before any vendor's format: a title, labelled lines and a link."""

    title: str
    lines: list[tuple[str, str]] = field(default_factory=list)
    link: str = ""
    link_text: str = ""


def _clip(value) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= VALUE_MAX_CHARS else text[: VALUE_MAX_CHARS - 1] + "…"


def _line(label: str, value) -> str:
    return _("%(label)s: %(value)s") % {"label": label, "value": _clip(value)}


def _wecom(msg: Message) -> dict:
    head = f"**{_clip(msg.title)}**"
    tail = f"[{msg.link_text}]({msg.link})" if msg.link else ""
    lines = [f"> {_line(label, value)}" for label, value in msg.lines]
    # Drop lines from the end until it fits the 4096-byte limit; title and link always stay.
    while lines and len("\n".join([head, *lines, tail]).encode()) > WECOM_MAX_BYTES:
        lines.pop()
    return {"msgtype": "markdown", "markdown": {"content": "\n".join(x for x in [head, *lines, tail] if x)}}


def _dingtalk(msg: Message) -> dict:
    parts = [f"#### {_clip(msg.title)}", *[f"- {_line(label, value)}" for label, value in msg.lines]]
    if msg.link:
        parts.append(f"[{msg.link_text}]({msg.link})")
    return {"msgtype": "markdown", "markdown": {"title": _clip(msg.title), "text": "\n\n".join(parts)}}


def _feishu(msg: Message) -> dict:
    content = [[{"tag": "text", "text": _line(label, value)}] for label, value in msg.lines]
    if msg.link:
        content.append([{"tag": "a", "text": msg.link_text, "href": msg.link}])
    return {"msg_type": "post", "content": {"post": {"zh_cn": {"title": _clip(msg.title), "content": content}}}}


_FORMATS = {WebhookKind.WECOM: _wecom, WebhookKind.DINGTALK: _dingtalk, WebhookKind.FEISHU: _feishu}


def build(kind: str, msg: Message) -> dict:
    """The vendor's JSON body for ``msg``, unsigned (signing needs the time of sending)."""
    return _FORMATS[kind](msg)


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """base64(HMAC-SHA256(key=secret, msg="timestamp\\nsecret")), not yet url-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: str) -> str:
    """base64(HMAC-SHA256(key="timestamp\\nsecret", msg=""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed(kind: str, url: str, secret: str, body: dict, now: float | None = None) -> tuple[str, dict]:
    """The address and body to POST, signed with ``secret`` when there is one."""
    now = time.time() if now is None else now
    if secret and kind == WebhookKind.DINGTALK:
        ts = str(int(now * 1000))
        query = urllib.parse.urlencode({"timestamp": ts, "sign": dingtalk_sign(secret, ts)})
        return f"{url}{'&' if '?' in url else '?'}{query}", body
    if secret and kind == WebhookKind.FEISHU:
        ts = str(int(now))
        return url, {"timestamp": ts, "sign": feishu_sign(secret, ts), **body}
    return url, body


def check(kind: str, raw: bytes) -> None:
    """Raise ``DeliveryError`` unless the vendor's answer says the message was taken."""
    try:
        answer = json.loads(raw.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        raise DeliveryError(_("Unexpected answer: %(text)s") % {"text": raw[:200].decode("utf-8", "replace")}) from None
    if not isinstance(answer, dict):
        raise DeliveryError(_("Unexpected answer: %(text)s") % {"text": str(answer)[:200]})
    if kind == WebhookKind.FEISHU:
        code, text = answer.get("code", answer.get("StatusCode")), answer.get("msg", answer.get("StatusMessage", ""))
    else:
        code, text = answer.get("errcode"), answer.get("errmsg", "")
    if code != 0:
        raise DeliveryError(_("Refused with code %(code)s: %(text)s") % {"code": code, "text": str(text)[:200]})


def post(kind: str, url: str, secret: str, body: dict, timeout: float = TIMEOUT_SECONDS) -> None:
    """Sign and POST one message; raise ``DeliveryError`` on any failure (network, HTTP, error in body)."""
    address, data = signed(kind, url, secret, body)
    request = urllib.request.Request(
        address, data=json.dumps(data, ensure_ascii=False).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (admins set http(s) URLs)
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        text = exc.read(200).decode("utf-8", "replace") if exc.fp else ""
        raise DeliveryError(f"HTTP {exc.code}: {text}".strip()) from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(str(getattr(exc, "reason", exc))) from None
    check(kind, raw)
