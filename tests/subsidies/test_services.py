"""The subsidy services: applying and claiming with their refusals, the database refusing a
second application for the same person and period, the check stored with the rule version
and the parameter values, re-checks when a fact or a parameter changes, the proactive
screening (免申即享), staff review (second approval by another person, a budget that cannot be
overspent, the base subsidy's range), the public notice with objections, payment with the
ledger, the loan referral, and who may do what; on PostgreSQL, concurrent approvals that never
overspend the budget, with a negative control that does without the programme's lock."""

from __future__ import annotations

import collections
import datetime as dt
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.test import TestCase
from django.utils import timezone, translation

from jobs import services as jobs_services
from jobs.constants import ApplicationStatus, PositionKind
from portal import services as portal_services
from portal.constants import Channel, DocumentKind, OrganisationKind, Role
from portal.models import AuditEntry, Delivery, Notification, NotificationPreference
from subsidies import constants as c
from subsidies import selectors, services
from subsidies.constants import SubsidyStatus as S
from subsidies.models import EligibilityCheck, LedgerEntry, Objection, Programme, ScreeningNotice, SubsidyApplication
from subsidies.rules import RULES
from tests.apartments import conftest as housing
from tests.apartments.conftest import DAY0, give_letter, make_project, set_parameter
from tests.jobs.factories import JobApplicationFactory, PositionFactory, TraineeshipBaseFactory
from tests.portal.factories import DistrictStaffFactory, OrganisationFactory, ProfileFactory
from tests.subsidies.conftest import make_subsidy_graduate, with_interview

clock = housing.clock  # moves timezone.now to DAY0 (2026-05-11)

# --- helpers the other subsidy test modules share --------------------------------------------------


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def employer(district, *, base: bool = False, kind: str = OrganisationKind.PRIVATE, verified: bool = True):
    """A (verified) employer in ``district`` and its owner, who claims for it; optionally a
    designated traineeship base."""
    org = OrganisationFactory(district=district, kind=kind, verified=verified)
    if base:
        TraineeshipBaseFactory(organisation=org)
    return org, org.memberships.get().user


def hire_graduate(org, graduate, *, kind: str = PositionKind.JOB, hired_on: dt.date | None = None):
    """A hire recorded in the jobs programme (as ``job_application_hire`` leaves it)."""
    position = PositionFactory(organisation=org, kind=kind, published=True)
    return JobApplicationFactory(
        position=position, applicant=graduate, status=ApplicationStatus.HIRED, hired_on=hired_on or timezone.localdate()
    )


def make_application(
    programme: Programme,
    applicant,
    *,
    status: str,
    beneficiary=None,
    organisation=None,
    job_application=None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    details: dict | None = None,
    dedupe_key: str | None = None,
    amount: Decimal | int = 0,
    check_sequence: int = 0,
) -> SubsidyApplication:
    """A row in a given state, for the facts other applications read (not through the
    services)."""
    start = period_start or timezone.localdate()
    if organisation is not None:
        district_id = organisation.district_id
    else:
        profile = getattr(applicant, "profile", None)
        district_id = profile.district_id if profile and profile.district_id else None
    if district_id is None:
        from portal.models import District

        district_id = District.objects.get(code="luolong").pk
    return SubsidyApplication.objects.create(
        programme=programme,
        applicant=applicant,
        beneficiary=beneficiary or applicant,
        organisation=organisation,
        job_application=job_application,
        district_id=district_id,
        period_start=start,
        period_end=period_end or start,
        details=details or {},
        dedupe_key=dedupe_key or f"test:{uuid.uuid4().hex}",
        status=status,
        amount=amount,
        check_sequence=check_sequence,
    )


def committed():
    """Run the on-commit callbacks of the block (the queued check, re-checks, deliveries) when
    it ends, as a real commit would; Celery is eager in the tests."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def apply(programme, applicant, **kw) -> SubsidyApplication:
    """Apply through the service; the check runs (eagerly) on commit."""
    with committed():
        app = services.subsidy_application_create(programme=programme, applicant=applicant, **kw)
    app.refresh_from_db()
    return app


def told(user, *kinds: str) -> list[str]:
    qs = Notification.objects.filter(user=user).order_by("pk")
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return list(qs.values_list("kind", flat=True))


CHECK_KINDS = ("subsidy_eligible", "subsidy_ineligible")


@pytest.fixture
def graduate(clock, district_1):
    """Qualifies for the interview travel subsidy and the rent subsidy (district 1)."""
    user = make_subsidy_graduate(district=district_1)
    with_interview(user)
    return user


@pytest.fixture
def staff_1b(district_1):
    """A second staff member of district 1, for second approvals."""
    return DistrictStaffFactory(districts=[district_1])


pytestmark = pytest.mark.django_db


# --- applying ------------------------------------------------------------------------------------


class TestApplyingAndClaiming:
    def test_an_application_is_submitted_and_checked(self, graduate, programme):
        app = apply(programme("interview-travel"), graduate)
        assert (app.status, app.amount, app.check_sequence) == (S.ELIGIBLE, Decimal("500.00"), 1)
        assert app.submitted_at is not None
        assert app.beneficiary == graduate and app.organisation is None
        assert told(graduate, *CHECK_KINDS) == ["subsidy_eligible"]
        assert list(
            AuditEntry.objects.filter(content_type__model="subsidyapplication", object_id=str(app.pk))
            .order_by("pk")
            .values_list("from_status", "to_status")
        ) == [(S.DRAFT, S.SUBMITTED), (S.SUBMITTED, S.ELIGIBLE)]

    def test_a_draft_is_not_checked_until_submitted(self, graduate, programme):
        app = services.subsidy_application_create(
            programme=programme("interview-travel"), applicant=graduate, submit=False
        )
        assert app.status == S.DRAFT and not app.checks.exists()
        with committed():
            services.subsidy_application_submit(application=app, actor=graduate)
        app.refresh_from_db()
        assert app.status == S.ELIGIBLE and app.checks.count() == 1

    @pytest.mark.parametrize(
        ("opens", "closes", "open_"),
        [(0, None, True), (1, None, False), (None, 0, True), (None, -1, False), (-30, 30, True)],
    )
    def test_the_application_window(self, graduate, programme, opens, closes, open_):
        p = programme("interview-travel")
        Programme.objects.filter(pk=p.pk).update(
            opens_on=DAY0 + dt.timedelta(days=opens) if opens is not None else None,
            closes_on=DAY0 + dt.timedelta(days=closes) if closes is not None else None,
        )
        p.refresh_from_db()
        if open_:
            assert services.subsidy_application_create(programme=p, applicant=graduate).pk
        else:
            with pytest.raises(ValidationError) as exc:
                services.subsidy_application_create(programme=p, applicant=graduate)
            assert exc.value.code == "closed"

    def test_an_inactive_programme_takes_no_applications(self, graduate, programme):
        Programme.objects.filter(code="interview-travel").update(active=False)
        with pytest.raises(ValidationError) as exc:
            services.subsidy_application_create(programme=programme("interview-travel"), applicant=graduate)
        assert exc.value.code == "closed"

    def test_only_graduates_apply_for_a_graduate_programme(self, clock, programme, district_1, staff_1):
        _org, member = employer(district_1)
        for user in (member, staff_1):
            with pytest.raises(PermissionDenied):
                services.subsidy_application_create(programme=programme("rent-subsidy"), applicant=user)

    def test_only_members_of_a_verified_employer_claim(self, clock, programme, district_1, graduate):
        org, member = employer(district_1)
        _other, outsider = employer(district_1)
        hire = hire_graduate(org, graduate)
        p = programme("employer-hiring")
        for user, organisation in ((outsider, org), (graduate, org), (member, None)):
            with pytest.raises(PermissionDenied):
                services.subsidy_application_create(
                    programme=p, applicant=user, organisation=organisation, job_application_id=hire.pk
                )
        pending, pending_member = employer(district_1, verified=False)
        with pytest.raises(ValidationError) as exc:
            services.subsidy_application_create(programme=p, applicant=pending_member, organisation=pending)
        assert exc.value.code == "not_verified"

    def test_a_claim_names_a_hire_of_the_organisation(self, clock, programme, district_1, graduate):
        org, member = employer(district_1)
        other, _ = employer(district_1)
        not_ours = hire_graduate(other, graduate)
        not_hired = JobApplicationFactory(position=PositionFactory(organisation=org, published=True), offered=True)
        for job_application_id in (not_ours.pk, not_hired.pk, None):
            with pytest.raises(ValidationError) as exc:
                services.subsidy_application_create(
                    programme=programme("employer-hiring"),
                    applicant=member,
                    organisation=org,
                    job_application_id=job_application_id,
                )
            assert exc.value.code == "hire"
        ours = hire_graduate(org, graduate)
        app = services.subsidy_application_create(
            programme=programme("employer-hiring"), applicant=member, organisation=org, job_application_id=ours.pk
        )
        assert (app.beneficiary, app.dedupe_key) == (graduate, f"hire:{ours.pk}")

    def test_the_required_documents_are_attached(self, clock, programme, district_1, graduate):
        org, member = employer(district_1)
        p = programme("university-base")
        assert p.required_documents == [DocumentKind.BUSINESS_LICENCE]
        details = {"university": "河南科技大学", "base_name": "轴承联合实验室"}
        with pytest.raises(ValidationError) as exc:
            services.subsidy_application_create(programme=p, applicant=member, organisation=org, details=details)
        assert exc.value.code == "documents"
        someone_elses = give_letter(graduate, kind=DocumentKind.BUSINESS_LICENCE)
        with pytest.raises(ValidationError) as exc:
            services.subsidy_application_create(
                programme=p, applicant=member, organisation=org, details=details, documents=[someone_elses]
            )
        assert exc.value.code == "documents"
        licence = give_letter(member, kind=DocumentKind.BUSINESS_LICENCE)
        app = services.subsidy_application_create(
            programme=p, applicant=member, organisation=org, details=details, documents=[licence]
        )
        assert list(app.documents.all()) == [licence]

    @pytest.mark.parametrize(
        ("code", "details", "field"),
        [
            ("rent-subsidy", {"months": "three"}, "months"),
            ("incubation-rent", {"months": 3, "monthly_rent": "-5"}, "monthly_rent"),
            ("incubation-rent", {"months": 3, "monthly_rent": "lots"}, "monthly_rent"),
            ("startup-loan", {"product": "talent", "loan_amount": "a lot"}, "loan_amount"),
        ],
    )
    def test_details_are_validated_field_by_field(self, graduate, programme, code, details, field):
        with pytest.raises(ValidationError) as exc:
            services.subsidy_application_create(programme=programme(code), applicant=graduate, details=details)
        assert list(exc.value.message_dict) == [field]

    def test_a_graduate_chooses_a_district_first(self, clock, programme):
        user = ProfileFactory(complete=True, district=None).user
        with pytest.raises(ValidationError) as exc:
            services.subsidy_application_create(programme=programme("rent-subsidy"), applicant=user)
        assert exc.value.code == "district"

    def test_an_ineligible_application_is_kept_with_its_reasons(self, clock, programme, district_1):
        user = make_subsidy_graduate(district=district_1, works_in_luoyang=False)
        app = apply(programme("rent-subsidy"), user, details={"months": 3})
        assert app.status == S.INELIGIBLE
        assert [x["code"] for x in app.eligibility["criteria"] if not x["passed"]] == ["works_in_luoyang"]
        assert told(user, *CHECK_KINDS) == ["subsidy_ineligible"]


class TestDuplicates:
    def test_the_database_refuses_a_second_application_for_the_same_person_and_period(self, graduate, programme):
        p = programme("rent-subsidy")
        first = services.subsidy_application_create(programme=p, applicant=graduate, details={"months": 3})
        with pytest.raises(ValidationError) as exc:
            services.subsidy_application_create(programme=p, applicant=graduate, details={"months": 1})
        assert exc.value.code == "duplicate"
        # Another month is another period.
        services.subsidy_application_create(
            programme=p, applicant=graduate, details={"months": 1}, period_start=DAY0 + dt.timedelta(days=92)
        )
        # Below the service: the constraint itself.
        with pytest.raises(IntegrityError), transaction.atomic():
            SubsidyApplication.objects.create(
                programme=p,
                applicant=graduate,
                district=first.district,
                period_start=first.period_start,
                period_end=first.period_end,
                dedupe_key=first.dedupe_key,
                status=S.SUBMITTED,
            )

    @pytest.mark.parametrize("ending", ["rejected", "withdrawn"])
    def test_a_rejected_or_withdrawn_application_may_be_followed(self, graduate, programme, staff_1, ending):
        p = programme("interview-travel")
        first = apply(p, graduate)
        if ending == "rejected":
            services.subsidy_reject(application=first, actor=staff_1, reason="材料不实")
        else:
            services.subsidy_application_withdraw(application=first, actor=graduate)
        second = apply(p, graduate)
        assert second.dedupe_key == first.dedupe_key and second.pk != first.pk
        with pytest.raises(ValidationError) as exc:
            services.subsidy_application_create(programme=p, applicant=graduate)
        assert exc.value.code == "duplicate"

    def test_a_traineeship_base_claims_each_month_once(self, clock, programme, district_1, graduate):
        org, member = employer(district_1, base=True)
        hire = hire_graduate(org, graduate, kind=PositionKind.TRAINEESHIP, hired_on=dt.date(2026, 3, 2))

        def claim(month):
            return services.subsidy_application_create(
                programme=programme("traineeship-living"),
                applicant=member,
                organisation=org,
                job_application_id=hire.pk,
                period_start=month,
            )

        march = claim(dt.date(2026, 3, 20))
        assert (march.period_start, march.period_end) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
        claim(dt.date(2026, 4, 1))
        with pytest.raises(ValidationError) as exc:
            claim(dt.date(2026, 3, 1))
        assert exc.value.code == "duplicate"


# --- the check -------------------------------------------------------------------------------------


class TestTheCheck:
    def test_the_check_stores_the_rule_version_and_every_parameter_value(self, graduate, programme):
        app = apply(programme("rent-subsidy"), graduate, details={"months": 6})
        check = EligibilityCheck.objects.get(application=app)
        assert (check.sequence, check.eligible, check.amount, check.reason) == (
            1,
            True,
            Decimal("1800.00"),
            "submitted",
        )
        assert check.rule_version == RULES[c.RuleCode.RENT_SUBSIDY].version
        parameters = check.result["parameters"]
        assert parameters[c.RENT_MONTHLY_AMOUNT] == "300.0000"
        assert parameters[c.RENT_GRADUATION_YEARS] == "3.0000"
        assert parameters["rule_version"] == check.rule_version
        assert parameters["period_start"] == "2026-05-01"
        assert parameters["evaluated_on"] == "2026-05-11"
        assert {x["code"] for x in check.result["criteria"]} >= {
            "profile",
            "graduation",
            "works_in_luoyang",
            "no_rent_free_lease",
        }
        assert app.eligibility == check.result

    def test_a_check_request_runs_once(self, graduate, programme):
        app = apply(programme("interview-travel"), graduate)
        assert services.subsidy_check(application_id=app.pk, sequence=1) is False  # stored already
        assert services.subsidy_check(application_id=app.pk, sequence=7) is False  # not requested
        assert services.subsidy_checks_run(application_ids=[app.pk, app.pk]) == 0
        assert app.checks.count() == 1
        assert told(graduate, *CHECK_KINDS) == ["subsidy_eligible"]

    def test_an_older_request_is_superseded_by_a_newer_one(self, graduate, programme):
        app = apply(programme("interview-travel"), graduate)
        SubsidyApplication.objects.filter(pk=app.pk).update(check_sequence=3)
        assert services.subsidy_check(application_id=app.pk, sequence=2) is False
        assert services.subsidy_check(application_id=app.pk, sequence=3) is True
        assert list(app.checks.values_list("sequence", flat=True)) == [3, 1]

    def test_only_open_applications_are_checked(self, graduate, programme, staff_1):
        app = apply(programme("interview-travel"), graduate)
        services.subsidy_approve(application=app, actor=staff_1)
        SubsidyApplication.objects.filter(pk=app.pk).update(check_sequence=2)
        assert services.subsidy_check(application_id=app.pk) is False
        assert services.subsidy_check(application_id=app.pk + 1000) is False

    def test_the_applicant_is_told_only_when_the_outcome_changes(self, graduate, programme):
        app = apply(programme("rent-subsidy"), graduate, details={"months": 3})
        with committed():
            assert services.subsidies_recheck(user_ids=[graduate.pk], reason="test") == 1
        assert app.checks.count() == 2
        assert told(graduate, *CHECK_KINDS) == ["subsidy_eligible"]  # same outcome: not told again
        with committed():
            portal_services.profile_update(user=graduate, data={"works_in_luoyang": False})
        app.refresh_from_db()
        assert app.status == S.INELIGIBLE
        assert told(graduate, *CHECK_KINDS) == ["subsidy_eligible", "subsidy_ineligible"]
        reasons = Notification.objects.filter(user=graduate, kind="subsidy_ineligible").get().body
        assert "Luoyang" in reasons or "洛阳" in reasons
        with committed():
            portal_services.profile_update(user=graduate, data={"works_in_luoyang": True})
        app.refresh_from_db()
        assert app.status == S.ELIGIBLE
        assert told(graduate, *CHECK_KINDS) == ["subsidy_eligible", "subsidy_ineligible", "subsidy_eligible"]
        assert list(app.checks.order_by("sequence").values_list("reason", "eligible")) == [
            ("submitted", True),
            ("test", True),
            ("profile", False),
            ("profile", True),
        ]

    def test_a_missing_parameter_leaves_that_application_waiting_and_checks_the_others(
        self, graduate, programme, district_1, caplog
    ):
        rent = make_application(
            programme("rent-subsidy"), graduate, status=S.SUBMITTED, check_sequence=1, details={"months": 1}
        )
        other = make_subsidy_graduate(district=district_1)
        with_interview(other)
        interview = make_application(programme("interview-travel"), other, status=S.SUBMITTED, check_sequence=1)
        from portal.models import Parameter

        Parameter.objects.filter(key=c.RENT_MONTHLY_AMOUNT).delete()
        assert services.subsidy_checks_run(application_ids=[rent.pk, interview.pk]) == 1
        rent.refresh_from_db()
        interview.refresh_from_db()
        assert (rent.status, interview.status) == (S.SUBMITTED, S.ELIGIBLE)
        assert "parameter is missing" in caplog.text


class TestReChecks:
    def test_a_profile_change_re_checks_the_open_applications(self, graduate, programme):
        app = apply(programme("interview-travel"), graduate)
        profile = graduate.profile
        profile.hukou_city = "洛阳市"
        with committed():
            profile.save()
        app.refresh_from_db()
        assert app.status == S.INELIGIBLE
        last = app.checks.first()
        assert (last.sequence, last.reason, last.eligible) == (2, "profile", False)
        assert [x["code"] for x in last.result["criteria"] if not x["passed"]] == ["hukou"]

    def test_a_hire_re_checks(self, clock, programme, district_1):
        user = make_subsidy_graduate(district=district_1, works_in_luoyang=False)
        app = apply(programme("rent-subsidy"), user, details={"months": 2})
        assert app.status == S.INELIGIBLE
        job_application = JobApplicationFactory(applicant=user, offered=True)
        owner = job_application.position.organisation.memberships.get().user
        with committed():
            jobs_services.job_application_hire(application=job_application, actor=owner)
        app.refresh_from_db()
        assert app.status == S.ELIGIBLE
        # The hire and the profile change it records asked for a check each; the latest
        # request is answered once.
        assert (app.check_sequence, app.checks.count()) == (3, 2)

    def test_a_rent_free_lease_re_checks_the_rent_subsidy(self, graduate, programme, district_1):
        from apartments.models import Lease

        app = apply(programme("rent-subsidy"), graduate, details={"months": 3})
        assert app.status == S.ELIGIBLE
        project = make_project(district_1)
        with committed():
            Lease.objects.create(
                unit=project.units.first(),
                tenant=graduate,
                start=DAY0.replace(day=1),
                end=dt.date(2029, 4, 30),
                monthly_rent=900,
                rent_free_months=12,
            )
        app.refresh_from_db()
        assert app.status == S.INELIGIBLE
        assert app.checks.first().reason == "lease"

    def test_a_parameter_change_re_checks_every_open_application(self, graduate, programme, district_1, staff_1):
        others = [make_subsidy_graduate(district=district_1) for _ in range(2)]
        for user in others:
            with_interview(user)
        p = programme("interview-travel")
        apps = [apply(p, user) for user in (graduate, *others)]
        services.subsidy_approve(application=apps[2], actor=staff_1)  # no longer open
        before = Notification.objects.count()
        with committed():
            set_parameter(c.INTERVIEW_AMOUNT, 600, effective_from=DAY0)
        for app in apps[:2]:
            app.refresh_from_db()
            last = app.checks.first()
            assert (app.status, app.amount, last.reason) == (S.ELIGIBLE, Decimal("600.00"), "parameter")
            assert last.result["parameters"][c.INTERVIEW_AMOUNT] == "600.0000"
        apps[2].refresh_from_db()
        assert (apps[2].amount, apps[2].checks.count()) == (Decimal("500.00"), 1)
        assert Notification.objects.count() == before  # the outcome is the same: nobody told again

    def test_a_parameter_from_a_later_date_changes_nothing_today(self, graduate, programme):
        app = apply(programme("interview-travel"), graduate)
        with committed():
            set_parameter(c.INTERVIEW_AMOUNT, 600, effective_from=DAY0 + dt.timedelta(days=30))
        app.refresh_from_db()
        assert (app.checks.count(), app.amount) == (2, Decimal("500.00"))

    def test_re_checks_go_in_batches(self, graduate, programme, monkeypatch):
        from subsidies import tasks

        calls = []
        monkeypatch.setattr(services, "CHECK_BATCH", 2)
        monkeypatch.setattr(tasks.subsidy_checks_batch, "delay", lambda ids, reason: calls.append((ids, reason)))
        apps = [
            make_application(programme("interview-travel"), graduate, status=status)
            for status in (S.SUBMITTED, S.ELIGIBLE, S.INELIGIBLE, S.APPROVED, S.DRAFT)
        ]
        with committed():
            assert services.subsidies_recheck(all_open=True, reason="parameter") == 3
            assert calls == []  # queued on commit
        open_ids = [a.pk for a in apps[:3]]
        assert calls == [(open_ids[:2], "parameter"), (open_ids[2:], "parameter")]
        assert list(SubsidyApplication.objects.filter(pk__in=open_ids).values_list("check_sequence", flat=True)) == [
            1,
            1,
            1,
        ]


class TestScreening:
    def test_graduates_who_now_qualify_are_told_once(self, graduate, programme, clock, district_1):
        not_working = make_subsidy_graduate(district=district_1, works_in_luoyang=False)
        applied = make_subsidy_graduate(district=district_1)
        make_application(programme("rent-subsidy"), applied, status=S.WITHDRAWN)
        assert services.subsidies_screen() == 2  # the interview subsidy and the rent subsidy
        assert sorted(ScreeningNotice.objects.filter(user=graduate).values_list("programme__code", flat=True)) == [
            "interview-travel",
            "rent-subsidy",
        ]
        assert told(graduate, "subsidy_screening") == ["subsidy_screening", "subsidy_screening"]
        assert told(not_working) == [] and told(applied) == []
        assert services.subsidies_screen() == 0
        assert len(told(graduate, "subsidy_screening")) == 2
        # A change of facts makes someone qualify: told at the next screening.
        portal_services.profile_record_employment(user=not_working, employer="洛阳轴承", in_luoyang=True)
        assert services.subsidies_screen() == 1
        assert told(not_working) == ["subsidy_screening"]

    def test_the_screening_respects_the_channels_chosen(self, clock, programme, district_1):
        quiet = make_subsidy_graduate(district=district_1)
        loud = make_subsidy_graduate(district=district_1)
        NotificationPreference.objects.update_or_create(user=quiet, defaults={"email": False, "sms": False})
        NotificationPreference.objects.update_or_create(user=loud, defaults={"email": True, "sms": False})
        assert services.subsidies_screen(user_ids=[quiet.pk, loud.pk]) == 2
        assert not Delivery.objects.filter(notification__user=quiet).exists()
        assert list(Delivery.objects.filter(notification__user=loud).values_list("channel", flat=True)) == [
            Channel.EMAIL
        ]
        rent = Notification.objects.get(user=loud, kind="subsidy_screening")
        assert "3600" in rent.body  # 12 months of 300
        assert rent.link.endswith("/rent-subsidy/") or "rent-subsidy" in rent.link

    def test_screening_reads_a_chunk_of_graduates_with_a_fixed_number_of_queries(
        self, clock, programme, district_1, django_assert_max_num_queries
    ):
        users = [make_subsidy_graduate(district=district_1, works_in_luoyang=False) for _ in range(6)]
        with django_assert_max_num_queries(25):
            assert services.subsidies_screen(user_ids=[u.pk for u in users]) == 0


# --- staff review ------------------------------------------------------------------------------------


@pytest.fixture
def eligible(graduate, programme):
    """An eligible interview travel application of district 1 (500 CNY)."""
    return apply(programme("interview-travel"), graduate)


@pytest.fixture
def base_claim(clock, programme, district_1):
    """An eligible university–enterprise base claim (100,000–200,000 CNY) of district 1."""
    org, member = employer(district_1)
    licence = give_letter(member, kind=DocumentKind.BUSINESS_LICENCE)
    return apply(
        programme("university-base"),
        member,
        organisation=org,
        details={"university": "河南科技大学", "base_name": "轴承联合实验室"},
        documents=[licence],
    )


class TestApproval:
    def test_an_approval_commits_the_budget_and_starts_the_notice(self, eligible, staff_1):
        services.subsidy_approve(application=eligible, actor=staff_1)
        eligible.refresh_from_db()
        assert (eligible.status, eligible.reviewed_by) == (S.NOTICE, staff_1)
        assert eligible.notice_ends_on == DAY0 + dt.timedelta(days=5)
        entry = LedgerEntry.objects.get(application=eligible)
        assert (entry.amount, entry.budget_year, entry.released, entry.paid_at) == (
            Decimal("500.00"),
            2026,
            False,
            None,
        )
        assert told(eligible.applicant, "subsidy_notice") == ["subsidy_notice"]
        [row] = [r for r in selectors.budget_use(year=2026) if r["programme"] == eligible.programme]
        assert (row["committed"], row["paid"], row["left"]) == (Decimal("500"), Decimal("0"), Decimal("1999500"))

    def test_only_an_eligible_application_is_approved(self, clock, programme, district_1, staff_1):
        user = make_subsidy_graduate(district=district_1, works_in_luoyang=False)
        app = apply(programme("rent-subsidy"), user, details={"months": 1})
        with pytest.raises(ValidationError) as exc:
            services.subsidy_approve(application=app, actor=staff_1)
        assert exc.value.code == "status"

    def test_the_amount_of_a_rule_priced_programme_cannot_be_changed(self, eligible, staff_1):
        with pytest.raises(ValidationError) as exc:
            services.subsidy_approve(application=eligible, actor=staff_1, amount=Decimal("800"))
        assert exc.value.code == "amount"
        services.subsidy_approve(application=eligible, actor=staff_1, amount=Decimal("500"))

    @pytest.mark.parametrize(
        ("amount", "ok"),
        [("99999.99", False), ("100000", True), ("150000", True), ("200000", True), ("200000.01", False)],
    )
    def test_the_base_subsidy_amount_is_within_the_range(self, base_claim, staff_1, amount, ok):
        assert base_claim.status == S.ELIGIBLE and base_claim.amount == Decimal("100000.00")
        if ok:
            services.subsidy_approve(application=base_claim, actor=staff_1, amount=Decimal(amount))
            base_claim.refresh_from_db()
            assert base_claim.amount == Decimal(amount)
            assert LedgerEntry.objects.get(application=base_claim).amount == Decimal(amount)
        else:
            with pytest.raises(ValidationError) as exc:
                services.subsidy_approve(application=base_claim, actor=staff_1, amount=Decimal(amount))
            assert exc.value.code == "amount"
            assert not LedgerEntry.objects.exists()

    def test_a_large_amount_needs_a_second_approval_by_another_person(self, base_claim, staff_1, staff_1b):
        services.subsidy_approve(application=base_claim, actor=staff_1, amount=Decimal("150000"))
        base_claim.refresh_from_db()
        assert base_claim.status == S.APPROVED and base_claim.notice_ends_on is None  # waits above 10,000
        with pytest.raises(ValidationError) as exc:
            services.subsidy_second_approve(application=base_claim, actor=staff_1)
        assert exc.value.code == "same_person"
        services.subsidy_second_approve(application=base_claim, actor=staff_1b)
        base_claim.refresh_from_db()
        assert (base_claim.status, base_claim.second_approved_by) == (S.NOTICE, staff_1b)
        with pytest.raises(ValidationError) as exc:
            services.subsidy_second_approve(application=base_claim, actor=staff_1b)
        assert exc.value.code == "status"

    def test_the_second_approval_limit_is_a_parameter(self, eligible, staff_1):
        set_parameter(c.SECOND_APPROVAL_ABOVE, 499, effective_from=DAY0)
        eligible.refresh_from_db()
        services.subsidy_approve(application=eligible, actor=staff_1)
        eligible.refresh_from_db()
        assert eligible.status == S.APPROVED

    def test_a_rejection_needs_a_reason_and_tells_the_applicant(self, eligible, staff_1):
        with pytest.raises(ValidationError) as exc:
            services.subsidy_reject(application=eligible, actor=staff_1, reason=" ")
        assert exc.value.code == "reason_required"
        services.subsidy_reject(application=eligible, actor=staff_1, reason="面试邀请不实")
        eligible.refresh_from_db()
        assert (eligible.status, eligible.status_reason) == (S.REJECTED, "面试邀请不实")
        notification = Notification.objects.get(user=eligible.applicant, kind="subsidy_rejected")
        assert "面试邀请不实" in notification.body

    def test_the_budget_cannot_be_overspent_and_a_rejection_frees_it(
        self, graduate, programme, district_1, staff_1, english
    ):
        p = programme("interview-travel")
        Programme.objects.filter(pk=p.pk).update(yearly_budget=Decimal("700"))
        other = make_subsidy_graduate(district=district_1)
        with_interview(other)
        first, second = apply(p, graduate), apply(p, other)
        services.subsidy_approve(application=first, actor=staff_1)
        with pytest.raises(ValidationError) as exc:
            services.subsidy_approve(application=second, actor=staff_1)
        assert exc.value.code == "budget"
        assert "200.00 left" in exc.value.messages[0]
        second.refresh_from_db()
        assert second.status == S.ELIGIBLE and not LedgerEntry.objects.filter(application=second).exists()
        services.subsidy_reject(application=first, actor=staff_1, reason="公示期间发现材料不实")
        assert LedgerEntry.objects.get(application=first).released
        services.subsidy_approve(application=second, actor=staff_1)
        second.refresh_from_db()
        assert second.status == S.NOTICE
        [row] = [r for r in selectors.budget_use(year=2026) if r["programme"].pk == p.pk]
        assert (row["committed"], row["left"]) == (Decimal("500"), Decimal("200"))

    def test_an_approval_re_checks_the_persons_other_applications(self, clock, programme, district_1, staff_1):
        org, member = employer(district_1, base=True)
        trainee = make_subsidy_graduate(district=district_1)
        traineeship = hire_graduate(org, trainee, kind=PositionKind.TRAINEESHIP, hired_on=dt.date(2026, 4, 1))
        job = hire_graduate(org, trainee, kind=PositionKind.JOB, hired_on=DAY0)
        living = apply(
            programme("traineeship-living"),
            member,
            organisation=org,
            job_application_id=traineeship.pk,
            period_start=dt.date(2026, 5, 1),
        )
        hiring = apply(programme("employer-hiring"), member, organisation=org, job_application_id=job.pk)
        assert (living.status, hiring.status) == (S.ELIGIBLE, S.ELIGIBLE)
        with committed():
            services.subsidy_approve(application=hiring, actor=staff_1)
        living.refresh_from_db()
        assert living.status == S.INELIGIBLE
        assert [x["code"] for x in living.eligibility["criteria"] if not x["passed"]] == ["not_combined"]
        assert living.checks.first().reason == "approved"

    def test_an_application_that_no_longer_qualifies_is_not_approved(self, clock, programme, district_1, staff_1):
        org, member = employer(district_1, base=True)
        trainee = make_subsidy_graduate(district=district_1)
        traineeship = hire_graduate(org, trainee, kind=PositionKind.TRAINEESHIP, hired_on=dt.date(2026, 4, 1))
        job = hire_graduate(org, trainee, kind=PositionKind.JOB, hired_on=DAY0)
        living = apply(
            programme("traineeship-living"),
            member,
            organisation=org,
            job_application_id=traineeship.pk,
            period_start=dt.date(2026, 5, 1),
        )
        assert living.status == S.ELIGIBLE
        make_application(
            programme("employer-hiring"),
            member,
            beneficiary=trainee,
            organisation=org,
            job_application=job,
            status=S.PAID,
        )
        with pytest.raises(ValidationError) as exc:
            services.subsidy_approve(application=living, actor=staff_1)
        assert exc.value.code == "not_eligible"
        assert not LedgerEntry.objects.filter(application=living).exists()

    def test_the_loan_is_referred_to_the_bank_without_money(self, graduate, programme, staff_1):
        app = apply(programme("startup-loan"), graduate, details={"product": "talent", "loan_amount": "200000"})
        assert (app.status, app.amount) == (S.ELIGIBLE, Decimal("0.00"))
        result = services.subsidy_approve(application=app, actor=staff_1)
        assert result.status == S.REFERRED
        assert not LedgerEntry.objects.exists()
        assert told(graduate, "subsidy_referred") == ["subsidy_referred"]


class TestNoticeObjectionsAndPayment:
    @pytest.fixture
    def in_notice(self, eligible, staff_1):
        services.subsidy_approve(application=eligible, actor=staff_1)
        eligible.refresh_from_db()
        return eligible

    def test_without_objection_the_notice_ends_after_its_days_and_finance_pays(self, in_notice, staff_1):
        assert services.subsidy_notices_close(today=in_notice.notice_ends_on) == 0
        assert services.subsidy_notices_close(today=in_notice.notice_ends_on + dt.timedelta(days=1)) == 1
        in_notice.refresh_from_db()
        assert in_notice.status == S.PAYABLE
        with pytest.raises(ValidationError) as exc:
            services.subsidy_pay(application=in_notice, actor=staff_1, reference=" ")
        assert exc.value.code == "reference"
        services.subsidy_pay(application=in_notice, actor=staff_1, reference="ICBC-2026-0001")
        in_notice.refresh_from_db()
        assert in_notice.status == S.PAID
        entry = LedgerEntry.objects.get(application=in_notice)
        assert (entry.paid_by, entry.payment_reference, entry.released) == (staff_1, "ICBC-2026-0001", False)
        assert entry.paid_at is not None
        assert told(in_notice.applicant, "subsidy_paid") == ["subsidy_paid"]
        [row] = [r for r in selectors.budget_use(year=2026) if r["programme"] == in_notice.programme]
        assert (row["committed"], row["paid"]) == (Decimal("500"), Decimal("500"))
        with pytest.raises(ValidationError) as exc:
            services.subsidy_pay(application=in_notice, actor=staff_1, reference="again")
        assert exc.value.code == "status"

    def test_only_a_payable_application_is_paid(self, in_notice, staff_1):
        with pytest.raises(ValidationError) as exc:
            services.subsidy_pay(application=in_notice, actor=staff_1, reference="ICBC-1")
        assert exc.value.code == "status"

    def test_an_upheld_objection_rejects_the_application_and_releases_its_money(
        self, in_notice, staff_1, staff_2, graduate_b
    ):
        objection = services.objection_file(
            application=in_notice, actor=graduate_b, text="申请人并未来洛参加面试，材料不实。"
        )
        assert objection.status == Objection.Status.OPEN
        assert told(staff_1, "subsidy_objection") == ["subsidy_objection"]
        assert told(staff_2, "subsidy_objection") == []  # another district's staff
        with pytest.raises(ValidationError):
            services.objection_resolve(objection=objection, actor=staff_1, upheld=True, resolution="")
        services.objection_resolve(objection=objection, actor=staff_1, upheld=True, resolution="经核实面试未发生。")
        in_notice.refresh_from_db()
        objection.refresh_from_db()
        assert (in_notice.status, objection.status, objection.resolved_by) == (S.REJECTED, "upheld", staff_1)
        assert "经核实面试未发生。" in in_notice.status_reason
        assert LedgerEntry.objects.get(application=in_notice).released
        assert told(in_notice.applicant, "subsidy_rejected") == ["subsidy_rejected"]
        with pytest.raises(ValidationError) as exc:
            services.objection_resolve(objection=objection, actor=staff_1, upheld=False, resolution="again")
        assert exc.value.code == "resolved"

    def test_a_dismissed_objection_lets_the_notice_run_to_payment(self, in_notice, staff_1, graduate_b):
        objection = services.objection_file(
            application=in_notice, actor=graduate_b, text="我怀疑这份申请的材料有问题。"
        )
        after = in_notice.notice_ends_on + dt.timedelta(days=1)
        assert services.subsidy_notices_close(today=after) == 0  # an open objection holds it
        services.objection_resolve(objection=objection, actor=staff_1, upheld=False, resolution="材料核实无误。")
        in_notice.refresh_from_db()
        assert in_notice.status == S.NOTICE
        assert services.subsidy_notices_close(today=in_notice.notice_ends_on) == 0
        assert services.subsidy_notices_close(today=after) == 1
        in_notice.refresh_from_db()
        assert in_notice.status == S.PAYABLE

    def test_objections_only_during_the_notice_and_with_a_description(self, eligible, in_notice, graduate_b):
        with pytest.raises(ValidationError) as exc:
            services.objection_file(application=in_notice, actor=graduate_b, text="不对")
        assert exc.value.code == "text"
        other = make_application(in_notice.programme, graduate_b, status=S.ELIGIBLE)
        with pytest.raises(ValidationError) as exc:
            services.objection_file(application=other, actor=graduate_b, text="这份申请材料存在问题。")
        assert exc.value.code == "status"

    def test_the_notice_board_lists_applications_in_notice(self, in_notice, graduate_b):
        assert list(selectors.notice_board()) == [in_notice]


class TestPermissions:
    def test_staff_of_another_district_decide_nothing(self, eligible, staff_2, graduate_b):
        for actor in (staff_2, graduate_b, eligible.applicant):
            with pytest.raises(PermissionDenied):
                services.subsidy_approve(application=eligible, actor=actor)
            with pytest.raises(PermissionDenied):
                services.subsidy_reject(application=eligible, actor=actor, reason="无权")
        eligible.refresh_from_db()
        assert eligible.status == S.ELIGIBLE

    def test_another_districts_staff_cannot_pay_resolve_or_second_approve(
        self, base_claim, staff_1, staff_2, graduate_b
    ):
        services.subsidy_approve(application=base_claim, actor=staff_1, amount=Decimal("120000"))
        with pytest.raises(PermissionDenied):
            services.subsidy_second_approve(application=base_claim, actor=staff_2)
        services.subsidy_second_approve(
            application=base_claim, actor=DistrictStaffFactory(districts=[base_claim.district])
        )
        base_claim.refresh_from_db()
        objection = services.objection_file(
            application=base_claim, actor=graduate_b, text="基地规模与申报不符，请核实。"
        )
        with pytest.raises(PermissionDenied):
            services.objection_resolve(objection=objection, actor=staff_2, upheld=True, resolution="驳回")
        services.objection_resolve(objection=objection, actor=staff_1, upheld=False, resolution="已核实。")
        services.subsidy_notices_close(today=base_claim.notice_ends_on + dt.timedelta(days=1))
        base_claim.refresh_from_db()
        with pytest.raises(PermissionDenied):
            services.subsidy_pay(application=base_claim, actor=staff_2, reference="X")
        services.subsidy_pay(application=base_claim, actor=staff_1, reference="X")

    def test_city_staff_decide_in_every_district(self, eligible, city_staff):
        services.subsidy_approve(application=eligible, actor=city_staff)
        eligible.refresh_from_db()
        assert eligible.status == S.NOTICE

    def test_only_the_applicant_withdraws(self, eligible, graduate_b, staff_1):
        for actor in (graduate_b, staff_1):
            with pytest.raises(PermissionDenied):
                services.subsidy_application_withdraw(application=eligible, actor=actor)
        services.subsidy_application_withdraw(application=eligible, actor=eligible.applicant, reason="不再需要")
        eligible.refresh_from_db()
        assert eligible.status == S.WITHDRAWN

    def test_an_employers_claim_is_withdrawn_by_its_members(self, base_claim, district_1):
        _other, outsider = employer(district_1)
        with pytest.raises(PermissionDenied):
            services.subsidy_application_withdraw(application=base_claim, actor=outsider)
        services.subsidy_application_withdraw(application=base_claim, actor=base_claim.applicant)

    def test_staff_see_their_districts_applications(self, eligible, staff_1, staff_2, city_staff, graduate_b):
        assert list(selectors.applications_for_staff(user=staff_1)) == [eligible]
        assert list(selectors.applications_for_staff(user=staff_2)) == []
        assert list(selectors.applications_for_staff(user=city_staff)) == [eligible]
        assert list(selectors.applications_of(user=eligible.applicant)) == [eligible]
        assert list(selectors.applications_of(user=graduate_b)) == []

    def test_an_employers_members_see_its_claims(self, base_claim, district_1):
        assert list(selectors.applications_of(user=base_claim.applicant)) == [base_claim]
        assert base_claim.applicant.role == Role.EMPLOYER


# --- the budget under concurrent approvals (PostgreSQL) ---------------------------------------------

RACERS = 8


def _race_approvals(apps, actor) -> collections.Counter:
    """Approve every application at once, each from its own thread and database connection,
    released together by a barrier; count the outcomes."""
    barrier = threading.Barrier(len(apps))

    def approve(app):
        try:
            barrier.wait(timeout=30)
            services.subsidy_approve(application=app, actor=actor)
            return "approved"
        except ValidationError as exc:
            return exc.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(apps)) as pool:
        return collections.Counter(pool.map(approve, apps))


@pytest.fixture
def racing_applications(transactional_db, district_1, staff_1):
    """Eight eligible interview travel applications (500 each) under a budget of 2,000."""
    p = Programme.objects.get(code="interview-travel")
    Programme.objects.filter(pk=p.pk).update(yearly_budget=Decimal("2000"))
    apps = []
    for _ in range(RACERS):
        user = make_subsidy_graduate(district=district_1)
        with_interview(user)
        apps.append(services.subsidy_application_create(programme=p, applicant=user))  # checked on commit
    assert SubsidyApplication.objects.filter(status=S.ELIGIBLE).count() == RACERS
    return apps


def _committed(programme_code: str) -> Decimal:
    return LedgerEntry.objects.filter(programme__code=programme_code, released=False).aggregate(t=Sum("amount"))[
        "t"
    ] or Decimal("0")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_approvals_never_overspend_the_budget(racing_applications, staff_1):
    outcomes = _race_approvals(racing_applications, staff_1)
    assert outcomes == {"approved": 4, "budget": 4}
    assert _committed("interview-travel") == Decimal("2000")
    assert SubsidyApplication.objects.filter(status=S.NOTICE).count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_negative_control_without_the_programme_lock_the_budget_is_overspent(racing_applications, staff_1, monkeypatch):
    """The same race with the programme's row lock switched off (and the gap between reading
    the budget used and committing widened a little): the test above would see overspending."""
    verify = services._verify_still_eligible

    def slow_verify(app, today):
        verify(app, today)
        time.sleep(0.2)

    monkeypatch.setattr(services, "_lock_programme", lambda pk: Programme.objects.get(pk=pk))
    monkeypatch.setattr(services, "_verify_still_eligible", slow_verify)
    outcomes = _race_approvals(racing_applications, staff_1)
    assert outcomes["approved"] > 4
    assert _committed("interview-travel") > Decimal("2000")
