import datetime as dt
import re

from django import forms
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.constants import EventKind
from events.models import Event, Venue
from portal.models import District

# Employers organise these kinds only (POLICY.md "Community events"); staff review them.
EMPLOYER_KINDS = (EventKind.RECRUITMENT, EventKind.SALON)
MAX_QUESTIONS = 3


def _blank(choices, label):
    return [("", label), *choices]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class EventFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=_blank(EventKind.choices, _("All kinds")))
    district = forms.ChoiceField(label=_("District"), required=False)
    date = forms.DateField(
        label=_("From date"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    free = forms.BooleanField(label=_("Only events with free places"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = _blank(
            [(d.code, str(d)) for d in District.objects.order_by("sort_order")], _("All districts")
        )


class RegistrationForm(forms.Form):
    """The event's own questions, built from its definition."""

    def __init__(self, *args, event: Event, **kwargs):
        super().__init__(*args, **kwargs)
        for index, q in enumerate(event.questions or []):
            name, label, required = f"q{index}", q.get("label", ""), bool(q.get("required"))
            if q.get("type") == "number":
                self.fields[name] = forms.IntegerField(label=label, required=required)
            elif q.get("type") == "choice":
                self.fields[name] = forms.ChoiceField(
                    label=label,
                    required=required,
                    choices=_blank([(str(c), str(c)) for c in q.get("choices", [])], "—"),
                )
            else:
                self.fields[name] = forms.CharField(label=label, required=required, max_length=500)

    def answers(self) -> dict[str, str]:
        return {name[1:]: str(value) for name, value in self.cleaned_data.items() if value not in (None, "")}

    def error_messages(self) -> list[str]:
        """Each error with the question it belongs to, for a message on the event page."""
        out = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            out += [f"{label}: {e}" if label else str(e) for e in errors]
        return out


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=_("Ticket code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "inputmode": "text",
                "autofocus": True,
            }
        ),
    )


class SubscriptionForm(forms.Form):
    district = forms.ModelChoiceField(
        label=_("District"),
        queryset=District.objects.order_by("sort_order"),
        required=False,
        empty_label=_("Any district"),
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=_blank(EventKind.choices, _("Any kind")))

    def clean(self):
        data = super().clean()
        if not data.get("district") and not data.get("kind"):
            raise forms.ValidationError(_("Choose a district, a kind, or both."))
        return data


def month_from(request) -> tuple[int, int]:
    today = timezone.localdate()
    try:
        year, month = int(request.GET.get("year", today.year)), int(request.GET.get("month", today.month))
        dt.date(year, month, 1)
    except (TypeError, ValueError):
        return today.year, today.month
    if not 2020 <= year <= today.year + 2:
        return today.year, today.month
    return year, month


# --- organisers ------------------------------------------------------------------------------


class VenueChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Venue) -> str:
        return _("%(district)s · %(name)s (%(n)d places)") % {
            "district": obj.district,
            "name": obj.name,
            "n": obj.capacity,
        }


class EventForm(forms.ModelForm):
    """What an organiser fills in. Validation of the policy (dates in order, the venue's
    capacity, the place) is the service's; this form checks the input and the kinds an
    employer may organise."""

    organiser = forms.ModelChoiceField(label=_("Organising employer"), queryset=None, empty_label=None)
    venue = VenueChoiceField(
        label=_("Venue"),
        required=False,
        queryset=Venue.objects.none(),
        empty_label=_("Another place (give it below)"),
        help_text=_("Youth homes and city study rooms of the district."),
    )

    class Meta:
        model = Event
        fields = [
            "organiser",
            "kind",
            "title",
            "description",
            "district",
            "venue",
            "place",
            "starts_at",
            "ends_at",
            "capacity",
            "registration_opens",
            "registration_closes",
            "min_age",
            "max_age",
            "graduates_only",
            "requires_approval",
            "volunteer_hours",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 6}),
            "starts_at": DateTimeInput(),
            "ends_at": DateTimeInput(),
            "registration_opens": DateTimeInput(),
            "registration_closes": DateTimeInput(),
        }

    def __init__(self, *args, organisations=None, employer: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if organisations is None:
            del self.fields["organiser"]
        else:
            self.fields["organiser"].queryset = organisations
            choices = list(organisations)
            if len(choices) == 1:
                self.fields["organiser"].initial = choices[0].pk
                self.fields["organiser"].widget = forms.HiddenInput()
        if employer:
            self.fields["kind"].choices = [(k.value, k.label) for k in EMPLOYER_KINDS]
            self.fields["kind"].help_text = _(
                "Employers organise recruitment fairs and salons; staff review them before they are published."
            )
        else:
            self.fields["kind"].choices = EventKind.choices
        self.fields["district"].queryset = District.objects.order_by("sort_order")
        self.fields["venue"].queryset = Venue.objects.select_related("district")
        self.fields["capacity"].validators.append(MinValueValidator(1))
        self.fields["capacity"].widget.attrs["min"] = 1
        for name in ("min_age", "max_age"):
            self.fields[name].widget.attrs.update({"min": 14, "max": 99})
        self.fields["volunteer_hours"].widget.attrs.update({"min": 0, "step": "0.5"})

    def clean(self):
        data = super().clean()
        venue, district = data.get("venue"), data.get("district")
        if venue is not None and district is not None and venue.district_id != district.pk:
            self.add_error("venue", _("Choose a venue of the event's district."))
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The event must end after it starts."))
        opens, closes = data.get("registration_opens"), data.get("registration_closes")
        if opens and closes and closes <= opens:
            self.add_error("registration_closes", _("Registration must close after it opens."))
        return data

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "organiser"}


def split_choices(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,，、;；\n]+", text or "") if part.strip()]


class QuestionForm(forms.Form):
    """One registration question. A row left without a label is no question."""

    label = forms.CharField(label=_("Question"), required=False, max_length=100)
    type = forms.ChoiceField(
        label=_("Answer type"),
        choices=[("text", _("Text")), ("number", _("Number")), ("choice", _("One of some choices"))],
        initial="text",
    )
    required = forms.BooleanField(label=_("An answer is required"), required=False)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        max_length=500,
        help_text=_("For “one of some choices”: separate them with commas."),
    )

    def clean(self):
        data = super().clean()
        if data.get("label") and data.get("type") == "choice" and not split_choices(data.get("choices", "")):
            self.add_error("choices", _("A choice question needs its choices."))
        return data

    def question(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("label"):
            return None
        q = {"label": data["label"], "type": data["type"], "required": bool(data.get("required"))}
        if data["type"] == "choice":
            q["choices"] = split_choices(data["choices"])
        return q


def question_formset(data=None, *, event: Event | None = None):
    """Up to three questions; an event that staff gave more (in the admin) keeps them all."""
    initial = [
        {
            "label": q.get("label", ""),
            "type": q.get("type", "text"),
            "required": bool(q.get("required")),
            "choices": ", ".join(map(str, q.get("choices", []))),
        }
        for q in ((event.questions if event else None) or [])
    ]
    most = max(MAX_QUESTIONS, len(initial))
    formset = forms.formset_factory(
        QuestionForm, extra=MAX_QUESTIONS, max_num=most, absolute_max=most, validate_max=True
    )
    return formset(data, initial=initial, prefix="questions")


def questions_of(formset) -> list[dict]:
    return [q for q in (form.question() for form in formset.forms) if q]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
