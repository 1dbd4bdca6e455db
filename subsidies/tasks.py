"""Thin Celery wrappers around the subsidy services. The checks are ``acks_late`` and
rejected on a lost worker, so a killed worker's check runs again; the service stores one
result per check request, so nothing is stored or told twice."""

from celery import shared_task

from subsidies import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def subsidy_check(application_id: int, sequence: int, reason: str = "") -> bool:
    return services.subsidy_check(application_id=application_id, sequence=sequence, reason=reason)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def subsidy_checks_batch(application_ids: list[int], reason: str = "") -> int:
    return services.subsidy_checks_run(application_ids=application_ids, reason=reason)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def subsidies_recheck_users(user_ids: list[int], reason: str) -> int:
    return services.subsidies_recheck(user_ids=user_ids, reason=reason)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def subsidies_recheck_all(reason: str) -> int:
    return services.subsidies_recheck(all_open=True, reason=reason)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def subsidy_notices_close() -> int:
    """Every morning: notices that ended without an open objection become payable."""
    return services.subsidy_notices_close()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def subsidies_screen() -> int:
    """Every day: tell graduates who now qualify for a programme they have not applied to."""
    return services.subsidies_screen()
