"""One interview travel subsidy from application to payment through the services."""

import datetime as dt

import pytest
from django.utils import timezone

from subsidies import services
from subsidies.constants import SubsidyStatus as S
from subsidies.models import EligibilityCheck, LedgerEntry
from tests.subsidies.conftest import make_subsidy_graduate, with_interview

pytestmark = pytest.mark.django_db


def test_interview_travel_from_application_to_payment(
    programme, district_1, staff_1, city_staff, django_capture_on_commit_callbacks
):
    graduate = make_subsidy_graduate(district=district_1)
    with_interview(graduate)
    preview = services.subsidy_eligibility(programme=programme("interview-travel"), applicant=graduate)
    assert preview.result.eligible, preview.result.as_dict()
    with django_capture_on_commit_callbacks(execute=True):
        app = services.subsidy_application_create(programme=programme("interview-travel"), applicant=graduate)
    app.refresh_from_db()
    assert app.status == S.ELIGIBLE and app.amount == 500
    check = EligibilityCheck.objects.get(application=app)
    assert check.result["parameters"]["subsidy-interview-amount"] == "500.0000"
    services.subsidy_approve(application=app, actor=staff_1)
    app.refresh_from_db()
    assert app.status == S.NOTICE
    services.subsidy_notices_close(today=app.notice_ends_on + dt.timedelta(days=1))
    app.refresh_from_db()
    assert app.status == S.PAYABLE
    services.subsidy_pay(application=app, actor=staff_1, reference="BANK-001")
    app.refresh_from_db()
    assert app.status == S.PAID
    assert LedgerEntry.objects.get(application=app).paid_at is not None
    assert timezone.now()
