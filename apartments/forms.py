import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apartments.constants import FollowUpOutcome, ProjectKind, RecheckAnswer
from apartments.models import UnitType
from portal.models import District, Document


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


# --- talent apartments and affordable rentals -------------------------------------------------


def _blank(choices, label):
    return [("", label), *choices]


class ProjectFilterForm(forms.Form):
    """The GET form above the list of housing projects."""

    district = forms.ChoiceField(label=_("District"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=_blank(ProjectKind.choices, _("All kinds")))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = _blank(
            [(d.code, str(d)) for d in District.objects.order_by("sort_order")], _("All districts")
        )


class HousingApplicationForm(forms.Form):
    """Only the input of an application: the service checks the round, the types, the
    declaration and the eligibility again and says why it refuses."""

    unit_types = forms.ModelMultipleChoiceField(
        label=_("Unit types you would accept"),
        queryset=UnitType.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one unit type you would accept.")},
    )
    household_size = forms.IntegerField(
        label=_("Household size"),
        help_text=_("Everyone who will live in the unit, you included."),
        min_value=1,
        max_value=10,
        initial=1,
        error_messages={
            "min_value": _("The household size must be between 1 and 10."),
            "max_value": _("The household size must be between 1 and 10."),
        },
    )
    no_home_declared = forms.BooleanField(
        label=_("I declare that neither I nor my household own a home in Luoyang"),
        help_text=_("A false declaration ends the lease and is recorded."),
        error_messages={"required": _("Please sign the declaration that you own no home in Luoyang.")},
    )
    documents = forms.ModelMultipleChoiceField(
        label=_("Documents to share with the district's staff"),
        help_text=_("Your degree certificate is read from your profile; add anything else that helps."),
        queryset=Document.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    note = forms.CharField(
        label=_("Note to the staff (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, unit_counts=(), documents=None, **kwargs):
        """``unit_counts``: the round's RoundUnitType rows (with their unit type);
        ``documents``: the graduate's own uploads."""
        super().__init__(*args, **kwargs)
        offered = {rc.unit_type_id: rc.units for rc in unit_counts}
        field = self.fields["unit_types"]
        field.queryset = UnitType.objects.filter(pk__in=offered).order_by("-area", "pk")
        field.label_from_instance = lambda t: _unit_type_choice(t, offered.get(t.pk, 0))
        docs = self.fields["documents"]
        docs.queryset = documents if documents is not None else Document.objects.none()
        docs.label_from_instance = lambda d: (
            f"{d.get_kind_display()} · {d.original_name or '-'} ({d.created_at:%Y-%m-%d})"
        )


def plain_number(value) -> str:
    """90 for Decimal("90.00"), 45.5 for Decimal("45.50"): areas and rents as people write them."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _unit_type_choice(unit_type: UnitType, units: int) -> str:
    parts = [
        _("%(name)s · %(area)s m² · %(rent)s CNY a month")
        % {"name": unit_type.name, "area": plain_number(unit_type.area), "rent": plain_number(unit_type.monthly_rent)}
    ]
    if unit_type.furnished:
        parts.append(str(_("furnished")))
    parts.append(ngettext("%(n)d unit in this round", "%(n)d units in this round", units) % {"n": units})
    return " · ".join(parts)


class RecheckForm(forms.Form):
    """The tenant's answer to the yearly question."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    answer = forms.ChoiceField(
        label=_("Do you still work or run a business in Luoyang?"),
        choices=RecheckAnswer.choices,
        widget=forms.RadioSelect,
    )
    employer = forms.CharField(label=_("Employer or business"), required=False, max_length=100)


class OfferDeclineForm(forms.Form):
    reason = forms.CharField(label=_("Why do you decline? (optional)"), required=False, max_length=500)
