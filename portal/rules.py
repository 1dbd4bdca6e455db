"""The shape every eligibility rule returns (DESIGN.md "Eligibility: rules as data"): eligible
or not, plus one line per criterion with a code, whether it passed, and a message in the
reader's language that names the values used."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Criterion:
    code: str
    passed: bool
    message: str
    # A criterion that does not decide eligibility on its own but is shown with its ✓/✗
    # (e.g. whether an affordable-rental applicant is on the graduates' set-aside list).
    blocking: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "passed": self.passed, "message": str(self.message), "blocking": self.blocking}


@dataclass
class RuleResult:
    criteria: list[Criterion] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def eligible(self) -> bool:
        return all(c.passed for c in self.criteria if c.blocking)

    @property
    def failures(self) -> list[Criterion]:
        """The criteria that make the applicant ineligible."""
        return [c for c in self.criteria if c.blocking and not c.passed]

    def add(self, code: str, passed: bool, message: str, *, blocking: bool = True) -> None:
        self.criteria.append(Criterion(code=code, passed=passed, message=message, blocking=blocking))

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "criteria": [c.as_dict() for c in self.criteria],
            "parameters": self.parameters,
        }


def years_later(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (or earlier); 29 February falls on the 28th.
    Counting by the calendar keeps "exactly two years ago" inside whatever leap days lie
    between."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def months_later(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` later, or the month's last day where it is
    shorter (31 January + 1 month = 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def whole_years_between(earlier: dt.date, later: dt.date) -> int:
    """Full calendar years from ``earlier`` to ``later`` (0 if ``later`` comes first)."""
    years = later.year - earlier.year
    if years > 0 and years_later(earlier, years) > later:
        years -= 1
    return max(0, years)
