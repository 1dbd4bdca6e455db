"""Notification kinds: what a message says, in every language, and on which channels it
may go besides the in-app inbox. Apps register their own kinds at import time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from portal.constants import Channel


@dataclass(frozen=True)
class NotificationKind:
    code: str
    title: str  # lazy, formatted with the context
    body: str
    channels: tuple[str, ...] = (Channel.EMAIL,)
    # (context) -> [(filename, content, mimetype)]: files attached to the e-mail copy.
    attachments: Callable[[dict], list[tuple[str, str, str]]] | None = None


KINDS: dict[str, NotificationKind] = {}


def register_kind(kind: NotificationKind) -> NotificationKind:
    KINDS[kind.code] = kind
    return kind


register_kind(
    NotificationKind(
        code="organisation_verified",
        title=_("Organisation verified: {organisation}"),
        body=_("{organisation} has been verified. You can now post positions and take part in programmes."),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="organisation_rejected",
        title=_("Organisation not verified: {organisation}"),
        body=_("{organisation} could not be verified. Reason: {reason}. You can correct the details and submit again."),
        channels=(Channel.EMAIL, Channel.SMS),
    )
)
register_kind(
    NotificationKind(
        code="organisation_submitted",
        title=_("Organisation waiting for verification: {organisation}"),
        body=_("{organisation} ({district}) was submitted for verification."),
        channels=(),
    )
)
register_kind(
    NotificationKind(
        code="announcement",
        # Announcements are data written by organisers, not text to translate.
        title="{title}",
        body="{body}",
        channels=(Channel.EMAIL,),
    )
)
