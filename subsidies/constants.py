from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ApplicantKind(models.TextChoices):
    GRADUATE = "graduate", _("Graduate")
    EMPLOYER = "employer", _("Employer")


class RuleCode(models.TextChoices):
    """The eligibility rules the code knows; a programme row names one of them."""

    INTERVIEW_TRAVEL = "interview_travel", _("Interview travel subsidy")
    TRAINEESHIP_LIVING = "traineeship_living", _("Traineeship living subsidy")
    EMPLOYER_HIRING = "employer_hiring", _("Employer graduate-hiring subsidy")
    UNIVERSITY_BASE = "university_base", _("University–enterprise base subsidy")
    INCUBATION_RENT = "incubation_rent", _("Incubation rent waiver")
    STARTUP_LOAN = "startup_loan", _("Start-up guaranteed loan referral")
    RENT_SUBSIDY = "rent_subsidy", _("Rent subsidy")


class PeriodKind(models.TextChoices):
    ONCE = "once", _("Once per person")
    MONTHLY = "monthly", _("Per month")
    YEARLY = "yearly", _("Per year")
    PER_HIRE = "per_hire", _("Per hire")


class SubsidyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, being checked")
    ELIGIBLE = "eligible", _("Checked: eligible")
    INELIGIBLE = "ineligible", _("Checked: not eligible")
    UNDER_REVIEW = "under_review", _("Under review")
    APPROVED = "approved", pgettext_lazy("subsidy", "Approved")
    REJECTED = "rejected", pgettext_lazy("subsidy", "Rejected")
    NOTICE = "notice", _("Public notice")
    PAYABLE = "payable", _("Payable")
    PAID = "paid", _("Paid")
    REFERRED = "referred", _("Referred to the bank")
    WITHDRAWN = "withdrawn", pgettext_lazy("subsidy", "Withdrawn")


# The database allows one application per programme and person/period in these states: a
# rejected or withdrawn one may be followed by a new one.
ACTIVE_SUBSIDY_STATES = (
    SubsidyStatus.DRAFT,
    SubsidyStatus.SUBMITTED,
    SubsidyStatus.ELIGIBLE,
    SubsidyStatus.INELIGIBLE,
    SubsidyStatus.UNDER_REVIEW,
    SubsidyStatus.APPROVED,
    SubsidyStatus.NOTICE,
    SubsidyStatus.PAYABLE,
    SubsidyStatus.PAID,
    SubsidyStatus.REFERRED,
)
# Re-checked when a fact or a parameter changes.
OPEN_SUBSIDY_STATES = (SubsidyStatus.SUBMITTED, SubsidyStatus.ELIGIBLE, SubsidyStatus.INELIGIBLE)
# Money promised: counted against the programme's yearly budget.
COMMITTED_STATES = (SubsidyStatus.APPROVED, SubsidyStatus.NOTICE, SubsidyStatus.PAYABLE, SubsidyStatus.PAID)


class ObjectionStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("objection", "Open")
    UPHELD = "upheld", _("Upheld: application rejected")
    DISMISSED = "dismissed", _("Dismissed")


class LoanProduct(models.TextChoices):
    TALENT = "talent", _("Talent loan (人才贷)")
    GROWTH = "growth", _("Growth loan (成长贷)")
    BANK_INVESTMENT = "bank_investment", _("Bank–investor loan (银投联贷)")


# Policy parameters (portal.Parameter keys), loaded by a data migration.
MIN_WAGE = "min-wage-tier-{tier}"  # monthly minimum wage by tier (1–3), Henan notices
INTERVIEW_AMOUNT = "subsidy-interview-amount"
INTERVIEW_GRADUATION_YEARS = "subsidy-interview-graduation-years"
TRAINEESHIP_FACTOR = "subsidy-traineeship-factor"
TRAINEESHIP_MAX_MONTHS = "subsidy-traineeship-max-months"
HIRING_AMOUNT = "subsidy-hiring-amount"
HIRING_GRADUATION_YEARS = "subsidy-hiring-graduation-years"
RENT_MONTHLY_AMOUNT = "subsidy-rent-monthly-amount"
RENT_GRADUATION_YEARS = "subsidy-rent-graduation-years"
STARTUP_GRADUATION_YEARS = "subsidy-startup-graduation-years"
INCUBATION_MAX_MONTHS = "subsidy-incubation-max-months"
BASE_MIN = "subsidy-base-min"
BASE_MAX = "subsidy-base-max"
SECOND_APPROVAL_ABOVE = "subsidy-second-approval-above"
NOTICE_DAYS = "subsidy-notice-days"


# Why a check ran (the services' reason codes), in words.
CHECK_REASONS = {
    "submitted": _("the application was sent"),
    "profile": _("the profile changed"),
    "hire": _("a hire was recorded in the jobs programme"),
    "lease": _("a talent-apartment lease changed"),
    "document": _("a document was uploaded"),
    "parameter": _("a policy value changed"),
    "programme": _("the programme's combination rules changed"),
    "batch": _("a batch re-check"),
}
# Keys of a check's parameters that describe the run rather than a policy value.
RUN_KEYS = ("rule", "rule_version", "evaluated_on", "period_start")
