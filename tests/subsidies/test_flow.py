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


def test_nobody_objects_to_their_own_award_and_checks_speak_the_applicants_language(
    programme, district_1, staff_1, graduate_b, django_capture_on_commit_callbacks
):
    from django.core.exceptions import ValidationError

    graduate = make_subsidy_graduate(district=district_1)
    graduate.language = "en"
    graduate.save(update_fields=["language"])
    with_interview(graduate)
    with django_capture_on_commit_callbacks(execute=True):
        app = services.subsidy_application_create(programme=programme("interview-travel"), applicant=graduate)
    check = EligibilityCheck.objects.get(application=app)
    assert any(c["message"].startswith("Household registration") for c in check.result["criteria"])
    services.subsidy_approve(application=app, actor=staff_1)
    with pytest.raises(ValidationError) as refused:
        services.objection_file(application=app, actor=graduate, text="我自己对这项补贴有异议，请核查")
    assert refused.value.code == "own"
    objection = services.objection_file(application=app, actor=graduate_b, text="该申请人并未来洛阳参加面试。")
    assert objection.pk
