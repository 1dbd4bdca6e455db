"""Fixtures of the subsidy tests: the programmes (loaded by the data migration), graduates
with complete profiles, an interview invitation from the jobs programme, a traineeship base
with a hired trainee."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from subsidies.models import Programme
from tests.apartments.conftest import Clock, give_interview, give_letter, make_graduate  # noqa: F401


@pytest.fixture
def programme(db):
    def get(code: str) -> Programme:
        return Programme.objects.get(code=code)

    return get


def make_subsidy_graduate(*, district=None, **profile):
    """A graduate from 郑州 with a complete profile (degree certificate, consent), bachelor,
    graduated about half a year ago, working in Luoyang."""
    from portal.constants import DocumentKind

    fields = {"works_in_luoyang": True}
    fields.update(profile)
    user = make_graduate(district=district, **fields)
    give_letter(user, kind=DocumentKind.DEGREE_CERTIFICATE)
    return user


def with_interview(user):
    return give_interview(user, starts_at=timezone.now() + dt.timedelta(days=3))
