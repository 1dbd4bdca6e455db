import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.constants import EventKind
from events.models import Event
from portal.models import District


def _blank(choices, label):
    return [("", label), *choices]


class EventFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=_blank(EventKind.choices, _("All kinds")))
    district = forms.ChoiceField(label=_("District"), required=False)
    date = forms.DateField(label=_("From date"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    free = forms.BooleanField(label=_("Only events with free places"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = _blank([(d.code, str(d)) for d in District.objects.order_by("sort_order")], _("All districts"))


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
                    label=label, required=required, choices=_blank([(str(c), str(c)) for c in q.get("choices", [])], "—")
                )
            else:
                self.fields[name] = forms.CharField(label=label, required=required, max_length=500)

    def answers(self) -> dict[str, str]:
        return {name[1:]: str(value) for name, value in self.cleaned_data.items() if value not in (None, "")}


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=_("Ticket code"), max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "inputmode": "text", "autofocus": True}),
    )


class SubscriptionForm(forms.Form):
    district = forms.ModelChoiceField(label=_("District"), queryset=District.objects.order_by("sort_order"), required=False, empty_label=_("Any district"))
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
