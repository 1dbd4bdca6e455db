"""Who may register for an event: a pure function of the person's facts, the event and the
moment."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from portal.rules import RuleResult


@dataclass(frozen=True)
class ParticipantFacts:
    birth_date: dt.date | None
    is_graduate: bool
    has_open_registration: bool


@dataclass(frozen=True)
class EventTerms:
    published: bool
    registration_opens: dt.datetime
    registration_closes: dt.datetime
    starts_on: dt.date
    min_age: int | None
    max_age: int | None
    graduates_only: bool


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def can_register(*, facts: ParticipantFacts, terms: EventTerms, now: dt.datetime) -> RuleResult:
    result = RuleResult(
        parameters={"min_age": terms.min_age, "max_age": terms.max_age, "graduates_only": terms.graduates_only}
    )
    result.add(
        "published",
        terms.published,
        _("The event is open") if terms.published else _("The event is not open for registration"),
    )
    if now < terms.registration_opens:
        result.add(
            "window",
            False,
            _("Registration opens on %(when)s") % {"when": terms.registration_opens.strftime("%Y-%m-%d %H:%M")},
        )
    elif now >= terms.registration_closes:
        result.add(
            "window",
            False,
            _("Registration closed on %(when)s") % {"when": terms.registration_closes.strftime("%Y-%m-%d %H:%M")},
        )
    else:
        result.add(
            "window",
            True,
            _("Registration is open until %(when)s") % {"when": terms.registration_closes.strftime("%Y-%m-%d %H:%M")},
        )
    if terms.min_age is not None or terms.max_age is not None:
        low, high = terms.min_age or 0, terms.max_age or 200
        if facts.birth_date is None:
            result.add(
                "age",
                False,
                _("Age: %(low)d–%(high)d; add your ID number to your profile") % {"low": low, "high": high},
            )
        else:
            age = age_on(facts.birth_date, terms.starts_on)
            ok = low <= age <= high
            result.add(
                "age",
                ok,
                _("Age on the day: %(age)d, allowed %(low)d–%(high)d") % {"age": age, "low": low, "high": high},
            )
    if terms.graduates_only:
        result.add(
            "graduate",
            facts.is_graduate,
            _("For graduates: your profile shows your education")
            if facts.is_graduate
            else _("For graduates: add your education and graduation date to your profile"),
        )
    result.add(
        "once",
        not facts.has_open_registration,
        _("One registration per person") if not facts.has_open_registration else _("You are already registered"),
    )
    return result
