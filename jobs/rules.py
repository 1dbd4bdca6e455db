"""Who may apply to a position: a pure function of the graduate's profile facts, the
position and the date."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from jobs.constants import PositionStatus
from jobs.models import Position
from portal.constants import EDUCATION_RANK, EducationLevel
from portal.rules import RuleResult
from portal.selectors import Completeness


def can_apply(*, position: Position, completeness: Completeness, education_level: str, today: dt.date) -> RuleResult:
    result = RuleResult(
        parameters={"deadline": position.deadline.isoformat(), "education_level": position.education_level}
    )
    open_now = position.status == PositionStatus.PUBLISHED and position.deadline >= today
    result.add(
        "position_open",
        open_now,
        _("The position is open until %(deadline)s") % {"deadline": position.deadline.isoformat()}
        if open_now
        else _("The position is no longer open for applications"),
    )
    if completeness.complete:
        result.add("profile_complete", True, _("Your profile is complete"))
    else:
        result.add(
            "profile_complete",
            False,
            _("Your profile is missing: %(items)s") % {"items": "、".join(completeness.missing)},
        )
    if position.education_level:
        required = EducationLevel(position.education_level)
        if not education_level:
            result.add(
                "education",
                False,
                _("Education: required %(required)s or above; your profile has none") % {"required": required.label},
            )
        else:
            have = EducationLevel(education_level)
            ok = EDUCATION_RANK[have] >= EDUCATION_RANK[required]
            result.add(
                "education",
                ok,
                _("Education: %(have)s, required %(required)s or above")
                % {"have": have.label, "required": required.label},
            )
    return result
