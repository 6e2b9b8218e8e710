"""Text messages to phones, through a backend the deployment chooses (``GONGZHI_SMS_BACKEND``).

A backend is a class with ``send(phone, text) -> SmsResult``. The default, ``LogBackend``, sends nothing: it
writes the message to the log and answers ``delivered=False``, so no page ever tells a user "a message was
sent" when none was. A deployment with an SMS provider (阿里云短信, 腾讯云短信 ...) writes a small class
calling the provider's maintained SDK and names it in the setting (docs/deploy.md, "Residents joining").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("gongzhi.sms")


@dataclass(frozen=True)
class SmsResult:
    delivered: bool  # handed to a provider that sends it; False: nothing reached the phone
    detail: str = ""


class LogBackend:
    """Writes the message to the ``gongzhi.sms`` log and sends nothing."""

    def send(self, phone: str, text: str) -> SmsResult:
        logger.warning("SMS not sent (GONGZHI_SMS_BACKEND is the log backend) to %s: %s", phone, text)
        return SmsResult(False, "logged")


@lru_cache(maxsize=4)
def _backend(path: str):
    return import_string(path)()


def backend():
    return _backend(settings.GONGZHI_SMS_BACKEND)


def send(phone: str, text: str) -> SmsResult:
    return backend().send(phone, text)


def delivers() -> bool:
    """Whether messages reach phones at all (any backend but the log one)."""
    return not isinstance(backend(), LogBackend)
