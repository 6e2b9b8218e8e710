"""Personal data: ID-number checks (GB 11643), encryption at rest, blind index, masking."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# First two digits of the administrative division code (GB/T 2260).
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
}
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


class PIIError(ValueError):
    """A personal-data value that fails its check; the message is for the user."""


@dataclass(frozen=True)
class IdInfo:
    number: str
    birth_date: dt.date
    gender: str  # "M" or "F"
    region: str


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def normalize_id_number(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def parse_id_number(value: str, *, today: dt.date | None = None) -> IdInfo:
    """Check an 18-digit resident ID number and derive birth date and gender from it."""
    number = normalize_id_number(value)
    if not _ID_RE.match(number):
        raise PIIError(_("An ID number has 17 digits followed by a digit or X."))
    if number[:2] not in _PROVINCES:
        raise PIIError(_("The ID number does not start with a valid region code."))
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise PIIError(_("The birth date inside the ID number is not a real date.")) from None
    today = today or timezone.localdate()
    if birth > today or birth.year < 1880:
        raise PIIError(_("The birth date inside the ID number is out of range."))
    if id_check_char(number[:17]) != number[17]:
        raise PIIError(_("The ID number's check digit is wrong (GB 11643)."))
    gender = "M" if int(number[16]) % 2 == 1 else "F"
    return IdInfo(number=number, birth_date=birth, gender=gender, region=number[:6])


def normalize_phone(value: str) -> str:
    phone = re.sub(r"[\s()（）]", "", value or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _PHONE_RE.match(phone):
        raise PIIError(_("A phone number is an 11-digit mobile number or a landline with area code."))
    return phone


def mask_id_number(number: str) -> str:
    if not number:
        return ""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    if not phone:
        return ""
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: family name kept, as Chinese notices print names."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1 if len(name) > 1 else 1)


@lru_cache(maxsize=4)
def _aead(key_text: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"gongzhi-pii-v1:" + key_text.encode()).digest())


@lru_cache(maxsize=4)
def _hash_key(key_text: str) -> bytes:
    return hashlib.sha256(b"gongzhi-blind-index-v1:" + key_text.encode()).digest()


def encrypt(plain: str) -> str:
    """AES-256-GCM with a random nonce; the text form is 'v1:' + base64(nonce + ciphertext)."""
    if not plain:
        return ""
    nonce = os.urandom(12)
    ct = _aead(settings.PII_KEY).encrypt(nonce, plain.encode(), b"gongzhi")
    return "v1:" + base64.b64encode(nonce + ct).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    if not token.startswith("v1:"):
        raise PIIError("unknown ciphertext version")
    raw = base64.b64decode(token[3:])
    return _aead(settings.PII_KEY).decrypt(raw[:12], raw[12:], b"gongzhi").decode()


def blind_index(kind: str, normalized: str) -> str:
    """Keyed hash for exact-match search; the kind keeps ID and phone hashes apart."""
    if not normalized:
        return ""
    digest = hmac.new(_hash_key(settings.PII_HASH_KEY), f"{kind}:{normalized}".encode(), hashlib.sha256)
    return digest.hexdigest()[:40]


def id_number_hash(value: str) -> str:
    return blind_index("id", normalize_id_number(value))


def phone_hash(value: str) -> str:
    try:
        return blind_index("phone", normalize_phone(value))
    except PIIError:
        return ""
