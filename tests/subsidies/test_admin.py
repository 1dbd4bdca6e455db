"""The subsidy admin for district and city staff: the review queue by programme with the
stored check (✓/✗) and its history, the buttons (start review, approve, second approval by
another person, reject with a reason, record the payment), objections resolved from their
page, the ledger with finance's reconciliation CSV, the budget page with its figures, the
programme rows city staff edit. District staff see and act on their own districts only; a
service's refusal (the budget, the same person) is a message, never an error page."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.constants import AuditAction, DocumentKind, OrganisationKind
from portal.models import AuditEntry
from subsidies import constants as c
from subsidies import services
from subsidies.constants import ObjectionStatus
from subsidies.constants import SubsidyStatus as S
from subsidies.models import LedgerEntry, Objection, Programme, SubsidyApplication
from tests.admin_helpers import csv_rows as _csv_rows
from tests.admin_helpers import login as _login
from tests.admin_helpers import messages as _messages
from tests.admin_helpers import result_pks as _result_pks
from tests.apartments import conftest as housing
from tests.apartments.conftest import DAY0, give_letter, set_parameter
from tests.portal.factories import DistrictStaffFactory, OrganisationFactory, ProfileFactory
from tests.subsidies.conftest import make_subsidy_graduate, with_interview

pytestmark = pytest.mark.django_db

clock = housing.clock  # moves timezone.now to DAY0 (2026-05-11)

APPLICATIONS = reverse("admin:subsidies_subsidyapplication_changelist")
OBJECTIONS = reverse("admin:subsidies_objection_changelist")
LEDGER = reverse("admin:subsidies_ledgerentry_changelist")
PROGRAMMES = reverse("admin:subsidies_programme_changelist")
BUDGET = reverse("admin:subsidies_ledgerentry_budget")
BUDGET_CSV = reverse("admin:subsidies_ledgerentry_budget_csv")
RECONCILIATION = reverse("admin:subsidies_ledgerentry_reconciliation")


@pytest.fixture
def client_en(client):
    """Admin pages in English, so assertions do not depend on the state of the .po files."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _url(model: str, name: str, obj) -> str:
    return reverse(f"admin:subsidies_{model}_{name}", args=[obj.pk])


def _masked(name: str) -> str:
    return name[0] + "*" * (len(name) - 1)


@pytest.fixture
def apply(django_capture_on_commit_callbacks):
    """Apply through the service; the check runs (Celery is eager) when the block commits."""

    def make(programme, applicant, **kw) -> SubsidyApplication:
        with django_capture_on_commit_callbacks(execute=True):
            app = services.subsidy_application_create(programme=programme, applicant=applicant, **kw)
        app.refresh_from_db()
        assert app.status == S.ELIGIBLE, app.eligibility
        return app

    return make


def _graduate(district):
    user = make_subsidy_graduate(district=district)
    with_interview(user)
    return user


@pytest.fixture
def eligible(clock, programme, district_1, apply):
    """An eligible interview travel application (500 CNY) of district 1."""
    return apply(programme("interview-travel"), _graduate(district_1))


@pytest.fixture
def eligible_2(clock, programme, district_2, apply):
    """The same for district 2 (served by staff_2)."""
    return apply(programme("interview-travel"), _graduate(district_2))


@pytest.fixture
def base_claim(clock, programme, district_1, apply):
    """An eligible university–enterprise base claim of district 1 (100,000–200,000 CNY)."""
    org = OrganisationFactory(district=district_1, kind=OrganisationKind.PRIVATE, verified=True)
    member = org.memberships.get().user
    licence = give_letter(member, kind=DocumentKind.BUSINESS_LICENCE)
    return apply(
        programme("university-base"),
        member,
        organisation=org,
        details={"university": "河南科技大学", "base_name": "轴承联合实验室"},
        documents=[licence],
    )


@pytest.fixture
def staff_1b(district_1):
    """A second staff member of district 1, for second approvals."""
    return DistrictStaffFactory(districts=[district_1])


@pytest.fixture
def in_notice(eligible, staff_1):
    services.subsidy_approve(application=eligible, actor=staff_1)
    eligible.refresh_from_db()
    assert eligible.status == S.NOTICE
    return eligible


@pytest.fixture
def payable(in_notice):
    services.subsidy_notices_close(today=in_notice.notice_ends_on + dt.timedelta(days=1))
    in_notice.refresh_from_db()
    assert in_notice.status == S.PAYABLE
    return in_notice


@pytest.fixture
def paid(payable, staff_1):
    services.subsidy_pay(application=payable, actor=staff_1, reference="ICBC-2026-0001")
    payable.refresh_from_db()
    return payable


@pytest.fixture
def objection(in_notice, graduate_b):
    return services.objection_file(application=in_notice, actor=graduate_b, text="申请人并未来洛参加面试，材料不实。")


# --- Scoping -------------------------------------------------------------------------------------


@pytest.fixture
def in_notice_2(eligible_2, staff_2):
    services.subsidy_approve(application=eligible_2, actor=staff_2)
    eligible_2.refresh_from_db()
    return eligible_2


def test_district_staff_see_only_their_districts_rows(
    client_en, staff_1, staff_2, city_staff, objection, in_notice, in_notice_2, graduate_a
):
    objection_2 = services.objection_file(application=in_notice_2, actor=graduate_a, text="这份申请的材料存在问题。")
    entry_1, entry_2 = LedgerEntry.objects.get(application=in_notice), LedgerEntry.objects.get(application=in_notice_2)
    ones = {APPLICATIONS: {in_notice.pk}, OBJECTIONS: {objection.pk}, LEDGER: {entry_1.pk}}
    twos = {APPLICATIONS: {in_notice_2.pk}, OBJECTIONS: {objection_2.pk}, LEDGER: {entry_2.pk}}
    for url in ones:
        assert _result_pks(_login(client_en, staff_1).get(url)) == ones[url], url
        assert _result_pks(_login(client_en, staff_2).get(url)) == twos[url], url
        assert _result_pks(_login(client_en, city_staff).get(url)) == ones[url] | twos[url], url
    # Programmes are city-wide rows: every staff member reads all of them.
    assert len(_result_pks(_login(client_en, staff_2).get(PROGRAMMES))) == Programme.objects.count()


def test_another_districts_objects_cannot_be_reached(client_en, staff_2, eligible, objection, in_notice):
    entry = LedgerEntry.objects.get(application=in_notice)
    _login(client_en, staff_2)
    # Change pages: the admin's not-found redirect, as for any missing object.
    for model, obj in (("subsidyapplication", in_notice), ("objection", objection), ("ledgerentry", entry)):
        response = client_en.get(_url(model, "change", obj))
        assert response.status_code == 302 and response["Location"] == reverse("admin:index"), model
    # Decisions: 404 whether asked or posted, and nothing changes.
    for name, data in (
        ("review", {}),
        ("approve", {}),
        ("second_approve", {}),
        ("reject", {"reason": "x"}),
        ("pay", {"reference": "x"}),
    ):
        url = _url("subsidyapplication", name, in_notice)
        assert client_en.get(url).status_code == 404, name
        assert client_en.post(url, data).status_code == 404, name
    resolve = _url("objection", "resolve", objection)
    assert client_en.get(resolve).status_code == 404
    assert client_en.post(resolve, {"outcome": "upheld", "resolution": "x"}).status_code == 404
    in_notice.refresh_from_db()
    objection.refresh_from_db()
    assert (in_notice.status, objection.status) == (S.NOTICE, ObjectionStatus.OPEN)
    # The reconciliation CSV of staff_2 has no row of district 1.
    header, *rows = _csv_rows(client_en.get(RECONCILIATION, {"year": 2026}))
    assert rows == []


def test_graduates_do_not_reach_the_subsidy_admin(client_en, graduate_a, eligible):
    _login(client_en, graduate_a)
    for url in (APPLICATIONS, BUDGET, RECONCILIATION, _url("subsidyapplication", "approve", eligible)):
        response = client_en.get(url)
        assert response.status_code == 302 and reverse("admin:login") in response["Location"], url


# --- The queue and an application's page --------------------------------------------------------


def test_the_queue_lists_by_programme_with_the_check_result(client_en, staff_1, eligible, base_claim):
    response = _login(client_en, staff_1).get(APPLICATIONS)
    page = response.content.decode()

    assert _result_pks(response) == {eligible.pk, base_claim.pk}
    assert eligible.reference in page and base_claim.reference in page
    passed = sum(1 for criterion in eligible.eligibility["criteria"] if criterion["passed"])
    assert f"✓ {passed} · ✗ 0" in page
    assert "Interview travel subsidy" in page and "University–enterprise base subsidy" in page
    name = eligible.applicant.profile.real_name
    assert name not in page and _masked(name) in page  # names are masked in the list
    assert base_claim.organisation.name in page
    # Filtered by programme, by what waits for staff, and searched by reference or masked name.
    only = {"programme__id__exact": eligible.programme_id}
    assert _result_pks(client_en.get(APPLICATIONS, only)) == {eligible.pk}
    assert _result_pks(client_en.get(APPLICATIONS, {"todo": "review"})) == {eligible.pk, base_claim.pk}
    assert _result_pks(client_en.get(APPLICATIONS, {"todo": "payment"})) == set()
    assert _result_pks(client_en.get(APPLICATIONS, {"q": eligible.reference})) == {eligible.pk}
    assert _result_pks(client_en.get(APPLICATIONS, {"q": str(eligible.pk)})) == {eligible.pk}
    assert _result_pks(client_en.get(APPLICATIONS, {"q": _masked(name)})) == {eligible.pk}
    assert _result_pks(client_en.get(APPLICATIONS, {"q": name})) == {eligible.pk}


def test_the_application_page_shows_the_check_and_its_history_and_is_audited(client_en, staff_1, eligible):
    profile = eligible.applicant.profile

    page = _login(client_en, staff_1).get(_url("subsidyapplication", "change", eligible)).content.decode()

    assert eligible.reference in page
    assert profile.real_name in page and profile.id_number_masked in page
    for criterion in eligible.eligibility["criteria"]:
        assert criterion["message"] in page
    assert "✓" in page
    # The check history: rule version and the parameter values used.
    check = eligible.checks.get()
    assert check.rule_version in page
    assert "subsidy-interview-amount = 500<" in page  # the value as a plain number
    assert "Audit trail" in page
    assert 'name="_save"' not in page
    # The buttons of an eligible application.
    for name in ("review", "approve", "reject"):
        assert _url("subsidyapplication", name, eligible) in page, name
    for name in ("second_approve", "pay"):
        assert _url("subsidyapplication", name, eligible) not in page, name
    viewed = AuditEntry.objects.get(action=AuditAction.PII_VIEW)
    assert (viewed.actor, viewed.target) == (staff_1, profile)


def test_the_application_page_links_its_documents(client_en, staff_1, base_claim):
    document = base_claim.documents.get()

    page = _login(client_en, staff_1).get(_url("subsidyapplication", "change", base_claim)).content.decode()

    assert reverse("portal:document_download", args=[document.pk]) in page
    assert "Business licence" in page
    # A claim about the employer itself names no graduate: the member claimed for it.
    assert f"{base_claim.applicant} for the employer" in page
    assert base_claim.organisation.name in page


def test_applications_csv_export_is_masked_and_audited(client_en, staff_1, eligible, base_claim):
    response = _login(client_en, staff_1).post(
        APPLICATIONS, {"action": "export_csv", "_selected_action": [eligible.pk, base_claim.pk]}
    )

    header, *rows = _csv_rows(response)
    assert header[:4] == ["Reference", "Programme", "District", "Graduate"]
    by_reference = {row[0]: row for row in rows}
    assert set(by_reference) == {eligible.reference, base_claim.reference}
    name = eligible.applicant.profile.real_name
    assert by_reference[eligible.reference][3] == _masked(name)
    assert by_reference[eligible.reference][9] == "Checked: eligible"
    assert name not in response.content.decode("utf-8-sig")
    export = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert export.actor == staff_1 and export.detail["rows"] == 2


# --- Decisions -----------------------------------------------------------------------------------


def test_review_then_approve_starts_the_notice(client_en, staff_1, eligible):
    _login(client_en, staff_1)
    response = client_en.post(_url("subsidyapplication", "review", eligible))

    assert response.status_code == 302
    assert response["Location"] == _url("subsidyapplication", "change", eligible)
    assert any("is under review" in m for m in _messages(response))
    eligible.refresh_from_db()
    assert eligible.status == S.UNDER_REVIEW

    # The amount of a rule-priced programme is not asked.
    page = client_en.get(_url("subsidyapplication", "approve", eligible))
    assert "amount" not in page.context["form"].fields
    response = client_en.post(_url("subsidyapplication", "approve", eligible))

    eligible.refresh_from_db()
    assert (eligible.status, eligible.reviewed_by) == (S.NOTICE, staff_1)
    assert any(
        "approved for 500.00 CNY" in m and f"until {eligible.notice_ends_on:%Y-%m-%d}" in m for m in _messages(response)
    )
    entry = LedgerEntry.objects.get(application=eligible)
    assert (entry.amount, entry.budget_year, entry.released) == (Decimal("500"), 2026, False)
    page = client_en.get(_url("subsidyapplication", "change", eligible)).content.decode()
    assert f"In public notice until {eligible.notice_ends_on:%Y-%m-%d}" in page
    assert _url("subsidyapplication", "approve", eligible) not in page
    # A repeated decision is refused with a message, and the page says why.
    assert "This cannot be done" in client_en.get(_url("subsidyapplication", "approve", eligible)).content.decode()
    response = client_en.post(_url("subsidyapplication", "approve", eligible))
    assert response.status_code == 302 and any("Only a checked" in m for m in _messages(response))


def test_a_large_amount_needs_a_second_approval_by_another_person(client_en, staff_1, staff_1b, eligible):
    set_parameter(c.SECOND_APPROVAL_ABOVE, 100, effective_from=DAY0)
    _login(client_en, staff_1)

    response = client_en.post(_url("subsidyapplication", "approve", eligible))

    assert any("needs a second approval by another staff member" in m for m in _messages(response))
    eligible.refresh_from_db()
    assert (eligible.status, eligible.reviewed_by, eligible.notice_ends_on) == (S.APPROVED, staff_1, None)
    page = client_en.get(_url("subsidyapplication", "change", eligible)).content.decode()
    assert "waiting for a second approval by another staff member" in page
    assert _url("subsidyapplication", "second_approve", eligible) in page

    # The same person is refused through the service's message.
    response = client_en.post(_url("subsidyapplication", "second_approve", eligible))
    assert response.status_code == 302
    assert "The second approval must come from another staff member." in _messages(response)
    eligible.refresh_from_db()
    assert eligible.status == S.APPROVED and eligible.second_approved_by is None

    response = _login(client_en, staff_1b).post(_url("subsidyapplication", "second_approve", eligible))

    eligible.refresh_from_db()
    assert (eligible.status, eligible.second_approved_by) == (S.NOTICE, staff_1b)
    assert any("Second approval" in m and "public notice runs until" in m for m in _messages(response))
    page = client_en.get(_url("subsidyapplication", "change", eligible)).content.decode()
    assert _url("subsidyapplication", "second_approve", eligible) not in page


def test_the_base_subsidy_amount_is_set_on_approval(client_en, staff_1, staff_1b, base_claim):
    _login(client_en, staff_1)
    page = client_en.get(_url("subsidyapplication", "approve", base_claim))
    assert "amount" in page.context["form"].fields
    assert "100,000.00" in page.content.decode() and "200,000.00" in page.content.decode()

    response = client_en.post(_url("subsidyapplication", "approve", base_claim), {"amount": "250000"})

    assert any("must be between" in m for m in _messages(response))
    base_claim.refresh_from_db()
    assert base_claim.status == S.ELIGIBLE

    response = client_en.post(_url("subsidyapplication", "approve", base_claim), {"amount": "150000"})

    base_claim.refresh_from_db()
    assert (base_claim.status, base_claim.amount) == (S.APPROVED, Decimal("150000"))  # above 10,000
    assert any("approved for 150,000.00 CNY" in m for m in _messages(response))
    response = _login(client_en, staff_1b).post(_url("subsidyapplication", "second_approve", base_claim))
    base_claim.refresh_from_db()
    assert base_claim.status == S.NOTICE


def test_an_approval_beyond_the_budget_is_refused_with_a_message(
    client_en, staff_1, programme, district_1, apply, clock
):
    p = programme("interview-travel")
    Programme.objects.filter(pk=p.pk).update(yearly_budget=Decimal("700"))
    first, second = apply(p, _graduate(district_1)), apply(p, _graduate(district_1))
    _login(client_en, staff_1)
    client_en.post(_url("subsidyapplication", "approve", first))

    response = client_en.post(_url("subsidyapplication", "approve", second))

    assert response.status_code == 302
    assert any("would exceed the 2026 budget" in m and "200.00 left" in m for m in _messages(response))
    second.refresh_from_db()
    assert second.status == S.ELIGIBLE
    assert not LedgerEntry.objects.filter(application=second).exists()


def test_a_rejection_needs_a_reason(client_en, staff_1, eligible):
    _login(client_en, staff_1)

    response = client_en.post(_url("subsidyapplication", "reject", eligible), {"reason": ""})

    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    eligible.refresh_from_db()
    assert eligible.status == S.ELIGIBLE

    response = client_en.post(_url("subsidyapplication", "reject", eligible), {"reason": "面试邀请无法核实"})

    assert any("is rejected" in m for m in _messages(response))
    eligible.refresh_from_db()
    assert (eligible.status, eligible.status_reason) == (S.REJECTED, "面试邀请无法核实")


def test_staff_record_the_payment(client_en, staff_1, payable):
    _login(client_en, staff_1)
    page = client_en.get(_url("subsidyapplication", "change", payable)).content.decode()
    assert _url("subsidyapplication", "pay", payable) in page

    response = client_en.post(_url("subsidyapplication", "pay", payable), {"reference": ""})
    assert response.status_code == 200 and "reference" in response.context["form"].errors

    response = client_en.post(_url("subsidyapplication", "pay", payable), {"reference": "ICBC-2026-0001"})

    assert any("payment of" in m and "is recorded" in m for m in _messages(response))
    payable.refresh_from_db()
    assert payable.status == S.PAID
    entry = LedgerEntry.objects.get(application=payable)
    assert (entry.paid_by, entry.payment_reference) == (staff_1, "ICBC-2026-0001")
    page = client_en.get(_url("subsidyapplication", "change", payable)).content.decode()
    assert "ICBC-2026-0001" in page
    assert _url("subsidyapplication", "pay", payable) not in page


def test_a_parameter_without_a_value_is_a_message(client_en, staff_1, base_claim, monkeypatch):
    def missing(**kwargs):
        raise LookupError("No value of parameter 'subsidy-base-min' is in force on 2026-05-11.")

    monkeypatch.setattr(services, "subsidy_approve", missing)

    response = _login(client_en, staff_1).post(_url("subsidyapplication", "approve", base_claim), {"amount": "1"})

    assert response.status_code == 302
    assert any("city staff must enter it first" in m for m in _messages(response))


# --- Objections ---------------------------------------------------------------------------------


def test_objections_list_open_ones_first(client_en, staff_1, in_notice, graduate_b, objection):
    older = Objection.objects.create(
        application=in_notice, filed_by=graduate_b, text="早些时候的异议，已经处理。", status=ObjectionStatus.DISMISSED
    )
    Objection.objects.filter(pk=older.pk).update(created_at=timezone.now() + dt.timedelta(minutes=5))

    response = _login(client_en, staff_1).get(OBJECTIONS)

    assert [o.pk for o in response.context["cl"].result_list] == [objection.pk, older.pk]
    assert in_notice.reference in response.content.decode()
    assert _result_pks(client_en.get(OBJECTIONS, {"q": in_notice.reference})) == {objection.pk, older.pk}
    # The application's page shows its objections.
    page = client_en.get(_url("subsidyapplication", "change", in_notice)).content.decode()
    assert objection.text in page


def test_an_upheld_objection_rejects_the_application(client_en, staff_1, objection, in_notice):
    _login(client_en, staff_1)
    page = client_en.get(_url("objection", "change", objection)).content.decode()
    assert _url("objection", "resolve", objection) in page

    response = client_en.post(_url("objection", "resolve", objection), {"outcome": "upheld", "resolution": ""})
    assert response.status_code == 200 and "resolution" in response.context["form"].errors

    response = client_en.post(
        _url("objection", "resolve", objection), {"outcome": "upheld", "resolution": "经核实面试未发生。"}
    )

    assert response.status_code == 302
    assert any("upheld" in m and in_notice.reference in m for m in _messages(response))
    objection.refresh_from_db()
    in_notice.refresh_from_db()
    assert (objection.status, objection.resolved_by) == (ObjectionStatus.UPHELD, staff_1)
    assert in_notice.status == S.REJECTED and "经核实面试未发生。" in in_notice.status_reason
    assert LedgerEntry.objects.get(application=in_notice).released
    page = client_en.get(_url("objection", "change", objection)).content.decode()
    assert _url("objection", "resolve", objection) not in page


def test_a_dismissed_objection_lets_the_notice_run(client_en, staff_1, objection, in_notice):
    response = _login(client_en, staff_1).post(
        _url("objection", "resolve", objection), {"outcome": "dismissed", "resolution": "材料核实无误。"}
    )

    assert any("dismissed" in m for m in _messages(response))
    objection.refresh_from_db()
    in_notice.refresh_from_db()
    assert (objection.status, in_notice.status) == (ObjectionStatus.DISMISSED, S.NOTICE)


# --- Ledger, reconciliation and budget ------------------------------------------------------------


def test_the_reconciliation_csv_for_finance(client_en, staff_1, city_staff, paid, in_notice_2):
    response = _login(client_en, staff_1).get(RECONCILIATION, {"year": 2026})

    header, *rows = _csv_rows(response)
    assert header == [
        "Reference",
        "Programme",
        "District",
        "Graduate",
        "Employer",
        "Budget year",
        "Amount (CNY)",
        "Paid at",
        "Payment reference",
        "Recorded by",
    ]
    entry = LedgerEntry.objects.get(application=paid)
    name = paid.applicant.profile.real_name
    assert rows == [
        [
            paid.reference,
            "Interview travel subsidy",
            str(paid.district),
            _masked(name),
            "",
            "2026",
            "500.00",
            timezone.localtime(entry.paid_at).strftime("%Y-%m-%d %H:%M"),
            "ICBC-2026-0001",
            str(staff_1),
        ]
    ]
    assert name not in response.content.decode("utf-8-sig")
    export = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert (export.actor, export.detail["model"], export.detail["rows"]) == (staff_1, "ledgerentry", 1)
    # Committed but unpaid money (district 2's notice) is not in it; another year is empty.
    _header, *city_rows = _csv_rows(_login(client_en, city_staff).get(RECONCILIATION, {"year": 2026}))
    assert [row[0] for row in city_rows] == [paid.reference]
    _header, *other_year = _csv_rows(client_en.get(RECONCILIATION, {"year": 2025}))
    assert other_year == []
    # The ledger list links it for the year shown.
    page = _login(client_en, staff_1).get(LEDGER).content.decode()
    assert f"{RECONCILIATION}?year=2026" in page and BUDGET in page


def test_the_budget_page(client_en, staff_1, staff_2, city_staff, paid, in_notice_2, programme):
    interview = programme("interview-travel")

    response = _login(client_en, city_staff).get(BUDGET, {"year": 2026})

    assert response.status_code == 200
    [row] = [r for r in response.context["rows"] if r["programme"] == interview]
    assert (row["budget"], row["committed"], row["paid"], row["left"]) == (
        Decimal("2000000"),
        Decimal("1000"),
        Decimal("500"),
        Decimal("1999000"),
    )
    assert row["percent"] == 0 and row["paid_pct"] == 0
    assert "startup-loan" not in {r["programme"].code for r in response.context["rows"]}  # pays nothing
    page = response.content.decode()
    assert 'data-programme="interview-travel"' in page and "Interview travel subsidy" in page
    assert "1,999,000.00" in page
    assert 'class="budget-bar"' in page
    assert "cdn" not in page.lower()
    # Budgets are city-wide: district staff read the same figures.
    response = _login(client_en, staff_2).get(BUDGET, {"year": 2026})
    [row_2] = [r for r in response.context["rows"] if r["programme"] == interview]
    assert row_2["committed"] == Decimal("1000")
    assert "Budgets are city-wide" in response.content.decode()
    # Another year has nothing committed.
    response = client_en.get(BUDGET, {"year": 2025})
    assert all(r["committed"] == 0 for r in response.context["rows"])
    # The CSV download.
    header, *rows = _csv_rows(client_en.get(BUDGET_CSV, {"year": 2026}))
    assert header == [
        "Programme",
        "Budget year",
        "Budget (CNY)",
        "Committed (CNY)",
        "Paid (CNY)",
        "Left (CNY)",
        "Used (%)",
    ]
    assert ["Interview travel subsidy", "2026", "2000000.00", "1000.00", "500.00", "1999000.00", "0"] in rows


def test_the_budget_bar_shows_paid_and_committed_shares(client_en, city_staff, paid, programme):
    Programme.objects.filter(pk=paid.programme_id).update(yearly_budget=Decimal("2000"))

    response = _login(client_en, city_staff).get(BUDGET, {"year": 2026})

    [row] = [r for r in response.context["rows"] if r["programme"].pk == paid.programme_id]
    assert (row["percent"], row["paid_pct"], row["unpaid_pct"]) == (25, 25, 0)
    assert 'style="width:25%"' in response.content.decode()


def test_the_programme_and_ledger_lists_link_the_budget_page(client_en, staff_1, programme):
    _login(client_en, staff_1)
    assert BUDGET in client_en.get(PROGRAMMES).content.decode()
    assert BUDGET in client_en.get(LEDGER).content.decode()
    page = client_en.get(_url("programme", "change", programme("interview-travel"))).content.decode()
    assert BUDGET in page


# --- Programmes ----------------------------------------------------------------------------------


def _programme_form(p: Programme, **changes) -> dict:
    data = {
        "name_zh": p.name_zh,
        "name_en": p.name_en,
        "description_zh": p.description_zh,
        "description_en": p.description_en,
        "opens_on": "",
        "closes_on": "",
        "yearly_budget": str(p.yearly_budget),
        "required_documents": list(p.required_documents),
        "excludes": [str(pk) for pk in p.excludes.values_list("pk", flat=True)],
        "active": "on" if p.active else "",
        "sort_order": str(p.sort_order),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v not in ("", None) or k in ("opens_on", "closes_on")}


def test_city_staff_edit_a_programme(client_en, city_staff, programme):
    p = programme("rent-subsidy")
    _login(client_en, city_staff)
    page = client_en.get(_url("programme", "change", p))
    assert page.status_code == 200
    assert "rule_code" not in page.context["adminform"].form.fields  # the rule belongs to the code

    response = client_en.post(
        _url("programme", "change", p),
        _programme_form(
            p,
            yearly_budget="4500000",
            required_documents=["degree_certificate", "other"],
            opens_on="2026-01-01",
            closes_on="2026-12-31",
            rule_code="interview_travel",
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    p.refresh_from_db()
    assert p.yearly_budget == Decimal("4500000")
    assert p.required_documents == ["degree_certificate", "other"]
    assert (p.opens_on, p.closes_on) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert p.rule_code == "rent_subsidy"

    response = client_en.post(
        _url("programme", "change", p), _programme_form(p, opens_on="2026-01-01", closes_on="2025-12-31")
    )
    assert response.status_code == 200 and "closes_on" in response.context["adminform"].form.errors


def test_a_new_exclusion_rechecks_the_open_applications(client_en, city_staff, programme, monkeypatch):
    calls = []
    monkeypatch.setattr(services, "subsidies_recheck", lambda **kw: calls.append(kw) or 0)
    p = programme("rent-subsidy")
    other = programme("interview-travel")

    response = _login(client_en, city_staff).post(
        _url("programme", "change", p), _programme_form(p, excludes=[str(other.pk)])
    )

    assert response.status_code == 302
    assert set(p.excludes.all()) == {other}
    assert calls == [{"all_open": True, "reason": "programme"}]


def test_district_staff_read_programmes_only(client_en, staff_1, programme):
    p = programme("university-base")
    _login(client_en, staff_1)

    page = client_en.get(_url("programme", "change", p)).content.decode()

    assert 'name="_save"' not in page
    assert "Business licence" in page  # the papers by name
    response = client_en.post(_url("programme", "change", p), _programme_form(p, yearly_budget="1"))
    assert response.status_code == 403
    p.refresh_from_db()
    assert p.yearly_budget == Decimal("2000000")
    assert client_en.get(reverse("admin:subsidies_programme_add")).status_code == 403


# --- Query budgets ----------------------------------------------------------------------------------


def _more_rows(n: int, district, programme: Programme, staff):
    """``n`` applications of ``district`` with a check, a ledger entry and an objection."""
    now = timezone.now()
    for _i in range(n):
        profile = ProfileFactory(district=district)
        app = SubsidyApplication.objects.create(
            programme=programme,
            applicant=profile.user,
            beneficiary=profile.user,
            district=district,
            period_start=DAY0,
            period_end=DAY0,
            dedupe_key=f"test:{uuid.uuid4().hex}",
            status=S.NOTICE,
            amount=Decimal("500"),
            eligibility={"eligible": True, "criteria": [{"code": "x", "passed": True, "message": "ok"}]},
            notice_ends_on=DAY0 + dt.timedelta(days=5),
            reviewed_by=staff,
        )
        LedgerEntry.objects.create(
            application=app, programme=programme, budget_year=2026, amount=Decimal("500"), paid_at=now, paid_by=staff
        )
        Objection.objects.create(application=app, filed_by=profile.user, text="这份申请的材料存在问题。")


def _count_queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url, params",
    [
        (APPLICATIONS, {}),
        (APPLICATIONS, {"todo": "all"}),
        (OBJECTIONS, {}),
        (LEDGER, {}),
        (PROGRAMMES, {}),
        (BUDGET, {"year": 2026}),
        (RECONCILIATION, {"year": 2026}),
    ],
)
@pytest.mark.parametrize("who", ["staff_1", "city_staff"])
def test_query_counts_do_not_grow_with_rows(
    request, client_en, clock, district_1, programme, staff_1, django_assert_max_num_queries, url, params, who
):
    _login(client_en, request.getfixturevalue(who))
    p = programme("interview-travel")
    _more_rows(2, district_1, p, staff_1)
    budget = _count_queries(client_en, url, params)

    _more_rows(10, district_1, p, staff_1)
    with django_assert_max_num_queries(budget):
        response = client_en.get(url, params)
    assert response.status_code == 200


def test_the_programme_list_counts_what_waits_for_staff(
    client_en, staff_1, staff_2, objection, programme, district_1, apply
):
    interview = programme("interview-travel")
    # One eligible application (a review) and one in notice with an open objection.
    eligible = apply(interview, _graduate(district_1))
    response = _login(client_en, staff_1).get(PROGRAMMES)
    [row] = [p for p in response.context["cl"].result_list if p.pk == interview.pk]
    assert row.waiting_total == 2
    assert f"?programme__id__exact={interview.pk}&amp;todo=all" in response.content.decode()
    assert _result_pks(client_en.get(APPLICATIONS, {"programme__id__exact": interview.pk, "todo": "all"})) == {
        eligible.pk,
        objection.application_id,
    }
    # Another district's staff count their own districts only.
    response = _login(client_en, staff_2).get(PROGRAMMES)
    [row] = [p for p in response.context["cl"].result_list if p.pk == interview.pk]
    assert row.waiting_total == 0
