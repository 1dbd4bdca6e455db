"""The events admin for district and city staff: rows limited to the staff member's districts;
events created and changed through the services (mistakes as form errors, never an error
page); publish, reject, cancel and announce as buttons that lead to confirmation pages;
approval of pending registrations; the masked CSV export; the attendance page; the year's
figures; and query counts that do not grow with the number of rows."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events import services
from events.constants import EventKind, EventStatus, RegistrationStatus, VenueKind
from events.models import Event, Registration, Venue
from portal import services as portal_services
from portal.constants import AuditAction
from portal.models import AuditEntry, Notification, Organisation
from tests.portal.factories import ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

EVENTS = reverse("admin:events_event_changelist")
REGISTRATIONS = reverse("admin:events_registration_changelist")
VENUES = reverse("admin:events_venue_changelist")
FIGURES = reverse("admin:events_event_statistics")


@pytest.fixture
def client_en(client):
    """Admin pages in English, so assertions do not depend on the state of the .po files."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _login(client, user):
    client.force_login(user)
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _event_data(district, **overrides) -> dict:
    now = timezone.now()
    data = {
        "kind": EventKind.SALON,
        "title": "河洛书苑读书夜",
        "description": "共读《洛阳伽蓝记》。",
        "district": district,
        "place": "洛阳市河洛书苑",
        "starts_at": now + dt.timedelta(days=3),
        "ends_at": now + dt.timedelta(days=3, hours=2),
        "capacity": 2,
        "registration_opens": now - dt.timedelta(hours=1),
        "registration_closes": now + dt.timedelta(days=2),
    }
    data.update(overrides)
    return data


def make_event(actor, district, *, publish=True, **overrides) -> Event:
    event = services.event_create(actor=actor, data=_event_data(district, **overrides))
    if publish:
        services.event_publish(event=event, actor=actor)
        event.refresh_from_db()
    return event


@pytest.fixture
def event_1(city_staff, district_1):
    return make_event(city_staff, district_1, title="洛龙读书夜")


@pytest.fixture
def event_2(city_staff, district_2):
    return make_event(city_staff, district_2, title="涧西青年论坛", kind=EventKind.FORUM)


@pytest.fixture
def draft_1(city_staff, district_1):
    return make_event(city_staff, district_1, publish=False, title="洛龙草稿活动")


@pytest.fixture
def org_x(employer_x, city_staff):
    org = Organisation.objects.get(memberships__user=employer_x)
    portal_services.organisation_verify(organisation=org, actor=city_staff)
    org.refresh_from_db()
    return org


@pytest.fixture
def pending_1(employer_x, org_x, district_1):
    """A recruitment fair of an employer in 洛龙区, submitted for review."""
    event = services.event_create(
        actor=employer_x,
        organiser=org_x,
        data=_event_data(district_1, title="企业校园招聘会", kind=EventKind.RECRUITMENT),
    )
    services.event_submit(event=event, actor=employer_x)
    event.refresh_from_db()
    return event


@pytest.fixture
def reg_a(event_1, graduate_a):
    return services.registration_create(event=event_1, user=graduate_a)


@pytest.fixture
def approval_event(city_staff, district_1):
    return make_event(city_staff, district_1, title="青年联谊会", kind=EventKind.SOCIAL, requires_approval=True)


@pytest.fixture
def pending_reg(approval_event, graduate_a):
    registration = services.registration_create(event=approval_event, user=graduate_a, answers={})
    assert registration.status == RegistrationStatus.PENDING
    return registration


def _url(name, obj):
    return reverse(f"admin:events_{name}", args=[obj.pk])


# --- Scoping ---------------------------------------------------------------------------------------


def test_district_staff_see_only_their_districts_events(client_en, staff_1, city_staff, event_1, event_2, draft_1):
    shown = {e.pk for e in _login(client_en, staff_1).get(EVENTS).context["cl"].result_list}
    assert shown == {event_1.pk, draft_1.pk}

    shown = {e.pk for e in _login(client_en, city_staff).get(EVENTS).context["cl"].result_list}
    assert shown == {event_1.pk, event_2.pk, draft_1.pk}


def test_district_staff_see_only_their_districts_registrations(
    client_en, staff_1, event_1, event_2, graduate_a, graduate_b
):
    mine = services.registration_create(event=event_1, user=graduate_a)
    services.registration_create(event=event_2, user=graduate_b)

    response = _login(client_en, staff_1).get(REGISTRATIONS)

    assert response.status_code == 200
    assert [r.pk for r in response.context["cl"].result_list] == [mine.pk]


def test_the_registration_list_filters_by_event_and_status(
    client_en, city_staff, event_1, event_2, graduate_a, graduate_b
):
    a = services.registration_create(event=event_1, user=graduate_a)
    services.registration_create(event=event_2, user=graduate_b)
    client = _login(client_en, city_staff)

    by_event = client.get(REGISTRATIONS, {"event__id__exact": event_1.pk})
    by_status = client.get(REGISTRATIONS, {"status__exact": "pending"})

    assert [r.pk for r in by_event.context["cl"].result_list] == [a.pk]
    assert list(by_status.context["cl"].result_list) == []


def test_staff_of_another_district_get_404_on_the_change_page(client_en, staff_2, event_1):
    response = _login(client_en, staff_2).get(_url("event_change", event_1))

    assert response.status_code in (302, 404)
    if response.status_code == 302:  # Django's admin redirects to the index with "does not exist"
        assert response["Location"] == reverse("admin:index")


@pytest.mark.parametrize(
    "view",
    ["event_publish", "event_reject", "event_cancel", "event_announce", "event_attendance", "event_registrations_csv"],
)
def test_staff_of_another_district_get_404_on_the_event_views(client_en, staff_2, event_1, view):
    client = _login(client_en, staff_2)
    url = _url(view, event_1)

    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "x"}).status_code == 404
    event_1.refresh_from_db()
    assert event_1.status == EventStatus.PUBLISHED


@pytest.mark.parametrize("view", ["registration_approve", "registration_reject"])
def test_staff_of_another_district_get_404_on_the_registration_decisions(client_en, staff_2, pending_reg, view):
    client = _login(client_en, staff_2)
    url = _url(view, pending_reg)

    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "x"}).status_code == 404
    pending_reg.refresh_from_db()
    assert pending_reg.status == RegistrationStatus.PENDING


def test_graduates_and_employers_do_not_reach_the_events_admin(client_en, graduate_a, employer_x, event_1):
    for user in (graduate_a, employer_x):
        for url in (EVENTS, REGISTRATIONS, FIGURES, _url("event_attendance", event_1)):
            response = _login(client_en, user).get(url)
            assert response.status_code == 302
            assert "/login/" in response["Location"]


def test_venues_are_scoped_and_added_in_the_staff_members_districts(client_en, staff_1, district_1, district_2):
    own = Venue.objects.create(
        district=district_1, name="洛龙区青年之家", kind=VenueKind.YOUTH_HOME, address="开元大道", capacity=80
    )
    Venue.objects.create(
        district=district_2, name="涧西区城市书房", kind=VenueKind.STUDY_ROOM, address="建设路", capacity=30
    )
    client = _login(client_en, staff_1)

    assert [v.pk for v in client.get(VENUES).context["cl"].result_list] == [own.pk]
    form = client.get(reverse("admin:events_venue_add")).context["adminform"].form
    assert list(form.fields["district"].queryset) == [district_1]

    response = client.post(
        reverse("admin:events_venue_add"),
        {
            "district": district_1.pk,
            "name": "洛龙区城市书房",
            "kind": VenueKind.STUDY_ROOM,
            "address": "古城路 18 号",
            "capacity": 30,
        },
    )
    assert response.status_code == 302
    assert Venue.objects.filter(name="洛龙区城市书房", district=district_1).exists()


# --- Creating and changing events through the services ---------------------------------------------


def _split(value: dt.datetime) -> tuple[str, str]:
    local = timezone.localtime(value)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def _add_form(district, **overrides) -> dict:
    data = _event_data(district)
    data.update(overrides)
    form = {
        "kind": data["kind"],
        "title": data["title"],
        "description": data["description"],
        "district": data["district"].pk,
        "venue": data.get("venue", ""),
        "place": data["place"],
        "capacity": data["capacity"],
        "min_age": "",
        "max_age": "",
        "volunteer_hours": data.get("volunteer_hours", "0"),
        "questions": data.get("questions", "[]"),
        "_save": "Save",
    }
    for name in ("starts_at", "ends_at", "registration_opens", "registration_closes"):
        form[f"{name}_0"], form[f"{name}_1"] = _split(data[name])
    return form


def test_staff_add_an_event_through_the_service(client_en, staff_1, district_1):
    response = _login(client_en, staff_1).post(reverse("admin:events_event_add"), _add_form(district_1))

    assert response.status_code == 302
    event = Event.objects.get(title="河洛书苑读书夜")
    assert (event.status, event.created_by, event.district) == (EventStatus.DRAFT, staff_1, district_1)
    assert response["Location"] == EVENTS


def test_an_invalid_event_shows_the_services_errors_on_the_form(client_en, staff_1, district_1):
    now = timezone.now()
    form = _add_form(
        district_1,
        ends_at=now + dt.timedelta(days=2),  # before the start
        place="",
        questions='[{"label": "专业"}]',
    )

    response = _login(client_en, staff_1).post(reverse("admin:events_event_add"), form)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "The event must end after it starts." in errors["ends_at"]
    assert "Choose a venue or give the place." in errors["place"]
    assert errors["questions"]
    assert not Event.objects.exists()


def test_staff_cannot_add_an_event_in_another_district(client_en, staff_1, district_2):
    response = _login(client_en, staff_1).post(reverse("admin:events_event_add"), _add_form(district_2))

    assert response.status_code == 200
    assert "district" in response.context["adminform"].form.errors
    assert not Event.objects.exists()


def test_another_districts_venue_cannot_be_chosen(client_en, staff_1, district_1, district_2):
    theirs = Venue.objects.create(
        district=district_2, name="涧西区青年之家", kind=VenueKind.YOUTH_HOME, address="建设路", capacity=80
    )
    client = _login(client_en, staff_1)
    form = client.get(reverse("admin:events_event_add")).context["adminform"].form
    assert list(form.fields["district"].queryset) == [district_1]

    response = client.post(reverse("admin:events_event_add"), _add_form(district_1, venue=theirs.pk))

    assert response.status_code == 200
    assert "venue" in response.context["adminform"].form.errors
    assert not Event.objects.exists()


def test_a_venue_too_small_is_a_form_error(client_en, staff_1, district_1):
    venue = Venue.objects.create(
        district=district_1, name="小书房", kind=VenueKind.STUDY_ROOM, address="古城路", capacity=10
    )

    response = _login(client_en, staff_1).post(
        reverse("admin:events_event_add"), _add_form(district_1, venue=venue.pk, capacity=20)
    )

    assert response.status_code == 200
    assert "The venue holds 10 people at most." in response.context["adminform"].form.errors["capacity"]


def _change_form(client, event, **changes) -> dict:
    """The change form as the browser would send it, with the inlines' management forms."""
    page = client.get(_url("event_change", event))
    assert page.status_code == 200
    form = _add_form(
        event.district, **{k: getattr(event, k) for k in ("kind", "title", "description", "place", "capacity")}
    )
    for name in ("starts_at", "ends_at", "registration_opens", "registration_closes"):
        form[f"{name}_0"], form[f"{name}_1"] = _split(getattr(event, name))
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            form[f"{formset.prefix}-{key}"] = value
        for sub in formset.initial_forms:
            form[sub.add_prefix(sub._meta.model._meta.pk.name)] = sub.instance.pk
    form.update(changes)
    return form


def test_staff_change_an_event_through_the_service(client_en, staff_1, event_1, graduate_a, graduate_b):
    services.registration_create(event=event_1, user=graduate_a)
    services.registration_create(event=event_1, user=graduate_b)
    waiting = services.registration_create(event=event_1, user=ProfileFactory(complete=True).user)
    assert waiting.status == RegistrationStatus.WAITLISTED
    client = _login(client_en, staff_1)

    response = client.post(
        _url("event_change", event_1), _change_form(client, event_1, capacity=3, title="洛龙读书夜（加场）")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    event_1.refresh_from_db()
    assert (event_1.capacity, event_1.title) == (3, "洛龙读书夜（加场）")
    # More places: event_update offered the new place to the first on the waiting list.
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.OFFERED


def test_fewer_places_than_taken_is_a_form_error(client_en, staff_1, event_1, graduate_a, graduate_b):
    services.registration_create(event=event_1, user=graduate_a)
    services.registration_create(event=event_1, user=graduate_b)
    client = _login(client_en, staff_1)

    response = client.post(_url("event_change", event_1), _change_form(client, event_1, capacity=1))

    assert response.status_code == 200
    assert "2 places are already taken." in response.context["adminform"].form.errors["capacity"]
    event_1.refresh_from_db()
    assert event_1.capacity == 2


def test_the_change_page_shows_registrations_masked_and_the_audit_trail(client_en, staff_1, event_1, reg_a, graduate_a):
    content = _login(client_en, staff_1).get(_url("event_change", event_1)).content.decode()

    profile = graduate_a.profile
    assert profile.real_name in content
    assert profile.masked_phone in content
    assert profile.phone not in content
    assert graduate_a.email not in content  # the rows are not titled with the account
    assert profile.reveal_id_number() not in content
    assert "Audit trail" in content


# --- Decisions on events ------------------------------------------------------------------------------


def test_the_change_page_offers_the_buttons_of_the_status(client_en, staff_1, draft_1, pending_1, event_1):
    client = _login(client_en, staff_1)

    draft = client.get(_url("event_change", draft_1)).content.decode()
    pending = client.get(_url("event_change", pending_1)).content.decode()
    published = client.get(_url("event_change", event_1)).content.decode()

    assert _url("event_publish", draft_1) in draft
    assert _url("event_reject", draft_1) not in draft
    assert _url("event_publish", pending_1) in pending and _url("event_reject", pending_1) in pending
    assert _url("event_cancel", pending_1) not in pending
    assert _url("event_cancel", event_1) in published and _url("event_announce", event_1) in published
    assert _url("event_publish", event_1) not in published
    assert _url("event_attendance", event_1) in published


def test_an_ended_event_offers_no_announcement_and_no_cancellation(client_en, staff_1, city_staff, district_1):
    now = timezone.now()
    ended = make_event(
        city_staff,
        district_1,
        starts_at=now - dt.timedelta(days=1, hours=3),
        ends_at=now - dt.timedelta(days=1),
        registration_opens=now - dt.timedelta(days=5),
        registration_closes=now - dt.timedelta(days=2),
    )
    client = _login(client_en, staff_1)

    content = client.get(_url("event_change", ended)).content.decode()

    assert _url("event_announce", ended) not in content
    assert _url("event_cancel", ended) not in content
    assert "This cannot be done" in client.get(_url("event_announce", ended)).content.decode()


def test_publish_through_the_confirmation_page(client_en, staff_1, draft_1):
    client = _login(client_en, staff_1)
    url = _url("event_publish", draft_1)

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Publish this event?" in confirm.content.decode()
    draft_1.refresh_from_db()
    assert draft_1.status == EventStatus.DRAFT

    response = client.post(url, follow=True)

    draft_1.refresh_from_db()
    assert draft_1.status == EventStatus.PUBLISHED
    assert response.redirect_chain[-1][0] == _url("event_change", draft_1)
    assert any("is published" in m for m in _messages(response))
    assert AuditEntry.objects.get(object_id=str(draft_1.pk), to_status="published").actor == staff_1


def test_publishing_an_employers_event_tells_its_members(client_en, staff_1, pending_1, employer_x):
    _login(client_en, staff_1).post(_url("event_publish", pending_1))

    pending_1.refresh_from_db()
    assert pending_1.status == EventStatus.PUBLISHED
    assert Notification.objects.filter(user=employer_x, kind="event_published").exists()


def test_reject_needs_a_reason(client_en, staff_1, pending_1):
    response = _login(client_en, staff_1).post(_url("event_reject", pending_1), {"reason": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    pending_1.refresh_from_db()
    assert pending_1.status == EventStatus.PENDING


def test_reject_with_a_reason(client_en, staff_1, pending_1, employer_x):
    response = _login(client_en, staff_1).post(
        _url("event_reject", pending_1), {"reason": "请补充场地信息"}, follow=True
    )

    pending_1.refresh_from_db()
    assert (pending_1.status, pending_1.status_reason) == (EventStatus.REJECTED, "请补充场地信息")
    assert any("sent back to the organiser" in m for m in _messages(response))
    assert "请补充场地信息" in Notification.objects.get(user=employer_x, kind="event_rejected").body


def test_cancel_with_a_reason_cancels_the_registrations_and_tells_the_participants(
    client_en, staff_1, event_1, reg_a, graduate_a
):
    client = _login(client_en, staff_1)
    assert "Cancel this event?" in client.get(_url("event_cancel", event_1)).content.decode()

    client.post(_url("event_cancel", event_1), {"reason": "暴雨预警"})

    event_1.refresh_from_db()
    reg_a.refresh_from_db()
    assert event_1.status == EventStatus.CANCELLED
    assert reg_a.status == RegistrationStatus.CANCELLED
    assert "暴雨预警" in Notification.objects.get(user=graduate_a, kind="event_cancelled").body


def test_a_decision_the_status_does_not_allow_is_a_message_not_an_error(client_en, staff_1, event_1):
    client = _login(client_en, staff_1)

    page = client.get(_url("event_reject", event_1))
    response = client.post(_url("event_publish", event_1), follow=True)

    assert page.status_code == 200
    assert "This cannot be done" in page.content.decode()
    assert response.status_code == 200
    assert any("cannot go from" in m for m in _messages(response))


def test_announce_fans_out_to_the_subscribers(
    client_en, staff_1, event_1, district_1, district_2, django_capture_on_commit_callbacks
):
    by_district = UserFactory()
    by_kind = UserFactory()
    both = UserFactory()
    other_district = UserFactory()
    other_kind = UserFactory()
    services.subscription_set(user=by_district, district=district_1)
    services.subscription_set(user=by_kind, kind=EventKind.SALON)
    services.subscription_set(user=both, district=district_1, kind=EventKind.SALON)
    services.subscription_set(user=other_district, district=district_2)
    services.subscription_set(user=other_kind, district=district_1, kind=EventKind.FORUM)
    client = _login(client_en, staff_1)
    assert "Announce this event" in client.get(_url("event_announce", event_1)).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("event_announce", event_1), follow=True)

    told = set(Notification.objects.filter(kind="event_announcement").values_list("user_id", flat=True))
    assert told == {by_district.pk, by_kind.pk, both.pk}
    assert any("announced to 3 subscribers" in m for m in _messages(response))
    # The confirmation page lists the earlier announcement.
    assert len(client.get(_url("event_announce", event_1)).context["announcements"]) == 1


def test_city_staff_decide_in_every_district(client_en, city_staff, district_2):
    draft = make_event(city_staff, district_2, publish=False)

    _login(client_en, city_staff).post(_url("event_publish", draft))

    draft.refresh_from_db()
    assert draft.status == EventStatus.PUBLISHED


# --- Approvals ---------------------------------------------------------------------------------------


def test_the_registration_page_offers_approval_and_is_audited(client_en, staff_1, pending_reg, graduate_a):
    content = _login(client_en, staff_1).get(_url("registration_change", pending_reg)).content.decode()

    assert _url("registration_approve", pending_reg) in content
    assert _url("registration_reject", pending_reg) in content
    profile = graduate_a.profile
    assert profile.id_number_masked in content
    assert profile.reveal_id_number() not in content
    assert AuditEntry.objects.filter(actor=staff_1, action=AuditAction.PII_VIEW, object_id=str(profile.pk)).exists()


def test_approve_through_the_confirmation_page(client_en, staff_1, pending_reg, graduate_a):
    client = _login(client_en, staff_1)
    url = _url("registration_approve", pending_reg)
    assert "Approve this registration?" in client.get(url).content.decode()

    response = client.post(url, follow=True)

    pending_reg.refresh_from_db()
    assert pending_reg.status == RegistrationStatus.CONFIRMED
    assert any("is approved: Confirmed" in m for m in _messages(response))
    assert Notification.objects.filter(user=graduate_a, kind="registration_confirmed").exists()


def test_reject_a_registration_with_a_reason(client_en, staff_1, pending_reg, graduate_a):
    client = _login(client_en, staff_1)

    refused = client.post(_url("registration_reject", pending_reg), {"reason": ""})
    assert refused.status_code == 200
    client.post(_url("registration_reject", pending_reg), {"reason": "名额已满"})

    pending_reg.refresh_from_db()
    assert (pending_reg.status, pending_reg.status_reason) == (RegistrationStatus.CANCELLED, "名额已满")


def test_bulk_approve_takes_the_selected_pending_ones_in_arrival_order(client_en, staff_1, approval_event, reg_a):
    people = [ProfileFactory(complete=True).user for _ in range(3)]
    regs = [services.registration_create(event=approval_event, user=p) for p in people]  # two places

    response = _login(client_en, staff_1).post(
        REGISTRATIONS,
        {"action": "approve_selected", "_selected_action": [str(r.pk) for r in [*regs, reg_a]], "index": "0"},
        follow=True,
    )

    statuses = [Registration.objects.get(pk=r.pk).status for r in regs]
    assert statuses == [RegistrationStatus.CONFIRMED, RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED]
    texts = _messages(response)
    assert any("3 registrations approved" in m and "1 not pending" in m for m in texts), texts


# --- CSV, attendance, figures ----------------------------------------------------------------------------


def test_csv_export_has_masked_personal_data_only(client_en, staff_1, event_1, reg_a, graduate_a, graduate_b, event_2):
    other = services.registration_create(event=event_2, user=graduate_b)

    response = _login(client_en, staff_1).post(
        REGISTRATIONS, {"action": "export_csv", "_selected_action": [str(reg_a.pk), str(other.pk)], "index": "0"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    profile = graduate_a.profile
    assert profile.reveal_id_number() not in text
    assert profile.phone not in text
    assert graduate_a.phone not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][4] == "ID number (masked)"
    assert len(rows) == 2  # the other district's registration is not exported
    assert rows[1][3:6] == [profile.real_name, profile.id_number_masked, profile.masked_phone]
    assert graduate_b.profile.real_name not in text
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT, actor=staff_1)
    assert entry.detail["rows"] == 1


def test_csv_export_masks_the_account_of_a_participant_without_profile(client_en, staff_1, event_1):
    nobody = UserFactory(email="zhang.san@example.com", phone="+8613912345678")
    registration = services.registration_create(event=event_1, user=nobody)

    response = _login(client_en, staff_1).post(
        REGISTRATIONS, {"action": "export_csv", "_selected_action": [str(registration.pk)], "index": "0"}
    )

    text = response.content.decode("utf-8-sig")
    assert "zhang.san" not in text
    assert "13912345678" not in text
    assert "z***@example.com" in text


def test_the_attendance_page_counts_and_lists(client_en, staff_1, event_1, graduate_a, graduate_b, at_the_event):
    a = services.registration_create(event=event_1, user=graduate_a)
    services.registration_create(event=event_1, user=graduate_b)
    services.registration_create(event=event_1, user=ProfileFactory(complete=True).user)  # waitlisted
    at_the_event(event_1)
    services.registration_check_in(event=event_1, code=a.check_in_code, actor=staff_1)

    response = _login(client_en, staff_1).get(_url("event_attendance", event_1))

    assert response.status_code == 200
    assert response.context["registered"] == 3
    counts = response.context["counts"]
    assert (counts["attended"], counts["confirmed"], counts["waitlisted"], counts["no_show"]) == (1, 1, 1, 0)
    content = response.content.decode()
    assert graduate_a.profile.real_name in content
    assert graduate_a.profile.phone not in content
    assert reverse("events:check_in", args=[event_1.pk]) in content


def test_the_attendance_csv_of_one_event_is_masked(client_en, staff_1, event_1, reg_a, graduate_a):
    response = _login(client_en, staff_1).get(_url("event_registrations_csv", event_1))

    text = response.content.decode("utf-8-sig")
    assert graduate_a.profile.id_number_masked in text
    assert graduate_a.profile.reveal_id_number() not in text


def _past_event(actor, district, kind, hours, attended, no_show, registered=0):
    now = timezone.now()
    event = make_event(
        actor,
        district,
        kind=kind,
        volunteer_hours=hours,
        starts_at=now - dt.timedelta(days=2),
        ends_at=now - dt.timedelta(days=2) + dt.timedelta(hours=3),
        registration_opens=now - dt.timedelta(days=10),
        registration_closes=now - dt.timedelta(days=3),
        capacity=50,
    )
    statuses = (
        [RegistrationStatus.ATTENDED] * attended
        + [RegistrationStatus.NO_SHOW] * no_show
        + [RegistrationStatus.CONFIRMED] * registered
        + [RegistrationStatus.CANCELLED]
    )
    for seq, status in enumerate(statuses, start=1):
        Registration.objects.create(event=event, user=UserFactory(), status=status, sequence=seq)
    return event


def test_the_figures_page_by_kind_and_district_with_volunteer_hours(
    client_en, staff_1, city_staff, district_1, district_2
):
    _past_event(city_staff, district_1, EventKind.VOLUNTEER, 4, attended=3, no_show=1)
    _past_event(city_staff, district_1, EventKind.SALON, 0, attended=1, no_show=1, registered=2)
    _past_event(city_staff, district_2, EventKind.VOLUNTEER, 2, attended=5, no_show=0)
    year = timezone.localdate().year

    response = _login(client_en, staff_1).get(FIGURES, {"year": year})

    assert response.status_code == 200
    stats = response.context["stats"]
    assert stats["hours"] == 12  # 3 × 4 hours; the other district's 10 hours are not shown
    kinds = {row["key"]: row for row in stats["by_kind"]}
    volunteer = kinds["volunteer"]
    assert (volunteer["registered"], volunteer["attended"], volunteer["attendance_pct"]) == (4, 3, 75)
    assert (kinds["salon"]["registered"], kinds["salon"]["no_show"]) == (4, 1)
    assert [row["name"] for row in stats["by_district"]] == [str(district_1)]
    assert stats["total"]["events"] == 2
    content = response.content.decode()
    assert "Volunteer service" in content
    assert 'class="b-att" style="width:' in content

    city = _login(client_en, city_staff).get(FIGURES, {"year": year}).context["stats"]
    assert city["hours"] == 22
    assert len(city["by_district"]) == 2


def test_the_figures_page_survives_a_bad_year(client_en, staff_1):
    response = _login(client_en, staff_1).get(FIGURES, {"year": "abc"})

    assert response.status_code == 200
    assert response.context["year"] == timezone.localdate().year


# --- Query budgets -----------------------------------------------------------------------------------------


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx)


def _fill(actor, district, n):
    now = timezone.now()
    for i in range(n):
        event = Event.objects.create(
            **_event_data(district, title=f"活动 {i}", capacity=5),
            status=EventStatus.PUBLISHED,
            created_by=actor,
        )
        user = ProfileFactory(district=district).user
        Registration.objects.create(
            event=event,
            user=user,
            status=RegistrationStatus.ATTENDED if i % 2 else RegistrationStatus.CONFIRMED,
            sequence=1,
            checked_in_at=now if i % 2 else None,
        )


@pytest.mark.parametrize(
    "url, params",
    [
        (EVENTS, {}),
        (EVENTS, {"status__exact": "published"}),
        (REGISTRATIONS, {}),
        (REGISTRATIONS, {"status__exact": "confirmed"}),
        (FIGURES, {}),
    ],
)
def test_query_counts_do_not_grow_with_rows(
    client_en, staff_1, city_staff, district_1, django_assert_max_num_queries, url, params
):
    client = _login(client_en, staff_1)
    _fill(city_staff, district_1, 3)
    budget = _count_queries(client, url, params)

    _fill(city_staff, district_1, 27)
    with django_assert_max_num_queries(budget):
        response = client.get(url, params)
    assert response.status_code == 200


def test_the_attendance_page_query_count_is_constant(client_en, staff_1, event_1, django_assert_max_num_queries):
    def register(n):
        start = Registration.objects.filter(event=event_1).count()
        for i in range(n):
            Registration.objects.create(
                event=event_1,
                user=ProfileFactory(district=event_1.district).user,
                status=RegistrationStatus.WAITLISTED,
                sequence=start + i + 1,
            )

    client = _login(client_en, staff_1)
    register(3)
    budget = _count_queries(client, _url("event_attendance", event_1))
    register(27)
    with django_assert_max_num_queries(budget):
        client.get(_url("event_attendance", event_1))


# --- Never an error page ----------------------------------------------------------------------------------


def test_a_refusal_at_save_time_is_a_message_and_nothing_is_logged(client_en, staff_1, district_1, monkeypatch):
    from django.contrib.admin.models import LogEntry
    from django.core.exceptions import PermissionDenied

    def refuse(**kwargs):
        raise PermissionDenied("You may not organise events in this district.")

    monkeypatch.setattr(services, "event_create", refuse)
    url = reverse("admin:events_event_add")

    response = _login(client_en, staff_1).post(url, _add_form(district_1), follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == url
    assert any(
        "The event was not saved: You may not organise events in this district." in m for m in _messages(response)
    )
    assert not Event.objects.exists()
    assert not LogEntry.objects.exists()


def test_the_pages_render_in_the_default_language(client, staff_1, event_1, draft_1, reg_a, pending_reg):
    client.force_login(staff_1)
    urls = [
        EVENTS,
        REGISTRATIONS,
        VENUES,
        FIGURES,
        reverse("admin:events_event_add"),
        _url("event_change", event_1),
        _url("event_publish", draft_1),
        _url("event_cancel", event_1),
        _url("event_announce", event_1),
        _url("event_attendance", event_1),
        _url("registration_change", pending_reg),
        _url("registration_approve", pending_reg),
        _url("registration_reject", pending_reg),
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
