"""Personal data: ID-number checks (GB 11643), encryption at rest, blind index, masking.

What a mask may show, and why, is worked out in docs/adr/0002-pii-encryption-blind-index-mask.md
("What a mask may show"): an ID-number mask keeps the first four characters only, since the rest are
the birth date and a sequence that age and gender narrow down; a phone mask keeps the 12345
convention (138****5678) for staff; ``mask_free_text`` finds phone and ID numbers typed into free text
and masks them for everyone else.
"""

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
    """5118**************: the province and prefecture of the office that issued it, nothing else.

    Characters 7-14 are the birth date and 15-17 a sequence whose parity is the gender: with the age and
    gender shown beside the mask, a mask that kept the last four (sequence and check character) left
    about 33 candidates, and one beside the birth date exactly one. This one leaves 365 × 500 (ADR 0002).
    Applied to an older mask (``5118**********1234``) it gives the new one."""
    if not number:
        return ""
    return number[:4] + "*" * (len(number) - 4)


def mask_phone(phone: str) -> str:
    """138****5678 (a landline 083*****1234): the 12345 convention, for staff pages only (ADR 0002: the hidden
    middle digits of a mobile number are its number block, which the address narrows down)."""
    if not phone:
        return ""
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: family name kept, as Chinese notices print names."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1 if len(name) > 1 else 1)


# --- free text: phone and ID numbers however they are typed ------------------------------------------

# Full-width digits, letters and separators (and other dashes and spaces) mapped one to one onto ASCII, so
# that the patterns see "１３８－１２３４－５６７８" as "138-1234-5678" at the same positions in the text.
_WIDE = {0xFF10 + i: ord("0") + i for i in range(10)}
_WIDE.update({
    0xFF0B: "+", 0xFF0D: "-", 0xFF0E: ".", 0xFF08: "(", 0xFF09: ")", 0xFF38: "X", 0xFF58: "x", 0x3000: " ",
    0x00A0: " ", 0x2010: "-", 0x2011: "-", 0x2012: "-", 0x2013: "-", 0x2014: "-", 0x2212: "-",
})
# Between two digit groups: one space, or a dash or dot with a space either side or none.
_SEP = r"(?:[ ]?[-.][ ]?|[ ])"
# Not inside a longer number: no digit (or ID check letter) just before, nor a digit and a dash or dot.
_START = r"(?<![\dXx])(?<!\d[-.])"
_CC = r"(?:(?:\+|00)[ ]?86|\(\+?86\))"  # +86, 0086, (+86)
_AREA = r"(?:10|2\d|[3-9]\d{2})"  # an area code without its 0: 10 (Beijing), 2x, 3xx-9xx
_ID_IN_TEXT = re.compile(
    _START + rf"(?P<id>[1-8]\d(?:{_SEP}?\d){{15}}{_SEP}?[\dXx]|[1-8]\d(?:{_SEP}?\d){{13}})(?![\dXx])",
    re.ASCII,
)
_LANDLINE_IN_TEXT = re.compile(
    _START + rf"(?:\(0{_AREA}\)[ ]?|0{_AREA}{_SEP}?|{_CC}{_SEP}?\(?0?{_AREA}\)?{_SEP}?)"
    rf"(?P<local>[1-9]\d{{2,3}}{_SEP}?\d{{4}})(?!\d)",
    re.ASCII,
)
_MOBILE_IN_TEXT = re.compile(
    _START + rf"(?:{_CC}{_SEP}?|86{_SEP}?)?(?P<num>1[3-9]\d{_SEP}?\d{{4}}{_SEP}?\d{{4}})(?!\d)",
    re.ASCII,
)


def _is_id_number(chars: str) -> bool:
    """An 18- or 15-digit run that reads as an ID number: a province code and a real birth date (the check
    character is not asked for: a mistyped number is still someone's)."""
    if chars[:2] not in _PROVINCES:
        return False
    year, month_day = (chars[6:10], chars[10:14]) if len(chars) == 18 else ("19" + chars[6:8], chars[8:12])
    try:
        born = dt.date(int(year), int(month_day[:2]), int(month_day[2:]))
    except ValueError:
        return False
    return 1880 <= born.year and born <= dt.date.today()


def mask_free_text(text: str) -> str:
    """Phone and ID numbers in text someone typed, masked for every reader but its writer and the staff who
    handle it (the public Open311 answers, another resident following an appeal, notices to followers).

    Found however they are written: mobile numbers (``138-1234-5678``, ``138 1234 5678``, ``+86 138 1234
    5678``, ``0086``), landlines with an area code (``0835-1234567``, ``(0835)1234567``, ``010 12345678``),
    ID numbers of 18 characters (with X) and old ones of 15 digits, with spaces, dashes or dots between the
    digits, and full-width digits and separators (``１３８１２３４５６７８``). Left alone: dates (2026-12-07),
    amounts, house numbers (3栋2单元501), appeal numbers (14 digits) and any digit run that is not one of
    these as a whole.

    Masks: an ID number as ``mask_id_number`` (5118**************); a mobile number keeps its first three
    digits (138********), a landline its area code (0835-*******). Not the 138****5678 of staff pages: the
    text comes with the appeal's place, which tells the city and so most of the hidden middle digits (ADR
    0002), and the reader may be anyone."""
    if not text:
        return text or ""
    shadow = text.translate(_WIDE)
    cuts: list[tuple[int, int, str]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _mask in cuts)

    for m in _ID_IN_TEXT.finditer(shadow):
        chars = re.sub(r"[^0-9X]", "", m.group("id").upper())
        if _is_id_number(chars):
            cuts.append((m.start("id"), m.end("id"), mask_id_number(chars)))
    for m in _LANDLINE_IN_TEXT.finditer(shadow):
        if free(*m.span()):
            cuts.append((m.start("local"), m.end("local"), "*" * sum(c.isdigit() for c in m.group("local"))))
    for m in _MOBILE_IN_TEXT.finditer(shadow):
        if free(*m.span()):
            start = m.start("num") + 3  # 1[3-9]x, typed together
            cuts.append((start, m.end("num"), "*" * sum(c.isdigit() for c in shadow[start:m.end("num")])))
    if not cuts:
        return text
    out, pos = [], 0
    for start, end, mask in sorted(cuts):
        out += [text[pos:start], mask]
        pos = end
    out.append(text[pos:])
    return "".join(out)


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
