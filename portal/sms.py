"""Pluggable SMS delivery, in the manner of Django's e-mail backends. Production sets
``SMS_BACKEND`` to a class that talks to the city's SMS gateway; development writes
messages to the console or to a file that the README points at."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from portal.validators import mask_phone

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway refused or could not be reached; the caller may retry."""


class BaseSmsBackend:
    def send(self, *, phone: str, message: str) -> None:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    def send(self, *, phone: str, message: str) -> None:
        # Development only: the message (a code) is shown so the developer can sign in.
        print(f"[SMS to {phone}] {message}", flush=True)


class FileSmsBackend(BaseSmsBackend):
    """Appends one JSON line per message to ``SMS_FILE_PATH/outbox.jsonl``."""

    _lock = threading.Lock()

    def send(self, *, phone: str, message: str) -> None:
        path = Path(settings.SMS_FILE_PATH)
        path.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"to": phone, "message": message, "at": timezone.now().isoformat()}, ensure_ascii=False)
        with self._lock, open(path / "outbox.jsonl", "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        logger.info("SMS to %s written to %s", mask_phone(phone), path)


class HttpGatewaySmsBackend(BaseSmsBackend):
    """Posts ``{"to", "message"}`` as JSON to the city's SMS gateway (``SMS_GATEWAY_URL``,
    bearer ``SMS_GATEWAY_TOKEN``). Anything but a 2xx answer raises SmsError, so the
    delivery task retries with backoff."""

    def send(self, *, phone: str, message: str) -> None:
        import urllib.error
        import urllib.request

        url = settings.SMS_GATEWAY_URL
        if not url.startswith(("https://", "http://")):
            raise SmsError("SMS_GATEWAY_URL must be an http(s) URL.")
        request = urllib.request.Request(  # noqa: S310 -- scheme checked above
            url,
            data=json.dumps({"to": phone, "message": message}, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 -- scheme checked above
                if not 200 <= response.status < 300:
                    raise SmsError(f"gateway answered {response.status}")
        except (urllib.error.URLError, TimeoutError) as exc:
            raise SmsError(f"gateway unreachable: {exc}") from exc


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps messages in ``portal.sms.outbox`` (like Django's locmem mail backend)."""

    def send(self, *, phone: str, message: str) -> None:
        outbox.append({"to": phone, "message": message})


outbox: list[dict[str, str]] = []


def get_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, phone: str, message: str) -> None:
    sign = settings.SMS_SIGN
    get_backend().send(phone=phone, message=f"【{sign}】{message}" if sign else message)
