"""Who may book a youth station (POLICY.md "Youth stations"): a pure function of the
graduate's facts, the parameters in force and the moment of booking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from portal.rules import RuleResult, years_later

CHECK_IN_HOUR = 14  # beds are ready from 14:00 on the check-in day


@dataclass(frozen=True)
class StationFacts:
    outside_luoyang: bool | None
    graduation_date: dt.date | None
    has_interview: bool
    has_invitation_letter: bool
    nights_used: int
    has_active_stay: bool
    blocked_until: dt.date | None


@dataclass(frozen=True)
class StationParams:
    max_nights: int
    graduation_years: int
    booking_min_hours: int


def station_eligibility(
    *, facts: StationFacts, params: StationParams, check_in: dt.date, nights: int, now: dt.datetime
) -> RuleResult:
    """One line per criterion, with the values used; the result stores the parameters."""
    now = timezone.localtime(now)  # the day and the 14:00 check-in are Luoyang's
    today = now.date()
    result = RuleResult(
        parameters={
            "max_nights": params.max_nights,
            "graduation_years": params.graduation_years,
            "booking_min_hours": params.booking_min_hours,
            "evaluated_at": now.isoformat(),
        }
    )
    # Household registration outside Luoyang.
    if facts.outside_luoyang is None:
        result.add("hukou", False, _("Household registration: not filled in your profile"))
    else:
        result.add(
            "hukou",
            facts.outside_luoyang,
            _("Household registration: outside Luoyang")
            if facts.outside_luoyang
            else _("Household registration: in Luoyang (stations are for graduates from elsewhere)"),
        )
    # Graduated within N years, or graduating within one year.
    if facts.graduation_date is None:
        result.add("graduation", False, _("Graduation date: not filled in your profile"))
    elif facts.graduation_date > today:
        soon = facts.graduation_date <= years_later(today, 1)
        result.add(
            "graduation",
            soon,
            (_("Graduation: %(date)s, within one year") if soon else _("Graduation: %(date)s, more than one year away"))
            % {"date": facts.graduation_date.strftime("%Y-%m")},
        )
    else:
        ok = facts.graduation_date >= years_later(today, -params.graduation_years)
        result.add(
            "graduation",
            ok,
            (
                _("Graduation: %(date)s, within %(n)d years")
                if ok
                else _("Graduation: %(date)s, more than %(n)d years ago")
            )
            % {"date": facts.graduation_date.strftime("%Y-%m"), "n": params.graduation_years},
        )
    # Reason: looking for work, shown by an interview invitation.
    if facts.has_interview:
        result.add("reason", True, _("Job search: interview invitation in the jobs programme"))
    elif facts.has_invitation_letter:
        result.add("reason", True, _("Job search: uploaded invitation or offer letter (checked at check-in)"))
    else:
        result.add("reason", False, _("Job search: no interview invitation yet; upload an invitation or offer letter"))
    # Nights left of the free allowance.
    left = max(0, params.max_nights - facts.nights_used)
    result.add(
        "nights",
        nights <= left,
        _("Free nights: %(asked)d asked, %(left)d of %(max)d left")
        % {"asked": nights, "left": left, "max": params.max_nights},
    )
    result.add(
        "one_active_stay",
        not facts.has_active_stay,
        _("One stay at a time: no other booking")
        if not facts.has_active_stay
        else _("One stay at a time: you already have a booking"),
    )
    if facts.blocked_until and facts.blocked_until >= today:
        result.add(
            "not_blocked",
            False,
            _("Bookings are blocked until %(date)s after a missed check-in")
            % {"date": facts.blocked_until.isoformat()},
        )
    arrival = dt.datetime.combine(check_in, dt.time(CHECK_IN_HOUR), tzinfo=now.tzinfo)
    hours = (arrival - now).total_seconds() / 3600
    result.add(
        "advance",
        hours >= params.booking_min_hours,
        _("Booked at least %(n)d hours before check-in at 14:00") % {"n": params.booking_min_hours}
        if hours >= params.booking_min_hours
        else _("Too late: book at least %(n)d hours before check-in at 14:00") % {"n": params.booking_min_hours},
    )
    return result
