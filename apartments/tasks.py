"""Thin Celery wrappers around the station services (celery beat runs them)."""

from celery import shared_task

from apartments import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def stays_mark_no_show() -> int:
    """Every morning: bookings whose check-in day passed without check-in become no-shows."""
    return services.stays_mark_no_show()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def residents_job_push() -> int:
    """Every morning: new matching positions to checked-in residents."""
    return services.residents_job_push()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def follow_ups_run() -> dict:
    """Every day: follow-up questionnaires, answers from hires, and staff call tasks."""
    return services.follow_ups_run()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def bed_alerts_notify(station_id: int, dates: list[str]) -> int:
    import datetime as dt

    return services.bed_alerts_notify(station_id=station_id, dates=[dt.date.fromisoformat(d) for d in dates])


@shared_task(acks_late=True, reject_on_worker_lost=True)
def round_draw(round_id: int) -> dict:
    """The staff's draw button: rank a round's approved applications from its public seed."""
    return services.round_draw(round_id=round_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def housing_offers_fill(round_id: int) -> int:
    """After a decline, an expiry or a withdrawal: offer the freed unit down the ranks."""
    from apartments.models import AllocationRound

    round = AllocationRound.objects.filter(pk=round_id).first()
    return services.housing_offers_fill(round=round) if round else 0


@shared_task(acks_late=True, reject_on_worker_lost=True)
def housing_offers_run() -> dict:
    """Every few minutes: expire overdue offers and fill drawn rounds (spill-over included)."""
    return services.housing_offers_run()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def leases_recheck_remind() -> int:
    """Every day: the yearly "still working in Luoyang?" question to tenants and staff."""
    return services.leases_recheck_remind()
