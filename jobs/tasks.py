from celery import shared_task

from jobs import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def positions_expire() -> int:
    """Hourly (celery beat): published positions past their deadline become expired."""
    return services.positions_expire_due()
