"""Thin Celery wrappers around the events services (celery beat runs them)."""

from celery import shared_task

from events import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def offers_expire() -> int:
    return services.offers_expire()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def events_mark_no_shows() -> int:
    return services.events_mark_no_shows()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def events_send_reminders() -> int:
    return services.events_send_reminders()
