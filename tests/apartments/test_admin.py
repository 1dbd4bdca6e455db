"""The youth-station admin for district staff: stations, stays and follow-ups scoped to the
staff member's districts; check-in, check-out, no-show and cancel as buttons that lead to a
confirmation page (the guest's name and masked ID, the full number on an audited unmask);
today's board; the figures page; follow-up calls recorded through the service; beds and
closed nights changed through the services, with refusals shown as messages."""

import datetime as dt
import io

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from apartments import services
from apartments.constants import FollowUpOutcome, FollowUpStage, StayStatus
from apartments.models import BedAlert, FollowUp, Station, StationClosure, StationNight, Stay
from portal.constants import AuditAction
from portal.models import ApplicantProfile, AuditEntry, Document
from tests.portal.factories import ProfileFactory

pytestmark = pytest.mark.django_db

STAY_CHANGELIST = reverse("admin:apartments_stay_changelist")
STATION_CHANGELIST = reverse("admin:apartments_station_changelist")
FOLLOW_UP_CHANGELIST = reverse("admin:apartments_followup_changelist")
TODAY_BOARD = reverse("admin:apartments_stay_today")
STATISTICS = reverse("admin:apartments_stay_statistics")


@pytest.fixture
def client_en(client):
    """Admin pages in English, so assertions do not depend on the state of the .po files."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _station(district, name, beds=2):
    return Station.objects.create(
        district=district,
        name=name,
        kind="youth_apartment",
        address="开元大道",
        beds=beds,
        contact_name="王",
        contact_phone="0379-1",
    )


@pytest.fixture
def station_1(district_1):
    return _station(district_1, "洛龙青年驿站")


@pytest.fixture
def station_2(district_2):
    return _station(district_2, "涧西青年驿站")


def _letter(user):
    return Document.objects.create(
        owner=user, kind="invitation_letter", file="x.pdf", content_type="application/pdf", size=1, sha256="0"
    )


def _book(user, station, check_in, nights=2):
    """Booked through the service, as if two days ago (the advance-booking rule holds), by
    a graduate who graduated last year whatever the date the tests run on."""
    ApplicantProfile.objects.filter(user=user).update(graduation_date=timezone.localdate() - dt.timedelta(days=300))
    return services.stay_book(
        applicant=user,
        station=station,
        check_in=check_in,
        nights=nights,
        invitation_document=_letter(user),
        now=timezone.now() - dt.timedelta(days=2),
    )


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _login(client, user):
    client.force_login(user)
    return client


def _url(name, stay):
    return reverse(f"admin:apartments_stay_{name}", args=[stay.pk])


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def arriving(graduate_a, station_1, today):
    """graduate_a (profile in district 1) arrives today at the district-1 station."""
    return _book(graduate_a, station_1, today)


# --- Scoping --------------------------------------------------------------------------------------


def test_district_staff_see_only_their_stations_and_stays(
    client_en, staff_1, city_staff, graduate_a, graduate_b, station_1, station_2, today
):
    stay_1 = _book(graduate_a, station_1, today)
    stay_2 = _book(graduate_b, station_2, today)

    _login(client_en, staff_1)
    assert {s.pk for s in client_en.get(STATION_CHANGELIST).context["cl"].result_list} == {station_1.pk}
    assert {s.pk for s in client_en.get(STAY_CHANGELIST).context["cl"].result_list} == {stay_1.pk}

    _login(client_en, city_staff)
    assert {s.pk for s in client_en.get(STATION_CHANGELIST).context["cl"].result_list} == {station_1.pk, station_2.pk}
    assert {s.pk for s in client_en.get(STAY_CHANGELIST).context["cl"].result_list} == {stay_1.pk, stay_2.pk}


def test_the_station_filter_lists_only_stations_in_scope(client_en, staff_1, graduate_a, station_1, station_2, today):
    _book(graduate_a, station_1, today)

    page = _login(client_en, staff_1).get(STAY_CHANGELIST).content.decode()

    assert station_1.name in page
    assert station_2.name not in page


def test_another_districts_stay_answers_404_on_every_decision(client_en, staff_2, arriving):
    _login(client_en, staff_2)
    for name in ("check_in", "check_out", "no_show", "cancel", "unmask"):
        assert client_en.get(_url(name, arriving)).status_code == 404
        assert client_en.post(_url(name, arriving), {"id_checked": "on", "reason": "x"}).status_code == 404
    arriving.refresh_from_db()
    assert arriving.status == StayStatus.BOOKED
    assert not AuditEntry.objects.filter(action=AuditAction.PII_UNMASK).exists()


def test_graduates_do_not_reach_the_station_admin(client_en, graduate_a, arriving):
    _login(client_en, graduate_a)
    for url in (STAY_CHANGELIST, TODAY_BOARD, STATISTICS, _url("check_in", arriving)):
        response = client_en.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


# --- Check-in with the ID, check-out ----------------------------------------------------------------


def test_the_change_page_offers_the_buttons_of_the_status(client_en, staff_1, arriving):
    page = _login(client_en, staff_1).get(reverse("admin:apartments_stay_change", args=[arriving.pk])).content.decode()

    assert _url("check_in", arriving) in page
    assert _url("cancel", arriving) in page
    assert _url("no_show", arriving) in page
    assert _url("check_out", arriving) not in page


def test_the_check_in_page_shows_the_name_and_the_masked_id_only(client_en, staff_1, arriving):
    profile = arriving.applicant.profile

    page = _login(client_en, staff_1).get(_url("check_in", arriving)).content.decode()

    assert profile.real_name in page
    assert profile.id_number_masked in page
    assert profile.reveal_id_number() not in page
    assert "Show full ID number (audited)" in page
    assert not AuditEntry.objects.filter(action=AuditAction.PII_UNMASK).exists()


def test_unmasking_on_the_check_in_page_is_audited(client_en, staff_1, arriving):
    profile = arriving.applicant.profile

    response = _login(client_en, staff_1).post(_url("unmask", arriving))

    assert response.status_code == 200
    assert profile.reveal_id_number() in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action=AuditAction.PII_UNMASK)
    assert (entry.actor, entry.target) == (staff_1, profile)
    assert str(arriving.pk) in entry.reason
    # The page still lets staff check the guest in.
    assert _url("check_in", arriving) in response.content.decode()


def test_station_staff_unmask_a_guest_registered_in_another_district(
    client_en, staff_1, staff_2, graduate_b, station_1, today
):
    """graduate_b's profile names district 2; the current stay lets staff of the station's
    district (1) compare the ID card at check-in, audited. Staff of district 2 cannot reach
    a district-1 stay at all."""
    stay = _book(graduate_b, station_1, today)
    profile = graduate_b.profile

    response = _login(client_en, staff_1).post(_url("unmask", stay))

    assert response.status_code == 200
    assert profile.reveal_id_number() in response.content.decode()
    entry = AuditEntry.objects.get(action=AuditAction.PII_UNMASK)
    assert (entry.actor, entry.target) == (staff_1, profile)
    assert _login(client_en, staff_2).post(_url("unmask", stay)).status_code == 404


def test_unmask_after_the_stay_ended_is_a_message_not_an_error(client_en, staff_1, graduate_b, station_1, today):
    stay = _book(graduate_b, station_1, today)
    services.stay_cancel(stay=stay, actor=graduate_b)

    response = _login(client_en, staff_1).post(_url("unmask", stay))

    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action=AuditAction.PII_UNMASK).exists()


def test_unmask_needs_a_post(client_en, staff_1, arriving):
    response = _login(client_en, staff_1).get(_url("unmask", arriving))

    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action=AuditAction.PII_UNMASK).exists()


def test_check_in_needs_the_id_confirmation(client_en, staff_1, arriving):
    response = _login(client_en, staff_1).post(_url("check_in", arriving), {})

    assert response.status_code == 200
    assert response.context["form"].errors
    arriving.refresh_from_db()
    assert arriving.status == StayStatus.BOOKED


def test_check_in_and_check_out_through_the_buttons(client_en, staff_1, arriving, station_1, today):
    _login(client_en, staff_1)

    response = client_en.post(_url("check_in", arriving), {"id_checked": "on"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:apartments_stay_change", args=[arriving.pk])
    assert any("checked in" in m for m in _messages(response))
    arriving.refresh_from_db()
    assert arriving.status == StayStatus.CHECKED_IN
    assert arriving.checked_in_at is not None

    # The change page now offers check-out; guests may leave early.
    page = client_en.get(reverse("admin:apartments_stay_change", args=[arriving.pk])).content.decode()
    assert _url("check_out", arriving) in page
    response = client_en.post(_url("check_out", arriving), {"next": "today"})

    assert response["Location"] == TODAY_BOARD
    arriving.refresh_from_db()
    assert arriving.status == StayStatus.CHECKED_OUT
    assert set(arriving.follow_ups.values_list("stage", flat=True)) == {FollowUpStage.DAY_7, FollowUpStage.DAY_30}
    # The second night was freed by leaving on the day of arrival.
    assert StationNight.objects.get(station=station_1, date=today + dt.timedelta(days=1)).booked == 0
    trail = list(
        AuditEntry.objects.filter(action=AuditAction.TRANSITION, object_id=str(arriving.pk))
        .order_by("created_at", "id")
        .values_list("actor", "from_status", "to_status")
    )
    assert trail == [(staff_1.pk, "booked", "checked_in"), (staff_1.pk, "checked_in", "checked_out")]
    # The audit trail shows on the stay's page.
    page = client_en.get(reverse("admin:apartments_stay_change", args=[arriving.pk])).content.decode()
    assert "Audit trail" in page


def test_check_in_on_the_wrong_day_is_a_message_not_an_error(client_en, staff_1, graduate_a, station_1, today):
    stay = _book(graduate_a, station_1, today + dt.timedelta(days=3))

    response = _login(client_en, staff_1).post(_url("check_in", stay), {"id_checked": "on"})

    assert response.status_code == 302
    assert any("Check-in is possible from" in m for m in _messages(response))
    stay.refresh_from_db()
    assert stay.status == StayStatus.BOOKED


def test_check_out_of_a_booked_stay_is_refused_with_a_message(client_en, staff_1, arriving):
    response = _login(client_en, staff_1).post(_url("check_out", arriving))

    assert response.status_code == 302
    assert _messages(response)
    arriving.refresh_from_db()
    assert arriving.status == StayStatus.BOOKED


def test_staff_cancel_with_a_reason_frees_the_nights(client_en, staff_1, arriving, station_1, today):
    _login(client_en, staff_1)
    assert client_en.post(_url("cancel", arriving), {"reason": ""}).status_code == 200  # reason required

    response = client_en.post(_url("cancel", arriving), {"reason": "住客来电取消"})

    assert response.status_code == 302
    arriving.refresh_from_db()
    assert (arriving.status, arriving.status_reason) == (StayStatus.CANCELLED, "住客来电取消")
    assert set(StationNight.objects.filter(station=station_1).values_list("booked", flat=True)) == {0}


def test_staff_mark_a_no_show(client_en, staff_1, arriving):
    response = _login(client_en, staff_1).post(_url("no_show", arriving), {"reason": "未到"})

    assert response.status_code == 302
    arriving.refresh_from_db()
    assert arriving.status == StayStatus.NO_SHOW


# --- Today's board ----------------------------------------------------------------------------------


@pytest.fixture
def leaving(graduate_b, station_1, today):
    """graduate_b checked in yesterday for one night: leaving today."""
    stay = _book(graduate_b, station_1, today - dt.timedelta(days=1), nights=1)
    Stay.objects.filter(pk=stay.pk).update(
        status=StayStatus.CHECKED_IN, checked_in_at=timezone.now() - dt.timedelta(days=1)
    )
    return stay


def test_the_board_lists_arrivals_departures_and_occupancy(client_en, staff_1, arriving, leaving, station_1):
    response = _login(client_en, staff_1).get(TODAY_BOARD)

    assert response.status_code == 200
    assert [s.pk for s in response.context["arrivals"]] == [arriving.pk]
    assert [s.pk for s in response.context["departures"]] == [leaving.pk]
    (station,) = response.context["stations"]
    assert (station.pk, station.booked_tonight, station.beds, station.occupancy_pct) == (station_1.pk, 1, 2, 50)
    page = response.content.decode()
    assert f"{_url('check_in', arriving)}?next=today" in page
    assert f"{_url('check_out', leaving)}?next=today" in page
    assert arriving.applicant.profile.real_name in page
    assert "width:50%" in page


def test_the_board_is_scoped_to_the_staff_members_districts(client_en, staff_2, arriving, leaving):
    response = _login(client_en, staff_2).get(TODAY_BOARD)

    assert response.status_code == 200
    assert response.context["arrivals"] == []
    assert response.context["departures"] == []
    assert response.context["stations"] == []


def test_check_in_from_the_board_returns_to_the_board(client_en, staff_1, arriving):
    _login(client_en, staff_1)
    page = client_en.get(_url("check_in", arriving) + "?next=today").content.decode()
    assert 'name="next" value="today"' in page

    response = client_en.post(_url("check_in", arriving), {"id_checked": "on", "next": "today"})

    assert response["Location"] == TODAY_BOARD
    assert client_en.get(TODAY_BOARD).context["arrivals"] == []


def test_the_changelists_link_the_board_and_the_figures(client_en, staff_1):
    page = _login(client_en, staff_1).get(STAY_CHANGELIST).content.decode()

    assert TODAY_BOARD in page
    assert STATISTICS in page


# --- Figures ----------------------------------------------------------------------------------------


def test_the_figures_page_shows_stays_occupancy_and_work_found(client_en, staff_1, staff_2, leaving, district_1):
    Stay.objects.filter(pk=leaving.pk).update(status=StayStatus.CHECKED_OUT)
    FollowUp.objects.create(
        stay=leaving, stage=FollowUpStage.DAY_7, due_on=timezone.localdate(), outcome=FollowUpOutcome.WORKING_IN_LUOYANG
    )
    year = leaving.check_in.year

    response = _login(client_en, staff_1).get(STATISTICS, {"year": year})

    assert response.status_code == 200
    assert response.context["total"]["stays"] == 1
    assert response.context["total"]["nights"] == 1
    assert response.context["total"]["working_pct"] == 100
    assert [d["district"] for d in response.context["by_district"]] == [district_1.name]
    assert district_1.name in response.content.decode()
    # Another district's staff see none of it.
    other = _login(client_en, staff_2).get(STATISTICS, {"year": year})
    assert other.context["total"]["stays"] == 0
    assert other.context["rows"] == []


def test_the_figures_page_survives_a_bad_year(client_en, city_staff):
    response = _login(client_en, city_staff).get(STATISTICS, {"year": "abc"})

    assert response.status_code == 200
    assert response.context["year"] == timezone.localdate().year


# --- Follow-up calls --------------------------------------------------------------------------------


@pytest.fixture
def call_task(leaving):
    Stay.objects.filter(pk=leaving.pk).update(status=StayStatus.CHECKED_OUT)
    return FollowUp.objects.create(
        stay=leaving,
        stage=FollowUpStage.DAY_7,
        due_on=timezone.localdate() - dt.timedelta(days=6),
        sent_at=timezone.now() - dt.timedelta(days=6),
        call_task_open=True,
    )


def test_the_call_queue_is_scoped(client_en, staff_1, staff_2, call_task):
    queue = {"call_task_open__exact": "1"}
    assert [f.pk for f in _login(client_en, staff_1).get(FOLLOW_UP_CHANGELIST, queue).context["cl"].result_list] == [
        call_task.pk
    ]
    assert list(_login(client_en, staff_2).get(FOLLOW_UP_CHANGELIST, queue).context["cl"].result_list) == []


def test_staff_record_the_call_and_the_task_closes(client_en, staff_1, call_task):
    url = reverse("admin:apartments_followup_change", args=[call_task.pk])
    _login(client_en, staff_1)

    page = client_en.get(url).content.decode()
    profile = call_task.stay.applicant.profile
    assert profile.phone in page  # staff need the number to call ...
    viewed = AuditEntry.objects.get(action=AuditAction.PII_VIEW)
    assert (viewed.actor, viewed.target) == (staff_1, profile)  # ... and opening it is recorded

    response = client_en.post(
        url, {"outcome": FollowUpOutcome.WORKING_IN_LUOYANG, "employer": "中信重工", "note": "电话回访"}
    )

    assert response.status_code == 302
    call_task.refresh_from_db()
    assert call_task.call_task_open is False
    assert (call_task.outcome, call_task.employer, call_task.answered_by) == (
        FollowUpOutcome.WORKING_IN_LUOYANG,
        "中信重工",
        staff_1,
    )
    assert AuditEntry.objects.filter(
        action=AuditAction.DECISION, object_id=str(call_task.stay_id), actor=staff_1
    ).exists()
    assert list(client_en.get(FOLLOW_UP_CHANGELIST, {"call_task_open__exact": "1"}).context["cl"].result_list) == []


def test_an_answer_is_required(client_en, staff_1, call_task):
    url = reverse("admin:apartments_followup_change", args=[call_task.pk])

    response = _login(client_en, staff_1).post(url, {"outcome": "", "employer": "", "note": ""})

    assert response.status_code == 200
    call_task.refresh_from_db()
    assert call_task.call_task_open is True


def test_another_district_cannot_record_the_call(client_en, staff_2, call_task):
    url = reverse("admin:apartments_followup_change", args=[call_task.pk])

    _login(client_en, staff_2).post(url, {"outcome": FollowUpOutcome.SEARCHING})

    call_task.refresh_from_db()
    assert call_task.call_task_open is True
    assert call_task.outcome == ""


# --- Query budgets ----------------------------------------------------------------------------------


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx)


def _more_stays(station, n, today):
    for i in range(n):
        stay = Stay.objects.create(
            applicant=ProfileFactory(district=station.district).user,
            station=station,
            check_in=today - dt.timedelta(days=i % 20),
            nights=2,
            status=StayStatus.CHECKED_OUT,
        )
        FollowUp.objects.create(
            stay=stay, stage=FollowUpStage.DAY_7, due_on=today, sent_at=timezone.now(), call_task_open=True
        )


@pytest.mark.parametrize(
    "url, params",
    [
        (STAY_CHANGELIST, {}),
        (STAY_CHANGELIST, {"status__exact": "checked_out"}),
        (FOLLOW_UP_CHANGELIST, {"call_task_open__exact": "1"}),
        (TODAY_BOARD, {}),
        (STATISTICS, {}),
    ],
)
def test_query_counts_do_not_grow_with_rows(
    client_en, staff_1, station_1, today, django_assert_max_num_queries, url, params
):
    _login(client_en, staff_1)
    _more_stays(station_1, 3, today)
    budget = _count_queries(client_en, url, params)

    _more_stays(station_1, 27, today)
    with django_assert_max_num_queries(budget):
        response = client_en.get(url, params)
    assert response.status_code == 200


def test_the_station_changelist_query_count_is_constant(
    client_en, city_staff, district_1, django_assert_max_num_queries
):
    _login(client_en, city_staff)
    for i in range(3):
        _station(district_1, f"驿站{i}")
    budget = _count_queries(client_en, STATION_CHANGELIST)
    for i in range(3, 30):
        _station(district_1, f"驿站{i}")
    with django_assert_max_num_queries(budget):
        client_en.get(STATION_CHANGELIST)


# --- Stations: beds and closed nights through the services --------------------------------------------


def _station_form(station, **changes):
    data = {
        "district": station.district_id,
        "name": station.name,
        "kind": station.kind,
        "address": station.address,
        "beds": station.beds,
        "active": "on" if station.active else "",
        "contact_name": station.contact_name,
        "contact_phone": station.contact_phone,
        "description": station.description,
        "house_rules": station.house_rules,
        "closures-TOTAL_FORMS": "0",
        "closures-INITIAL_FORMS": "0",
        "closures-MIN_NUM_FORMS": "0",
        "closures-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def _change_url(station):
    return reverse("admin:apartments_station_change", args=[station.pk])


def test_fewer_beds_than_guests_is_refused_with_a_message(client_en, staff_1, graduate_a, graduate_b, station_1, today):
    _book(graduate_a, station_1, today + dt.timedelta(days=2))
    _book(graduate_b, station_1, today + dt.timedelta(days=2))

    response = _login(client_en, staff_1).post(_change_url(station_1), _station_form(station_1, beds=1, name="新名字"))

    assert response.status_code == 302
    assert response["Location"] == _change_url(station_1)  # back on the page, not "changed successfully"
    assert any("beds was not changed" in m for m in _messages(response))
    station_1.refresh_from_db()
    assert (station_1.beds, station_1.name) == (2, "新名字")  # the other fields were saved
    assert set(StationNight.objects.filter(station=station_1).values_list("capacity", flat=True)) == {2}


def test_more_beds_go_through_the_service(client_en, staff_1, graduate_a, station_1, today):
    _book(graduate_a, station_1, today + dt.timedelta(days=2))

    response = _login(client_en, staff_1).post(_change_url(station_1), _station_form(station_1, beds=5))

    assert response.status_code == 302
    assert response["Location"] == STATION_CHANGELIST
    station_1.refresh_from_db()
    assert station_1.beds == 5
    assert set(StationNight.objects.filter(station=station_1).values_list("capacity", flat=True)) == {5}


def _closure_rows(*rows):
    data = {"closures-TOTAL_FORMS": str(len(rows)), "closures-INITIAL_FORMS": "0"}
    for i, (date, reason) in enumerate(rows):
        data[f"closures-{i}-date"] = date.isoformat()
        data[f"closures-{i}-reason"] = reason
    return data


def test_closing_a_night_with_guests_is_refused_and_a_free_night_closes(
    client_en, staff_1, graduate_a, station_1, today
):
    booked_night = today + dt.timedelta(days=2)
    free_night = today + dt.timedelta(days=10)
    _book(graduate_a, station_1, booked_night)

    response = _login(client_en, staff_1).post(
        _change_url(station_1), _station_form(station_1, **_closure_rows((booked_night, "维修"), (free_night, "消杀")))
    )

    assert response.status_code == 302
    assert any("was not closed" in m for m in _messages(response))
    assert list(StationClosure.objects.filter(station=station_1).values_list("date", "reason")) == [
        (free_night, "消杀")
    ]


def test_a_closed_night_cannot_be_moved_but_can_be_reopened(client_en, staff_1, station_1, today):
    night = today + dt.timedelta(days=5)
    closure = StationClosure.objects.create(station=station_1, date=night, reason="维修")
    rows = {
        "closures-TOTAL_FORMS": "1",
        "closures-INITIAL_FORMS": "1",
        "closures-0-id": str(closure.pk),
        "closures-0-station": str(station_1.pk),
        "closures-0-reason": "维修",
    }
    _login(client_en, staff_1)

    moved = client_en.post(
        _change_url(station_1),
        _station_form(station_1, **rows, **{"closures-0-date": (night + dt.timedelta(days=1)).isoformat()}),
    )
    assert moved.status_code == 200  # the form shows the error
    assert StationClosure.objects.get().date == night

    reopened = client_en.post(
        _change_url(station_1),
        _station_form(station_1, **rows, **{"closures-0-date": night.isoformat(), "closures-0-DELETE": "on"}),
    )
    assert reopened.status_code == 302
    assert not StationClosure.objects.exists()


def test_district_staff_add_stations_only_in_their_districts(client_en, staff_1, district_1, district_2):
    add = reverse("admin:apartments_station_add")
    _login(client_en, staff_1)
    form = client_en.get(add).context["adminform"].form
    assert list(form.fields["district"].queryset) == [district_1]

    data = _station_form(
        Station(
            district=district_2,
            name="越权驿站",
            kind="partner_hotel",
            address="x",
            beds=3,
            contact_name="李",
            contact_phone="1",
        )
    )
    response = client_en.post(add, data)
    assert response.status_code == 200  # the district is not a valid choice
    assert not Station.objects.filter(name="越权驿站").exists()

    data["district"] = district_1.pk
    assert client_en.post(add, data).status_code == 302
    assert Station.objects.get(name="越权驿站").district == district_1


def test_district_staff_cannot_open_another_districts_station(client_en, staff_2, station_1):
    response = _login(client_en, staff_2).post(_change_url(station_1), _station_form(station_1, beds=9))

    assert response.status_code == 302  # the admin sends unknown objects to the index
    station_1.refresh_from_db()
    assert station_1.beds == 2


def _jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0110] = "Model-42"  # Model
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_station_photos_are_reencoded_without_exif(client_en, staff_1, station_1):
    raw = _jpeg_with_exif()
    assert b"SecretCam" in raw
    data = _station_form(station_1, photo=SimpleUploadedFile("me.jpg", raw, content_type="image/jpeg"))

    assert _login(client_en, staff_1).post(_change_url(station_1), data).status_code == 302

    station_1.refresh_from_db()
    with station_1.photo.open("rb") as f:
        stored = f.read()
    assert stored.startswith(b"\xff\xd8\xff")
    assert b"SecretCam" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_a_non_image_photo_is_refused(client_en, staff_1, station_1):
    data = _station_form(
        station_1, photo=SimpleUploadedFile("x.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    )

    response = _login(client_en, staff_1).post(_change_url(station_1), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["photo"]


# --- Bed alerts ---------------------------------------------------------------------------------------


def test_bed_alerts_are_for_city_staff_and_read_only(client_en, staff_1, city_staff, graduate_a, station_1, today):
    alert = BedAlert.objects.create(user=graduate_a, station=station_1, start=today, end=today + dt.timedelta(days=2))
    changelist = reverse("admin:apartments_bedalert_changelist")

    assert _login(client_en, staff_1).get(changelist).status_code == 403
    response = _login(client_en, city_staff).get(changelist)
    assert [a.pk for a in response.context["cl"].result_list] == [alert.pk]
    page = client_en.get(reverse("admin:apartments_bedalert_change", args=[alert.pk])).content.decode()
    assert 'name="_save"' not in page


def test_on_a_phone_the_board_names_each_value_of_a_guest(client_en, staff_1, arriving):
    """On a phone the guest lists become one card per guest (the check-in button was pushed
    off the screen by a squeezed table): every value cell of the arrivals names its column."""
    import re

    page = _login(client_en, staff_1).get(TODAY_BOARD).content.decode()

    arrivals = re.search(r'<table class="board guests" id="board-arrivals">.*?</table>', page, re.S)
    assert arrivals, "the arrivals table is not laid out for phones"
    row = re.search(r"<tbody>(.*?)</tr>", arrivals.group(0), re.S).group(1)
    labels = re.findall(r'<td data-label="([^"]+)">', row)
    assert labels == ["ID number", "Station", "Nights", "Check-out date"]
    assert arriving.applicant.profile.id_number_masked in row
