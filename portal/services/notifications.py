from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation

from portal.constants import Channel, DeliveryStatus
from portal.models import Delivery, Notification, NotificationPreference, User
from portal.notifications import KINDS
from portal.sms import send_sms

logger = logging.getLogger(__name__)

FANOUT_BATCH_SIZE = 500


class DeliveryError(Exception):
    pass


def _render(user: User, kind: str, context: dict[str, Any]) -> tuple[str, str]:
    spec = KINDS[kind]
    with translation.override(user.language or settings.LANGUAGE_CODE):
        ctx = {k: str(v) for k, v in context.items()}
        return str(spec.title).format(**ctx), str(spec.body).format(**ctx)


def _json_context(context: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (int, float, bool, type(None))) else str(v) for k, v in context.items()}


def _channels(user: User, kind: str, preference: NotificationPreference | None) -> list[str]:
    spec = KINDS[kind]
    wanted = []
    for channel in spec.channels:
        if preference is not None and not preference.allows(channel):
            continue
        if channel == Channel.EMAIL and not user.email:
            continue
        if channel == Channel.SMS and not user.phone:
            continue
        wanted.append(channel)
    return wanted


def notify(*, user: User, kind: str, context: dict[str, Any], link: str = "") -> Notification:
    """Tell ``user`` something: an in-app notification now, and one delivery per channel the
    kind uses and the user allows, sent by Celery after the surrounding transaction commits."""
    if kind not in KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}")
    title, body = _render(user, kind, context)
    preference = NotificationPreference.objects.filter(user=user).first()
    with transaction.atomic():
        notification = Notification.objects.create(
            user=user,
            kind=kind,
            title=title[:200],
            body=body,
            link=link or context.get("link", ""),
            context=_json_context(context) if KINDS[kind].attachments else {},
        )
        deliveries = [
            Delivery(notification=notification, channel=ch, key=f"{notification.pk}:{ch}")
            for ch in _channels(user, kind, preference)
        ]
        Delivery.objects.bulk_create(deliveries)
        _enqueue([d.pk for d in Delivery.objects.filter(notification=notification)] if deliveries else [])
    return notification


def notify_many(*, user_ids: Sequence[int], kind: str, context: dict[str, Any], link: str = "") -> int:
    """Fan out one message to many users in batches of ``FANOUT_BATCH_SIZE`` Celery tasks,
    so an announcement to thousands never holds one request or one task for long."""
    from portal.tasks import notify_batch

    ids = list(dict.fromkeys(user_ids))
    fanout = uuid.uuid4().hex
    for start in range(0, len(ids), FANOUT_BATCH_SIZE):
        batch = ids[start : start + FANOUT_BATCH_SIZE]
        transaction.on_commit(lambda b=batch: notify_batch.delay(b, kind, context, link, fanout))
    return len(ids)


def notify_batch_create(
    *, user_ids: Iterable[int], kind: str, context: dict[str, Any], link: str = "", fanout: str
) -> int:
    """Write the notifications and deliveries of one fan-out batch with bulk inserts.
    Rows are keyed by (fanout, user), so running the same batch twice adds nothing."""
    users = {u.pk: u for u in User.objects.filter(pk__in=list(user_ids), is_active=True)}
    prefs = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=list(users))}
    with transaction.atomic():
        new = []
        for user in users.values():
            title, body = _render(user, kind, context)
            new.append(
                Notification(user=user, kind=kind, title=title[:200], body=body, link=link, key=f"{fanout}:{user.pk}")
            )
        Notification.objects.bulk_create(new, ignore_conflicts=True)
        notifications = Notification.objects.filter(key__in=[n.key for n in new]).only("pk", "user_id")
        deliveries = [
            Delivery(notification_id=n.pk, channel=ch, key=f"{n.pk}:{ch}")
            for n in notifications
            for ch in _channels(users[n.user_id], kind, prefs.get(n.user_id))
        ]
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        pending = Delivery.objects.filter(key__in=[d.key for d in deliveries], status=DeliveryStatus.QUEUED)
        _enqueue(list(pending.values_list("pk", flat=True)))
    return len(new)


def _enqueue(delivery_ids: list[int]) -> None:
    from portal.tasks import deliver_notification

    for pk in delivery_ids:
        transaction.on_commit(lambda pk=pk: deliver_notification.delay(pk))


def delivery_send(*, delivery_id: int) -> Delivery | None:
    """Send one delivery once. The row lock and the status check make a retried or
    redelivered task a no-op once the message went out. Raises DeliveryError (after
    recording the error) when the channel failed, so the task can retry."""
    error = None
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("notification__user")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:  # the recipient deleted their account meanwhile: nothing to send
            return None
        if delivery.status != DeliveryStatus.QUEUED:
            return delivery
        delivery.attempts += 1
        try:
            _send(delivery)
        except Exception as exc:  # any gateway failure is recorded and retried
            error = exc
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            delivery.save(update_fields=["attempts", "last_error"])
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = timezone.now()
            delivery.last_error = ""
            delivery.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    if error is not None:
        raise DeliveryError(str(error)) from error
    return delivery


def delivery_mark_failed(*, delivery_id: int) -> None:
    """Give up on a delivery after the last retry; the error stays on the row."""
    Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED).update(status=DeliveryStatus.FAILED)


def _send(delivery: Delivery) -> None:
    notification = delivery.notification
    user = notification.user
    if delivery.channel == Channel.EMAIL:
        body = notification.body
        if notification.link:
            body += "\n\n" + notification.link
        message = EmailMessage(notification.title, body, None, [user.email])
        builder = KINDS[notification.kind].attachments if notification.kind in KINDS else None
        for filename, content, mimetype in builder(notification.context) if builder else []:
            message.attach(filename, content, mimetype)
        message.send(fail_silently=False)
    elif delivery.channel == Channel.SMS:
        send_sms(phone=user.phone, message=f"{notification.title}。{notification.body}"[:300])
    else:
        raise ValueError(f"Unknown channel {delivery.channel}")


def notifications_mark_read(*, user: User, ids: Sequence[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when ``ids`` is None)."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


def notification_preference_update(*, user: User, email: bool, sms: bool) -> NotificationPreference:
    pref, _created = NotificationPreference.objects.update_or_create(user=user, defaults={"email": email, "sms": sms})
    return pref
