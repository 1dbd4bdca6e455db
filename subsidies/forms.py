"""Input of the subsidy pages: one application (or claim) form whose fields follow the
programme (the details its rule reads, the month, the trainee or hire of an employer's
claim, the organisation, the documents), and the objection to a public notice. Forms only
validate input; ``subsidies.services`` decides and says why it refuses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Document
from subsidies.constants import ApplicantKind, LoanProduct, PeriodKind, RuleCode

# The details each rule reads (subsidies/rules.py), in the order the form shows them.
DETAIL_FIELDS: dict[str, tuple[str, ...]] = {
    RuleCode.RENT_SUBSIDY: ("months",),
    RuleCode.INCUBATION_RENT: ("business_name", "credit_code", "incubator", "monthly_rent", "months"),
    RuleCode.UNIVERSITY_BASE: ("university", "base_name", "scale"),
    RuleCode.STARTUP_LOAN: ("product", "business_name", "loan_amount"),
}
# Claims made per trainee or per hire recorded in the jobs programme.
HIRE_RULES = (RuleCode.TRAINEESHIP_LIVING, RuleCode.EMPLOYER_HIRING)
# A claim covers at most a year: the services compute the period from the first month and
# the number of months, up to 12.
MAX_MONTHS = 12


class MonthInput(forms.DateInput):
    """A browser month picker (YYYY-MM); browsers without one show a text box that takes
    the same format."""

    input_type = "month"

    def __init__(self, attrs=None):
        super().__init__(attrs={"placeholder": "2026-05", **(attrs or {})}, format="%Y-%m")


class MonthField(forms.DateField):
    """A calendar month, as the first day of that month."""

    widget = MonthInput
    input_formats = ["%Y-%m", "%Y-%m-%d"]
    default_error_messages = {"invalid": _("Give the month as YYYY-MM, e.g. 2026-05.")}

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


class DocumentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Document) -> str:
        name = obj.original_name or obj.get_kind_display()
        return f"{obj.get_kind_display()}: {name} ({obj.created_at:%Y-%m-%d})"


def _hire_label(hire) -> str:
    profile = getattr(hire.applicant, "profile", None)
    name = (profile.real_name if profile else "") or hire.applicant.email or str(hire.applicant_id)
    hired = f"{hire.hired_on:%Y-%m-%d}" if hire.hired_on else "-"
    return _("%(name)s · %(position)s · hired on %(date)s · %(organisation)s") % {
        "name": name,
        "position": hire.position.title,
        "date": hired,
        "organisation": hire.position.organisation.name,
    }


class SubsidyApplicationForm(forms.Form):
    """The application of a graduate or the claim of an employer under one programme.

    ``documents`` is the queryset of the applicant's uploads, or None for the preview form
    of the programme page (which asks only what the rule reads). ``organisations`` are the
    employer's organisations; ``hires`` the hired job applications the employer may claim
    for (the organisation of a claim per trainee or hire is the one that hired)."""

    def __init__(self, *args, programme, organisations=(), hires=(), documents=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.organisations = {str(o.pk): o for o in organisations}
        self.hires = {str(h.pk): h for h in hires}
        code = programme.rule_code
        today = timezone.localdate()
        if programme.applicant_kind == ApplicantKind.EMPLOYER:
            if code in HIRE_RULES:
                traineeship = code == RuleCode.TRAINEESHIP_LIVING
                self.fields["job_application"] = forms.ChoiceField(
                    label=_("Trainee") if traineeship else _("Graduate hired"),
                    help_text=_(
                        "Trainees hired into a traineeship position of your organisation in the jobs programme."
                    )
                    if traineeship
                    else _("Graduates your organisation hired in the jobs programme."),
                    choices=[("", _("Choose…"))] + [(pk, _hire_label(h)) for pk, h in self.hires.items()],
                    error_messages={
                        "required": _("Choose the trainee.") if traineeship else _("Choose the graduate hired."),
                        "invalid_choice": _("Choose a graduate your organisation has hired in the jobs programme."),
                    },
                )
                if len(self.hires) == 1:
                    self.fields["job_application"].initial = next(iter(self.hires))
            elif len(self.organisations) > 1:
                self.fields["organisation"] = forms.ChoiceField(
                    label=_("Organisation"),
                    choices=[("", _("Choose…"))] + [(pk, o.name) for pk, o in self.organisations.items()],
                    error_messages={
                        "required": _("Choose the organisation the claim is for."),
                        "invalid_choice": _("Choose one of your organisations."),
                    },
                )
        if programme.period_kind == PeriodKind.MONTHLY:
            self.fields["period_start"] = MonthField(
                label=_("Month claimed") if code == RuleCode.TRAINEESHIP_LIVING else _("From month"),
                initial=today.replace(day=1),
                error_messages={"required": _("Give the month as YYYY-MM, e.g. 2026-05.")},
            )
        for name in DETAIL_FIELDS.get(code, ()):
            self.fields[name] = self._detail_field(name, code)
        if documents is not None:
            self.fields["documents"] = DocumentChoiceField(
                label=_("Documents"),
                queryset=documents,
                widget=forms.CheckboxSelectMultiple,
                required=False,
            )

    @staticmethod
    def _detail_field(name: str, code: str) -> forms.Field:
        if name == "months":
            incubation = code == RuleCode.INCUBATION_RENT
            return forms.IntegerField(
                label=_("Months of rent waiver") if incubation else _("Months applied for"),
                help_text=_("1 to %(n)d months from the month above.") % {"n": MAX_MONTHS},
                min_value=1,
                max_value=MAX_MONTHS,
                initial=MAX_MONTHS if not incubation else None,
                error_messages={
                    "required": _("Give the number of months (1 to %(n)d).") % {"n": MAX_MONTHS},
                    "min_value": _("Give the number of months (1 to %(n)d).") % {"n": MAX_MONTHS},
                    "max_value": _("Give the number of months (1 to %(n)d).") % {"n": MAX_MONTHS},
                },
            )
        if name == "business_name":
            return forms.CharField(
                label=_("Business name"),
                max_length=100,
                required=code == RuleCode.INCUBATION_RENT,
                help_text=_("As on the business licence.") if code == RuleCode.INCUBATION_RENT else "",
            )
        if name == "credit_code":
            return forms.CharField(label=_("Unified social credit code"), min_length=18, max_length=18)
        if name == "incubator":
            return forms.CharField(label=_("Incubator"), max_length=100)
        if name == "monthly_rent":
            return forms.DecimalField(
                label=_("Monthly rent of the incubator space (CNY)"),
                max_digits=9,
                decimal_places=2,
                min_value=Decimal("0.01"),
                error_messages={"invalid": _("Give the monthly rent in CNY, e.g. 1500.")},
            )
        if name == "university":
            return forms.CharField(label=_("Partner university"), max_length=100)
        if name == "base_name":
            return forms.CharField(label=_("Name of the base"), max_length=100)
        if name == "scale":
            return forms.CharField(
                label=_("Scale and results of the base"),
                help_text=_("Staff set the amount between the lower and the upper end by these."),
                max_length=1000,
                widget=forms.Textarea(attrs={"rows": 4}),
            )
        if name == "product":
            return forms.ChoiceField(
                label=_("Loan product"),
                choices=LoanProduct.choices,
                widget=forms.RadioSelect,
                error_messages={"required": _("Choose a loan product.")},
            )
        if name == "loan_amount":
            return forms.IntegerField(
                label=_("Loan amount (CNY)"),
                min_value=1,
                max_value=100_000_000,
                error_messages={"invalid": _("Give the loan amount in CNY, e.g. 200000.")},
            )
        raise KeyError(name)

    def clean_credit_code(self):
        return self.cleaned_data["credit_code"].strip().upper()

    # --- what the services take ------------------------------------------------------------

    def values(self) -> dict:
        """What the rule reads, from the valid fields of a bound form (a field in error is
        left out, so the preview still shows the rest) or from the initial values."""
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data
        else:
            data = {name: self.initial.get(name, field.initial) for name, field in self.fields.items()}
        details = {}
        for name in DETAIL_FIELDS.get(self.programme.rule_code, ()):
            value = data.get(name)
            if value in (None, ""):
                continue
            details[name] = str(value) if isinstance(value, Decimal) else value
        hire = self.hires.get(str(data.get("job_application") or ""))
        if hire is not None:
            organisation = hire.position.organisation
        elif len(self.organisations) == 1:
            organisation = next(iter(self.organisations.values()))
        else:
            organisation = self.organisations.get(str(data.get("organisation") or ""))
        period_start = data.get("period_start")
        return {
            "details": details,
            "period_start": period_start if isinstance(period_start, dt.date) else None,
            "hire": hire,
            "organisation": organisation,
            "documents": list(data.get("documents") or []),
        }


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("Your objection"),
        help_text=_("Say what is wrong with this award; district staff must look into it before anything is paid."),
        min_length=10,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Please describe the objection in at least 10 characters."),
            "min_length": _("Please describe the objection in at least 10 characters."),
        },
    )
