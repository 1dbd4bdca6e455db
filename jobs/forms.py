from django import forms
from django.core.cache import cache
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from jobs.constants import POSITION_FIELDS, ApplicationStatus, PositionKind, RejectionReason, SortOrder
from jobs.models import Position
from portal.constants import EducationLevel, Industry
from portal.models import District


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"


def _blank(choices, label):
    return [("", label), *choices]


def district_choices() -> list[tuple[str, str]]:
    # Districts change a few times a decade; the search page reads them from the shared cache.
    return cache.get_or_set(
        f"portal:district-choices:{get_language()}",
        lambda: [(d.code, str(d)) for d in District.objects.order_by("sort_order")],
        300,
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Keywords"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. 机械 or engineer")}),
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=_blank(PositionKind.choices, _("All kinds")))
    district = forms.ChoiceField(label=_("District"), required=False)
    industry = forms.ChoiceField(
        label=_("Industry"), required=False, choices=_blank(Industry.choices, _("All industries"))
    )
    education = forms.ChoiceField(
        label=_("My education"), required=False, choices=_blank(EducationLevel.choices, _("Any"))
    )
    salary_min = forms.IntegerField(
        label=_("Monthly pay at least (CNY)"), required=False, min_value=0, max_value=1_000_000
    )
    base_only = forms.BooleanField(label=_("Traineeship bases only"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SortOrder.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = _blank(district_choices(), _("All districts"))


class PositionForm(forms.ModelForm):
    class Meta:
        model = Position
        fields = list(POSITION_FIELDS)  # what the services write
        widgets = {"deadline": DateInput(format="%Y-%m-%d"), "description": forms.Textarea(attrs={"rows": 6})}
        help_texts = {"salary_min": _("For traineeships: the monthly living stipend.")}


class ApplyForm(forms.Form):
    cover_note = forms.CharField(
        label=_("Cover note (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    cv = forms.FileField(
        label=_("CV as PDF (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )
    shared_documents = forms.MultipleChoiceField(
        label=_("Documents to share with the employer"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shared_documents"].choices = [
            (str(d.pk), f"{d.get_kind_display()} · {d.original_name}") for d in documents
        ]


class InterviewForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=_("Date and time"), widget=DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    place = forms.CharField(label=_("Place"), required=False, max_length=200)
    online_link = forms.URLField(label=_("Online meeting link"), required=False, assume_scheme="https")
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        if not data.get("place") and not data.get("online_link"):
            raise forms.ValidationError(_("Give a place or an online meeting link."))
        return data


class ApplicationDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (ApplicationStatus.OFFERED, _("Make an offer")),
            (ApplicationStatus.HIRED, _("Confirm the hire")),
            (ApplicationStatus.REJECTED, _("Decline")),
        ],
    )
    reason = forms.CharField(
        label=_("Message to the applicant (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PositionRejectForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("Reason"), choices=RejectionReason.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note to the employer"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        if data.get("reason_code") == RejectionReason.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", _("Please explain the reason in the note."))
        return data
