from allauth.account.forms import RequestLoginCodeForm as AllauthRequestLoginCodeForm
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from portal.constants import DocumentKind
from portal.models import ApplicantProfile, District, NotificationPreference, Organisation
from portal.validators import normalise_cn_mobile, validate_credit_code, validate_id_number

# Translators: the colon Django puts after every form label; Chinese uses the full-width "：".
gettext_noop(":")


class DateInput(forms.DateInput):
    input_type = "date"


class ProfileForm(forms.ModelForm):
    id_number = forms.CharField(
        label=_("Resident ID number"),
        max_length=18,
        required=False,
        help_text=_("18 characters. Stored encrypted and shown to others only as 4103**********1234."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"}),
    )

    class Meta:
        model = ApplicantProfile
        fields = [
            "real_name",
            "phone",
            "education_level",
            "school",
            "major",
            "graduation_date",
            "hukou_province",
            "hukou_city",
            "district",
            "current_employer",
            "works_in_luoyang",
        ]
        widgets = {"graduation_date": DateInput(format="%Y-%m-%d")}
        help_texts = {
            "hukou_city": _("The city of your household registration (户籍), e.g. 洛阳市 or 郑州市."),
        }

    field_order = ["real_name", "id_number", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = District.objects.order_by("sort_order")
        if self.instance and self.instance.has_id_number:
            self.fields["id_number"].help_text = _(
                "Registered: %(masked)s. Leave empty to keep it, or enter a new number to replace it."
            ) % {"masked": self.instance.id_number_masked}
        self.fields["real_name"].widget.attrs["autocomplete"] = "name"
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})

    def clean_id_number(self):
        value = self.cleaned_data.get("id_number", "")
        return validate_id_number(value) if value else ""

    def clean_phone(self):
        value = self.cleaned_data.get("phone", "")
        return normalise_cn_mobile(value).removeprefix("+86") if value else ""


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I have read the notice and agree to the processing of my sensitive personal information."),
        required=True,
        error_messages={"required": _("Please tick the box to give your consent.")},
    )


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document type"), choices=DocumentKind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("JPEG, PNG or PDF, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "name",
            "credit_code",
            "kind",
            "district",
            "industry",
            "size",
            "address",
            "contact_name",
            "contact_phone",
            "contact_email",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["credit_code"].disabled = True
        self.fields["credit_code"].widget.attrs.update({"spellcheck": "false", "autocomplete": "off"})

    def clean_credit_code(self):
        if self.instance.pk:
            return self.instance.credit_code
        return validate_credit_code(self.cleaned_data.get("credit_code", ""))

    def validate_unique(self):
        # Uniqueness of the credit code is the service's job (it answers with a clear message).
        pass


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The organisation sees this reason and can correct its details."),
    )


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["email", "sms"]


class RequestLoginCodeForm(AllauthRequestLoginCodeForm):
    """allauth's form with phone or e-mail both optional (both are login methods); an empty
    form must be a message, not an error deeper in the flow."""

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("phone") and not data.get("email"):
            raise forms.ValidationError(_("Enter your mobile phone number or your e-mail address."))
        return data


class DeletionConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "I understand that my account is closed now, my personal data is anonymised and my uploaded "
            "documents are deleted, and that this cannot be undone."
        ),
        required=True,
        error_messages={"required": _("Please tick the box to confirm the deletion.")},
    )
