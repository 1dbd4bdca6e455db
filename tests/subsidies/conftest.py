"""Fixtures of the subsidy tests: the programmes (loaded by the data migration), graduates
with complete profiles, an interview invitation from the jobs programme, a traineeship base
with a hired trainee."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from jobs import services as jobs_services
from jobs.constants import PositionKind
from subsidies.models import Programme
from tests.apartments.conftest import Clock, give_interview, give_letter, make_graduate  # noqa: F401
from tests.jobs.factories import JobApplicationFactory, PositionFactory, TraineeshipBaseFactory
from tests.portal.factories import OrganisationFactory


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


@pytest.fixture
def grad(district_1):
    """Eligible for the interview travel subsidy: from 郑州, graduated half a year ago,
    invited to an interview by a Luoyang employer in the jobs programme."""
    user = make_subsidy_graduate(district=district_1)
    with_interview(user)
    return user


@pytest.fixture
def grad_no_interview(district_2):
    return make_subsidy_graduate(district=district_2)


def verified_employer(district):
    org = OrganisationFactory(verified=True, district=district)
    return org, org.memberships.get().user


def hire(org, employer, *, kind=PositionKind.TRAINEESHIP):
    """A graduate hired through the jobs services into a position of ``org``."""
    position = PositionFactory(organisation=org, kind=kind, published=True)
    application = JobApplicationFactory(position=position, offered=True)
    jobs_services.job_application_hire(application=application, actor=employer)
    application.refresh_from_db()
    return application


@pytest.fixture
def base(district_1):
    """A verified organisation that is a traineeship base, with a trainee hired today."""
    org, employer = verified_employer(district_1)
    TraineeshipBaseFactory(organisation=org)
    return org, employer, hire(org, employer)
