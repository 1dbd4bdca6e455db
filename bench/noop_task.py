"""The baseline task of bench/bench_tasks.py: does nothing but count itself in Redis, so the
benchmark can tell when the worker has run them all. Loaded into the worker with
``celery -A portal worker -I bench.noop_task``."""

import os

import redis
from celery import shared_task

_client = None


@shared_task(name="bench.noop", ignore_result=True, acks_late=True)
def noop(counter: str) -> None:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    _client.incr(counter)
