"""Small helpers every app's HTML views share: a service's refusal shown to the person, on
the form's field where there is one, as a message otherwise."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


def form_add_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form so the page shows it next to the field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def messages_from(request: HttpRequest, source: ValidationError | forms.BaseForm) -> None:
    """Each message of a service's ValidationError, or of an invalid form, as an error."""
    if isinstance(source, forms.BaseForm):
        texts = [text for errors in source.errors.values() for text in errors]
    else:
        texts = source.messages
    for text in texts:
        messages.error(request, text)
