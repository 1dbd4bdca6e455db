from django.db import models
from django.utils.translation import gettext_lazy as _


class PositionKind(models.TextChoices):
    JOB = "job", _("Full-time job")
    INTERNSHIP = "internship", _("Internship (实习)")
    TRAINEESHIP = "traineeship", _("Traineeship (见习)")
    PRACTICE = "practice", _("Practice position (实践岗位)")


class PositionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending review")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    CLOSED = "closed", _("Closed")
    EXPIRED = "expired", _("Expired")


class RejectionReason(models.TextChoices):
    INCOMPLETE = "incomplete", _("The description is incomplete")
    SALARY = "salary", _("The salary is missing, unclear or below the minimum wage")
    DISCRIMINATION = "discrimination", _("The requirements discriminate (gender, age, origin, marital status)")
    FEES = "fees", _("The position asks applicants for fees or deposits")
    DUPLICATE = "duplicate", _("The position duplicates another posting")
    WRONG_KIND = "wrong_kind", _("The kind or district does not match the position")
    OTHER = "other", _("Other (see the note)")


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    VIEWED = "viewed", _("Viewed by the employer")
    INTERVIEW = "interview", _("Invited to interview")
    OFFERED = "offered", _("Offered")
    HIRED = "hired", _("Hired")
    REJECTED = "rejected", _("Not selected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_APPLICATION_STATES = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.VIEWED,
    ApplicationStatus.INTERVIEW,
    ApplicationStatus.OFFERED,
)


class SortOrder(models.TextChoices):
    NEWEST = "newest", _("Newest")
    DEADLINE = "deadline", _("Deadline soonest")
    SALARY = "salary", _("Highest salary")


# Search results are the same for everyone for a short while: the page and the API serve them
# from the shared cache, so a newly published position shows within this many seconds.
SEARCH_CACHE_SECONDS = 30


# The fields of a position that its employer writes (forms, API and services agree).
POSITION_FIELDS = (
    "kind",
    "title",
    "description",
    "district",
    "industry",
    "education_level",
    "majors",
    "headcount",
    "salary_min",
    "salary_max",
    "work_address",
    "deadline",
)
