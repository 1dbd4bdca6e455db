"""iCalendar (RFC 5545) text for events: the confirmation e-mail's attachment and the
private calendar feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone

from events.models import Event


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    # Lines longer than 75 octets are folded with CRLF + space (UTF-8 safe).
    out, current = [], b""
    for ch in line:
        encoded = ch.encode()
        if len(current) + len(encoded) > 73:
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def _utc(value) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(events: Iterable[Event], *, name: str = "") -> str:
    # The UID's domain: the first host name that is not a wildcard (".example.org" gives example.org).
    host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h.lstrip(".") and "*" not in h), "portal.local")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Luoyang youth talent portal//events//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    if name:
        lines.append(f"X-WR-CALNAME:{_escape(name)}")
    stamp = _utc(timezone.now())
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:event-{event.pk}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(event.starts_at)}",
            f"DTEND:{_utc(event.ends_at)}",
            f"SUMMARY:{_escape(event.title)}",
            f"LOCATION:{_escape(event.where)}",
            f"DESCRIPTION:{_escape(event.description[:1000])}",
            "STATUS:CANCELLED" if event.status == "cancelled" else "STATUS:CONFIRMED",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
