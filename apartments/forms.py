import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apartments.constants import FollowUpOutcome


class DateInput(forms.DateInput):
    """A browser date picker. Its value must be ISO (YYYY-MM-DD) whatever the language:
    the Chinese input formats would render 2026/05/01, which the picker drops."""

    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):
        super().__init__(attrs=attrs, format=format)


class BookingForm(forms.Form):
    check_in = forms.DateField(label=_("Check-in date"), widget=DateInput())
    nights = forms.IntegerField(label=_("Nights"), min_value=1, max_value=30, initial=2)
    invitation_document = forms.ChoiceField(
        label=_("Invitation or offer letter (if you have no interview invitation in the portal)"), required=False
    )

    def __init__(self, *args, letters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invitation_document"].choices = [("", _("None"))] + [
            (str(d.pk), f"{d.original_name or d.get_kind_display()} ({d.created_at:%Y-%m-%d})") for d in letters
        ]
        self.fields["check_in"].initial = timezone.localdate() + dt.timedelta(days=1)

    def clean_check_in(self):
        value = self.cleaned_data["check_in"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("The check-in date is in the past."))
        if value > timezone.localdate() + dt.timedelta(days=60):
            raise forms.ValidationError(_("Bookings open 60 days ahead."))
        return value


class BedAlertForm(forms.Form):
    start = forms.DateField(label=_("From night"), widget=DateInput())
    end = forms.DateField(label=_("To night"), widget=DateInput())


class FollowUpForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # the first label is a question: no colon after it
        super().__init__(*args, **kwargs)

    outcome = forms.ChoiceField(
        label=_("How is your job search going?"), choices=FollowUpOutcome.choices, widget=forms.RadioSelect
    )
    employer = forms.CharField(label=_("Employer (if you found work)"), required=False, max_length=120)
    note = forms.CharField(
        label=_("Anything else you want to tell us"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
