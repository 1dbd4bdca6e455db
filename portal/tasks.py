"""Thin Celery wrappers around portal services. Tasks take primary keys, never model
instances; the retry policy lives here."""

from celery import shared_task
from django.db import OperationalError

from portal.services import notifications as svc

MAX_RETRIES = 6
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600


def backoff(retries: int) -> int:
    """30 s, 60 s, 120 s ... capped at an hour."""
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retries)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def deliver_notification(self, delivery_id: int) -> None:
    try:
        svc.delivery_send(delivery_id=delivery_id)
    except svc.DeliveryError as exc:
        if self.request.retries >= self.max_retries:
            svc.delivery_mark_failed(delivery_id=delivery_id)
            return
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(acks_late=True, reject_on_worker_lost=True)
def notify_batch(user_ids: list[int], kind: str, context: dict, link: str, fanout: str) -> int:
    return svc.notify_batch_create(user_ids=user_ids, kind=kind, context=context, link=link, fanout=fanout)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def account_deletion_execute(self, request_id: int) -> None:
    """Anonymise a deleted account (idempotent: a redelivered task finds it done)."""
    from portal.services.deletion import deletion_execute

    try:
        deletion_execute(request_id=request_id)
    except OperationalError as exc:  # a lock or a lost connection: try again later
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(acks_late=True, reject_on_worker_lost=True)
def privacy_retention_run() -> dict:
    """Nightly: anonymise closed applications past the retention period (ADR 0009)."""
    from portal.services.deletion import retention_run

    return retention_run()
