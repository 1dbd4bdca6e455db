"""``can_apply``: a pure function of the position, the profile's completeness, the
education level and the date, returning one criterion per check with a message that
names the values used. No database needed."""

import datetime as dt

import pytest
from django.utils import translation

from jobs.constants import PositionStatus
from jobs.models import Position
from jobs.rules import can_apply
from portal.constants import EducationLevel
from portal.selectors import Completeness

TODAY = dt.date(2026, 6, 1)
COMPLETE = Completeness(percent=100)


def _position(**kwargs):
    defaults = {
        "status": PositionStatus.PUBLISHED,
        "deadline": TODAY + dt.timedelta(days=10),
        "education_level": EducationLevel.BACHELOR,
    }
    defaults.update(kwargs)
    return Position(**defaults)


def _check(position=None, completeness=COMPLETE, education=EducationLevel.BACHELOR, today=TODAY):
    with translation.override("en"):
        result = can_apply(
            position=position or _position(), completeness=completeness, education_level=education, today=today
        )
        return result, {c.code: (c.passed, str(c.message)) for c in result.criteria}


def test_everything_met():
    result, criteria = _check()

    assert result.eligible
    assert criteria == {
        "position_open": (True, "The position is open until 2026-06-11"),
        "profile_complete": (True, "Your profile is complete"),
        "education": (True, "Education: Bachelor (本科), required Bachelor (本科) or above"),
    }
    assert result.parameters == {"deadline": "2026-06-11", "education_level": "bachelor"}


@pytest.mark.parametrize("status", ["draft", "pending", "rejected", "closed", "expired"])
def test_a_position_that_is_not_published_is_not_open(status):
    result, criteria = _check(_position(status=status))

    assert not result.eligible
    assert criteria["position_open"] == (False, "The position is no longer open for applications")


def test_the_deadline_day_is_still_open_the_day_after_is_not():
    assert _check(_position(deadline=TODAY))[0].eligible

    result, criteria = _check(_position(deadline=TODAY - dt.timedelta(days=1)))
    assert not result.eligible
    assert criteria["position_open"][0] is False


def test_an_incomplete_profile_lists_what_is_missing():
    incomplete = Completeness(percent=60, missing=["ID number", "Degree certificate (upload)"])

    result, criteria = _check(completeness=incomplete)

    assert not result.eligible
    assert criteria["profile_complete"] == (False, "Your profile is missing: ID number、Degree certificate (upload)")
    assert [c.code for c in result.failures] == ["profile_complete"]


@pytest.mark.parametrize(
    ("have", "required", "ok"),
    [
        (EducationLevel.MASTER, EducationLevel.BACHELOR, True),
        (EducationLevel.DOCTOR, EducationLevel.MASTER, True),
        (EducationLevel.JUNIOR_COLLEGE, EducationLevel.BACHELOR, False),
        (EducationLevel.BACHELOR, EducationLevel.MASTER, False),
        # The technical-school levels rank alike.
        (EducationLevel.TECHNICIAN, EducationLevel.PREP_TECHNICIAN, True),
        (EducationLevel.PREP_TECHNICIAN, EducationLevel.TECHNICIAN, True),
        (EducationLevel.TECHNICIAN, EducationLevel.BACHELOR, False),
    ],
)
def test_education_is_compared_by_rank(have, required, ok):
    result, criteria = _check(_position(education_level=required), education=have)

    assert result.eligible is ok
    passed, message = criteria["education"]
    assert passed is ok
    with translation.override("en"):
        assert message == f"Education: {have.label}, required {required.label} or above"


def test_education_missing_from_the_profile():
    result, criteria = _check(education="")

    assert not result.eligible
    assert criteria["education"] == (False, "Education: required Bachelor (本科) or above; your profile has none")


def test_no_education_requirement_means_no_education_criterion():
    result, criteria = _check(_position(education_level=""), education="")

    assert result.eligible
    assert "education" not in criteria


def test_every_failure_is_reported_at_once():
    result, _criteria = _check(
        _position(status=PositionStatus.CLOSED, education_level=EducationLevel.MASTER),
        completeness=Completeness(percent=90, missing=["School"]),
    )

    assert [c.code for c in result.failures] == ["position_open", "profile_complete", "education"]
    assert result.as_dict()["eligible"] is False
