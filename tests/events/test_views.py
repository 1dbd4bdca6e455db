"""The events pages: the public list and month view, the detail page with its criteria and
register form, "My events" (tickets, offers, the waiting list, the calendar feed and
subscriptions), the organiser's check-in page, and the organiser pages of verified employers.

Pages are requested in English so the assertions can read the messages; every decision goes
through the services, so these tests check what the pages show and which service answer a
person sees, not the policy itself (tests/events/test_services.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events import services
from events.constants import EventKind, EventStatus, RegistrationStatus
from events.models import Event, Registration, Subscription
from portal import services as portal_services
from portal.models import Notification, Organisation
from tests.events.conftest import make_people
from tests.events.factories import EventFactory, RegistrationFactory, VenueFactory
from tests.portal.factories import ProfileFactory, UserFactory

R = RegistrationStatus
pytestmark = pytest.mark.django_db


# --- helpers and fixtures ----------------------------------------------------------------------


@pytest.fixture
def client_en(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def messages_of(response) -> list[str]:
    """The messages a response carries, read once (as the next page would show them)."""
    found = [str(m) for m in get_messages(response.wsgi_request)]
    response.client.cookies.pop("messages", None)
    return found


def signed_in(client, user):
    client.force_login(user)
    return client


def local(moment: dt.datetime) -> str:
    """The value of a datetime-local input."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def org_x(employer_x, city_staff) -> Organisation:
    org = Organisation.objects.get(memberships__user=employer_x)
    portal_services.organisation_verify(organisation=org, actor=city_staff)
    org.refresh_from_db()
    return org


@pytest.fixture
def org_y(employer_y, city_staff) -> Organisation:
    org = Organisation.objects.get(memberships__user=employer_y)
    portal_services.organisation_verify(organisation=org, actor=city_staff)
    org.refresh_from_db()
    return org


@pytest.fixture
def fair_x(org_x, district_1) -> Event:
    """Employer X's published recruitment fair in 洛龙区 with two places."""
    return EventFactory(
        published=True,
        organiser=org_x,
        district=district_1,
        kind=EventKind.RECRUITMENT,
        capacity=2,
        title="洛阳轴承校园招聘会",
    )


def question_management(prefix: str = "questions", total: int = 3, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "3",
    } | {f"{prefix}-{i}-type": "text" for i in range(total)}


def event_post(district, *, org: Organisation | None = None, **overrides) -> dict[str, str]:
    starts = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=10)
    data = {
        "kind": EventKind.RECRUITMENT,
        "title": "2026 洛阳装备制造校园招聘会",
        "description": "二十家企业现场招聘。",
        "district": str(district.pk),
        "venue": "",
        "place": "河南科技大学开元校区体育馆",
        "starts_at": local(starts),
        "ends_at": local(starts + dt.timedelta(hours=3)),
        "capacity": "200",
        "registration_opens": local(timezone.now() - dt.timedelta(hours=1)),
        "registration_closes": local(starts - dt.timedelta(days=1)),
        "min_age": "18",
        "max_age": "35",
        "graduates_only": "on",
        "volunteer_hours": "0",
        **question_management(),
    }
    if org is not None:
        data["organiser"] = str(org.pk)
    data.update(overrides)
    return data


# --- the public list --------------------------------------------------------------------------


def test_list_shows_published_events_and_filters_by_kind_district_date_and_free_places(
    client_en, district_1, district_2
):
    now = timezone.now()
    salon = EventFactory(published=True, district=district_1, kind=EventKind.SALON, title="书房读书夜")
    forum = EventFactory(
        published=True,
        district=district_2,
        kind=EventKind.FORUM,
        title="涧西青年论坛",
        starts_at=now + dt.timedelta(days=8),
        registration_closes=now + dt.timedelta(days=7),
    )
    full = EventFactory.full(district=district_1, kind=EventKind.SALON, title="已满的读书夜")
    EventFactory(draft=True, title="草稿活动")
    EventFactory(cancelled=True, title="取消的活动")
    EventFactory(published=True, past=True, title="昨天的活动")

    def titles(**query) -> set[str]:
        response = client_en.get(reverse("events:list"), query)
        assert response.status_code == 200
        return {e.title for e in response.context["page"]}

    assert titles() == {salon.title, forum.title, full.title}
    assert titles(kind="forum") == {forum.title}
    assert titles(district="jianxi") == {forum.title}
    assert titles(district="luolong", kind="salon") == {salon.title, full.title}
    assert titles(date=(timezone.localdate() + dt.timedelta(days=5)).isoformat()) == {forum.title}
    assert titles(free="on") == {salon.title, forum.title}
    # Nonsense in the query string is ignored, never an error page.
    assert titles(kind="nope", date="yesterday", page="x") == {salon.title, forum.title, full.title}


def test_list_card_shows_free_places(client_en, event):
    RegistrationFactory(event=event, confirmed=True)
    html = client_en.get(reverse("events:list")).content.decode()
    assert "1 of 2 places free" in html


def test_list_page_query_count_does_not_grow_with_events(
    client_en, district_1, graduate_a, django_assert_max_num_queries
):
    def make(n):
        for _ in range(n):
            event = EventFactory(published=True, district=district_1, venue=VenueFactory())
            RegistrationFactory(event=event, confirmed=True)

    make(3)
    with CaptureQueriesContext(connection) as few:
        assert client_en.get(reverse("events:list")).status_code == 200
    make(27)
    # The districts of the filter form, the count, the page (free places counted in it).
    assert len(few) == 3, [q["sql"] for q in few.captured_queries]
    with django_assert_max_num_queries(len(few)):
        response = client_en.get(reverse("events:list"))
    assert len(response.context["page"]) == 20
    # Signed in: the same budget plus the session, the user and the menu's unread count.
    signed_in(client_en, graduate_a)
    with CaptureQueriesContext(connection) as signed:
        client_en.get(reverse("events:list"))
    make(5)
    with django_assert_max_num_queries(len(signed)):
        client_en.get(reverse("events:list"))


# --- the month view -----------------------------------------------------------------------------


def test_month_view_shows_each_event_on_its_day(client_en, district_1):
    starts = timezone.localtime(timezone.now() + dt.timedelta(days=3)).replace(
        hour=19, minute=30, second=0, microsecond=0
    )
    event = EventFactory(published=True, district=district_1, starts_at=starts, title="月历上的读书夜")
    EventFactory(draft=True, starts_at=starts, title="草稿不显示")
    response = client_en.get(reverse("events:calendar"), {"year": starts.year, "month": starts.month})
    assert response.status_code == 200
    days = {day["date"]: day["events"] for week in response.context["weeks"] for day in week}
    assert [e.title for e in days[starts.date()]] == [event.title]
    assert all(not evs for date, evs in days.items() if date != starts.date())
    html = response.content.decode()
    assert f'href="{reverse("events:event", args=[event.pk])}">19:30 {event.title}</a>' in html
    assert "草稿不显示" not in html


@pytest.mark.parametrize(
    "query",
    [
        {"year": "abc", "month": "1"},
        {"year": "2026", "month": "13"},
        {"year": "1999", "month": "5"},
        {"month": "0"},
        {"year": ""},
    ],
)
def test_month_view_falls_back_to_this_month_on_a_bad_year_or_month(client_en, query):
    response = client_en.get(reverse("events:calendar"), query)
    assert response.status_code == 200
    today = timezone.localdate()
    assert (response.context["month"].year, response.context["month"].month) == (today.year, today.month)


# --- the detail page -------------------------------------------------------------------------------


def test_detail_shows_free_places_live(client_en, event):
    url = reverse("events:event", args=[event.pk])
    assert "2 of 2 free" in client_en.get(url).content.decode()
    services.registration_create(event=event, user=UserFactory())
    assert "1 of 2 free" in client_en.get(url).content.decode()
    services.registration_create(event=event, user=UserFactory())
    html = client_en.get(url).content.decode()
    assert "0 of 2 free" in html


def test_detail_shows_met_and_unmet_criteria(client_en, district_1, graduate_a):
    event = EventFactory(published=True, district=district_1, graduates_only=True, min_age=18, max_age=35)
    url = reverse("events:event", args=[event.pk])
    # A graduate born 2000–2006 with a complete profile meets everything and sees the form.
    html = signed_in(client_en, graduate_a).get(url).content.decode()
    assert re.search(
        r'<li class="ok"><span aria-hidden="true">✓</span>.*?For graduates: your profile shows your education', html
    )
    assert '<li class="fail">' not in html
    assert f'action="{reverse("events:register", args=[event.pk])}"' in html
    # Someone without a profile sees what is missing, and no form.
    html = signed_in(client_en, UserFactory()).get(url).content.decode()
    assert re.search(
        r'<li class="fail"><span aria-hidden="true">✗</span>.*?add your education and graduation date', html
    )
    assert re.search(r'<li class="fail">.*?add your ID number to your profile', html)
    assert f'action="{reverse("events:register", args=[event.pk])}"' not in html


def test_detail_of_a_draft_is_404_and_anonymous_is_asked_to_sign_in(client_en, event):
    draft = EventFactory(draft=True)
    assert client_en.get(reverse("events:event", args=[draft.pk])).status_code == 404
    html = client_en.get(reverse("events:event", args=[event.pk])).content.decode()
    assert "Sign in to register" in html


# --- registering -------------------------------------------------------------------------------------


def test_register_confirmed_then_waitlisted(client_en, event):
    first, second, third = make_people(3)
    url = reverse("events:register", args=[event.pk])
    for person in (first, second):
        response = signed_in(client_en, person).post(url)
        assert response.status_code == 302 and response.url == reverse("events:mine")
        assert messages_of(response) == ["You are registered. Your ticket is under “My events”."]
    response = signed_in(client_en, third).post(url)
    assert messages_of(response) == ["The event is full: you are on the waiting list."]
    assert dict(Registration.objects.filter(event=event).values_list("user", "status")) == {
        first.pk: R.CONFIRMED,
        second.pk: R.CONFIRMED,
        third.pk: R.WAITLISTED,
    }


@pytest.mark.postgres
def test_registering_holds_the_event_row_lock_for_few_queries(client_en, event):
    """At an opening everyone waits on the event's row lock (bench/bench_peak.py), so under
    it are only the locked read, the queue, the free places and the insert; the person's
    side of the rule is read before and the notification written after."""
    person = UserFactory()
    signed_in(client_en, person)
    with CaptureQueriesContext(connection) as ctx:
        response = client_en.post(reverse("events:register", args=[event.pk]))
    assert response.status_code == 302 and response.url == reverse("events:mine")
    sqls = [q["sql"] for q in ctx.captured_queries]
    locked_at = next(i for i, sql in enumerate(sqls) if sql.endswith("FOR UPDATE"))
    released_at = next(i for i, sql in enumerate(sqls) if i > locked_at and sql.startswith("RELEASE SAVEPOINT"))
    assert len(sqls[locked_at:released_at]) == 4, sqls[locked_at:released_at]
    assert len(sqls) <= 17, sqls
    assert Notification.objects.filter(user=person, kind="registration_confirmed").count() == 1


def test_register_for_an_event_that_needs_approval_is_pending(client_en, district_1):
    event = EventFactory(published=True, district=district_1, requires_approval=True, kind=EventKind.SOCIAL)
    person = UserFactory()
    response = signed_in(client_en, person).post(reverse("events:register", args=[event.pk]))
    assert messages_of(response) == ["Your registration is waiting for the organiser's approval."]
    assert Registration.objects.get(event=event, user=person).status == R.PENDING


def test_register_twice_and_when_not_eligible_gives_messages(client_en, event, district_1):
    person = UserFactory()
    url = reverse("events:register", args=[event.pk])
    messages_of(signed_in(client_en, person).post(url))
    response = client_en.post(url)
    assert response.url == reverse("events:event", args=[event.pk])
    assert messages_of(response) == ["You are already registered"]
    graduates = EventFactory(published=True, district=district_1, graduates_only=True)
    response = client_en.post(reverse("events:register", args=[graduates.pk]))
    assert messages_of(response) == ["For graduates: add your education and graduation date to your profile"]
    assert not Registration.objects.filter(event=graduates).exists()


def test_register_answers_the_questions_and_a_missing_required_answer_is_a_message(client_en, district_1):
    event = EventFactory(
        published=True,
        district=district_1,
        questions=[
            {"label": "Your major", "type": "text", "required": True},
            {"label": "Year of graduation", "type": "number", "required": False},
            {"label": "T-shirt size", "type": "choice", "required": True, "choices": ["S", "M", "L"]},
        ],
    )
    person = UserFactory()
    signed_in(client_en, person)
    detail = client_en.get(reverse("events:event", args=[event.pk])).content.decode()
    assert 'name="q0"' in detail and 'name="q1"' in detail and '<option value="M">M</option>' in detail
    url = reverse("events:register", args=[event.pk])
    response = client_en.post(url, {"q1": "2025", "q2": "M"})
    assert response.url == reverse("events:event", args=[event.pk])
    assert messages_of(response) == ["Your major: This field is required."]
    response = client_en.post(url, {"q0": "机械工程", "q1": "twenty", "q2": "XL"})
    assert len(messages_of(response)) == 2
    assert not Registration.objects.filter(event=event).exists()
    response = client_en.post(url, {"q0": "机械工程", "q1": "2025", "q2": "M"})
    assert response.url == reverse("events:mine")
    assert Registration.objects.get(event=event, user=person).answers == {"0": "机械工程", "1": "2025", "2": "M"}


def test_register_needs_sign_in_and_post(client, event):
    url = reverse("events:register", args=[event.pk])
    assert client.post(url).url.startswith(reverse("account_login"))
    signed_in(client, UserFactory())
    assert client.get(url).status_code == 405


# --- my events -----------------------------------------------------------------------------------------


def test_my_events_shows_the_waiting_list_position(client_en, event):
    for person in make_people(2, prefix="seat"):
        services.registration_create(event=event, user=person)
    first, second = make_people(2, prefix="wait")
    services.registration_create(event=event, user=first)
    services.registration_create(event=event, user=second)
    html = signed_in(client_en, second).get(reverse("events:mine")).content.decode()
    assert '<span data-testid="waitlist-position">number 2 on the waiting list</span>' in html
    assert "Leave the waiting list" in html


def test_offer_accepted_from_my_events(client_en, event):
    holders = make_people(2, prefix="seat")
    regs = [services.registration_create(event=event, user=p) for p in holders]
    waiting = UserFactory()
    mine = services.registration_create(event=event, user=waiting)
    services.registration_cancel(registration=regs[0], actor=holders[0])
    mine.refresh_from_db()
    assert mine.status == R.OFFERED
    html = signed_in(client_en, waiting).get(reverse("events:mine")).content.decode()
    assert "Confirm my place" in html and "confirm by" in html
    response = client_en.post(reverse("events:registration_action", args=[mine.pk, "accept"]))
    assert messages_of(response) == ["Your place is confirmed. Your ticket is below."]
    mine.refresh_from_db()
    assert mine.status == R.CONFIRMED
    # Accepting again is a message, not an error page.
    response = client_en.post(reverse("events:registration_action", args=[mine.pk, "accept"]))
    assert response.status_code == 302 and len(messages_of(response)) == 1


def test_an_expired_offer_cannot_be_accepted(client_en, event):
    reg = RegistrationFactory(event=event, offered=True, offer_expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = signed_in(client_en, reg.user).post(reverse("events:registration_action", args=[reg.pk, "accept"]))
    assert messages_of(response) == ["The offer has expired; the place went to the next person."]
    reg.refresh_from_db()
    assert reg.status == R.OFFERED


def test_leave_the_waiting_list(client_en, event):
    for person in make_people(2):
        services.registration_create(event=event, user=person)
    person = UserFactory()
    reg = services.registration_create(event=event, user=person)
    response = signed_in(client_en, person).post(reverse("events:registration_action", args=[reg.pk, "cancel"]))
    assert messages_of(response) == ["Your registration has been cancelled."]
    reg.refresh_from_db()
    assert reg.status == R.CANCELLED


def test_registration_actions_of_someone_else_are_404(client_en, event):
    reg = RegistrationFactory(event=event, confirmed=True)
    signed_in(client_en, UserFactory())
    for action in ("cancel", "accept", "anything"):
        assert client_en.post(reverse("events:registration_action", args=[reg.pk, action])).status_code == 404
    signed_in(client_en, reg.user)
    assert client_en.post(reverse("events:registration_action", args=[reg.pk, "anything"])).status_code == 404
    reg.refresh_from_db()
    assert reg.status == R.CONFIRMED


def test_ticket_qr_only_for_the_owners_confirmed_ticket(client_en, event):
    reg = services.registration_create(event=event, user=UserFactory())
    url = reverse("events:ticket_qr", args=[reg.pk])
    html = signed_in(client_en, reg.user).get(reverse("events:mine")).content.decode()
    assert f'src="{url}"' in html and reg.check_in_code in html
    response = client_en.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png" and response.content.startswith(b"\x89PNG")
    assert "no-store" in response["Cache-Control"]
    # Someone else, the organiser included: 404.
    for other in (UserFactory(), ProfileFactory(complete=True).user):
        assert signed_in(client_en, other).get(url).status_code == 404
    # Not confirmed (waitlisted): no ticket.
    services.registration_create(event=event, user=UserFactory())
    waiting = services.registration_create(event=event, user=UserFactory())
    assert waiting.status == R.WAITLISTED
    assert signed_in(client_en, waiting.user).get(reverse("events:ticket_qr", args=[waiting.pk])).status_code == 404
    html = client_en.get(reverse("events:mine")).content.decode()
    assert waiting.check_in_code not in html


def test_calendar_feed(client_en, event, district_1):
    person = UserFactory()
    services.registration_create(event=event, user=person)
    other = EventFactory(published=True, district=district_1, title="没报名的活动")
    response = signed_in(client_en, person).get(reverse("events:mine"))
    feed_url = response.context["feed_url"]
    token = person.calendar_feed.token
    assert feed_url == f"http://testserver/events/calendar/{token}.ics"
    client_en.logout()  # calendar apps fetch the feed without a session
    response = client_en.get(reverse("events:feed", args=[token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert f"UID:event-{event.pk}@" in body and other.title not in body
    assert "SUMMARY:" + event.title in body
    assert client_en.get(reverse("events:feed", args=["not-a-token"])).status_code == 404


def test_subscriptions_add_and_remove(client_en, district_1):
    person = UserFactory()
    signed_in(client_en, person)
    url = reverse("events:subscribe")
    response = client_en.post(url, {"district": district_1.pk, "kind": ""})
    assert messages_of(response) == ["We will tell you about new events like this."]
    messages_of(client_en.post(url, {"district": "", "kind": "salon"}))
    # The same again: still one row.
    messages_of(client_en.post(url, {"district": "", "kind": "salon"}))
    subs = Subscription.objects.filter(user=person)
    assert {(s.district_id, s.kind) for s in subs} == {(None, "salon"), (district_1.pk, "")}
    response = client_en.post(url, {"district": "", "kind": ""})
    assert messages_of(response) == ["Choose a district, a kind, or both."]
    html = client_en.get(reverse("events:mine")).content.decode()
    assert "Any kind" in html and "Any district" in html
    # Someone else's subscription and nonsense: 404; one's own: gone.
    theirs = Subscription.objects.create(user=UserFactory(), kind="forum")
    assert client_en.post(url, {"delete": theirs.pk}).status_code == 404
    assert client_en.post(url, {"delete": "abc"}).status_code == 404
    salon = subs.get(kind="salon")
    response = client_en.post(url, {"delete": salon.pk})
    assert messages_of(response) == ["You no longer follow this."]
    assert Subscription.objects.filter(user=person).count() == 1
    assert Subscription.objects.filter(pk=theirs.pk).exists()


def test_my_events_needs_sign_in(client):
    response = client.get(reverse("events:mine"))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


# --- the check-in page ---------------------------------------------------------------------------------


def test_organiser_checks_in_by_code(client_en, event, organiser, district_1, at_the_event):
    event.volunteer_hours = 3
    event.save(update_fields=["volunteer_hours"])
    graduate = ProfileFactory(complete=True, real_name="李青禾").user
    reg = services.registration_create(event=event, user=graduate)
    other_event = EventFactory(published=True, district=district_1)
    other = services.registration_create(event=other_event, user=UserFactory())
    url = reverse("events:check_in", args=[event.pk])
    signed_in(client_en, organiser)
    # Days before the event the page says when check-in opens, and a ticket is refused.
    early = client_en.get(url).content.decode()
    assert 'data-testid="check-in-window"' in early and "two hours before the start" in early
    response = client_en.post(url, {"code": reg.check_in_code})
    assert messages_of(response)[0].startswith("Check-in opens at ")
    at_the_event(event)
    response = client_en.get(url)
    assert response.status_code == 200
    assert "0 checked in, 1 still expected" in response.content.decode()
    assert 'data-testid="check-in-window"' not in response.content.decode()

    response = client_en.post(url, {"code": "ZZZZ2222"})
    assert response.status_code == 200
    assert messages_of(response) == ["No ticket has the code ZZZZ2222. Check the letters and try again."]
    response = client_en.post(url, {"code": other.check_in_code})
    assert messages_of(response) == ["This ticket is for another event."]
    response = client_en.post(url, {"code": ""})
    assert response.status_code == 200 and response.context["form"].errors

    # Typed in lower case with a space, as people do on a phone.
    typed = f"{reg.check_in_code[:4].lower()} {reg.check_in_code[4:].lower()}"
    response = client_en.post(url, {"code": typed})
    assert response.status_code == 302 and response.url == url
    assert messages_of(response) == ["Checked in: 李青禾"]
    reg.refresh_from_db()
    assert reg.status == R.ATTENDED and reg.checked_in_at is not None
    graduate.profile.refresh_from_db()
    assert graduate.profile.volunteer_hours == 3
    assert "1 checked in, 0 still expected" in client_en.get(url).content.decode()

    response = client_en.post(url, {"code": reg.check_in_code})
    assert response.status_code == 200
    assert messages_of(response)[0].startswith("Already checked in at ")
    other.refresh_from_db()
    assert other.status == R.CONFIRMED


def test_check_in_of_an_unconfirmed_ticket_is_a_message(client_en, event, organiser, at_the_event):
    RegistrationFactory.create_batch(2, event=event, confirmed=True)
    waiting = RegistrationFactory(event=event, waitlisted=True)
    at_the_event(event)
    response = signed_in(client_en, organiser).post(
        reverse("events:check_in", args=[event.pk]), {"code": waiting.check_in_code}
    )
    assert messages_of(response) == ["This ticket is not confirmed (On the waiting list)."]


def test_employer_checks_in_at_their_own_event(client_en, fair_x, employer_x, at_the_event):
    reg = services.registration_create(event=fair_x, user=UserFactory())
    at_the_event(fair_x)
    response = signed_in(client_en, employer_x).post(
        reverse("events:check_in", args=[fair_x.pk]), {"code": reg.check_in_code}
    )
    assert response.status_code == 302
    reg.refresh_from_db()
    assert reg.status == R.ATTENDED


@pytest.mark.parametrize("who", ["graduate_a", "staff_2", "employer_y"])
def test_check_in_page_is_404_for_non_organisers(client_en, event, who, request, org_y):
    reg = RegistrationFactory(event=event, confirmed=True)
    signed_in(client_en, request.getfixturevalue(who))
    url = reverse("events:check_in", args=[event.pk])
    assert client_en.get(url).status_code == 404
    assert client_en.post(url, {"code": reg.check_in_code}).status_code == 404
    reg.refresh_from_db()
    assert reg.status == R.CONFIRMED


# --- organiser pages ---------------------------------------------------------------------------------------


ORGANISER_URLS = [
    ("events:organise_event", "get"),
    ("events:organise_registrations", "get"),
    ("events:check_in", "get"),
    ("events:organise_action", "post", "submit"),
    ("events:organise_action", "post", "announce"),
    ("events:organise_action", "post", "cancel"),
]


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("anonymous", None),
        ("graduate_a", False),
        ("employer_x", True),
        ("employer_y", False),
        ("staff_1", True),
        ("staff_2", False),
        ("city_staff", True),
    ],
)
def test_organiser_pages_permission_matrix(client_en, fair_x, org_y, who, allowed, request):
    if who != "anonymous":
        signed_in(client_en, request.getfixturevalue(who))
    for name, method, *action in ORGANISER_URLS:
        url = reverse(name, args=[fair_x.pk, *action])
        response = getattr(client_en, method)(url, {"cancel-reason": ""} if method == "post" else None)
        if allowed is None:
            assert response.status_code == 302 and response.url.startswith(reverse("account_login")), url
        elif allowed:
            assert response.status_code in (200, 302), url
        else:
            assert response.status_code == 404, (who, url)
    fair_x.refresh_from_db()
    assert fair_x.status == EventStatus.PUBLISHED  # the empty cancel reason stopped everyone


def test_organise_dashboard_lists_my_organisations_events_with_counts(
    client_en, fair_x, org_y, employer_x, employer_y, district_2
):
    theirs = EventFactory(draft=True, organiser=org_y, district=district_2, kind=EventKind.SALON, title="别家的沙龙")
    RegistrationFactory(event=fair_x, confirmed=True)
    RegistrationFactory(event=fair_x, confirmed=True)
    RegistrationFactory(event=fair_x, waitlisted=True)
    response = signed_in(client_en, employer_x).get(reverse("events:organise"))
    assert response.status_code == 200
    html = response.content.decode()
    assert fair_x.title in html and theirs.title not in html
    assert "2 of 2 places taken" in html and "1 waiting" in html
    assert reverse("events:organise_new") in html
    assert theirs.title in signed_in(client_en, employer_y).get(reverse("events:organise")).content.decode()


def test_unverified_employer_cannot_organise(client_en, employer_x):
    response = signed_in(client_en, employer_x).get(reverse("events:organise_new"))
    assert response.status_code == 302 and response.url == reverse("events:organise")
    assert messages_of(response) == [
        "Only verified organisations can organise events. Wait for your district to verify yours."
    ]
    assert reverse("events:organise_new") not in client_en.get(reverse("events:organise")).content.decode()


def test_employer_creates_a_recruitment_fair_with_questions(client_en, org_x, employer_x, district_1):
    signed_in(client_en, employer_x)
    form = client_en.get(reverse("events:organise_new"))
    assert form.status_code == 200
    kinds = [value for value, _label in form.context["form"].fields["kind"].choices]
    assert kinds == [EventKind.RECRUITMENT, EventKind.SALON]
    assert 'type="datetime-local"' in form.content.decode()
    data = event_post(
        district_1,
        org=org_x,
        **{
            "questions-0-label": "您的专业",
            "questions-0-type": "text",
            "questions-0-required": "on",
            "questions-1-label": "意向岗位",
            "questions-1-type": "choice",
            "questions-1-choices": "工艺, 质量、销售",
        },
    )
    response = client_en.post(reverse("events:organise_new"), data)
    event = Event.objects.get(title=data["title"])
    assert response.status_code == 302 and response.url == reverse("events:organise_event", args=[event.pk])
    assert messages_of(response) == ["The event has been saved as a draft. Submit it for review when it is ready."]
    assert (event.status, event.organiser_id, event.created_by_id, event.kind) == (
        EventStatus.DRAFT,
        org_x.pk,
        employer_x.pk,
        "recruitment",
    )
    assert (event.min_age, event.max_age, event.graduates_only, event.capacity) == (18, 35, True, 200)
    assert event.questions == [
        {"label": "您的专业", "type": "text", "required": True},
        {"label": "意向岗位", "type": "choice", "required": False, "choices": ["工艺", "质量", "销售"]},
    ]
    assert timezone.localtime(event.starts_at).strftime("%Y-%m-%dT%H:%M") == data["starts_at"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": EventKind.FORUM}, "kind"),
        ({"ends_at": "2020-01-01T10:00"}, "ends_at"),
        ({"starts_at": "not a date"}, "starts_at"),
        ({"capacity": "0"}, "capacity"),
        ({"place": ""}, "place"),
        ({"min_age": "30", "max_age": "20"}, "max_age"),
        ({"questions-0-label": "Size", "questions-0-type": "choice"}, None),
    ],
)
def test_create_form_errors_stay_on_the_form(client_en, org_x, employer_x, district_1, overrides, field):
    response = signed_in(client_en, employer_x).post(
        reverse("events:organise_new"), event_post(district_1, org=org_x, **overrides)
    )
    assert response.status_code == 200
    if field:
        assert response.context["form"].errors.get(field), response.context["form"].errors
    else:
        assert response.context["questions"].errors[0]["choices"]
    assert not Event.objects.exists()


def test_venue_of_another_district_and_over_its_capacity(client_en, org_x, employer_x, district_1, district_2):
    signed_in(client_en, employer_x)
    elsewhere = VenueFactory(district=district_2, name="涧西区青年之家")
    response = client_en.post(
        reverse("events:organise_new"), event_post(district_1, org=org_x, venue=str(elsewhere.pk), place="")
    )
    assert response.context["form"].errors["venue"] == ["Choose a venue of the event's district."]
    small = VenueFactory(district=district_1, capacity=30)
    response = client_en.post(
        reverse("events:organise_new"), event_post(district_1, org=org_x, venue=str(small.pk), place="")
    )
    assert response.context["form"].errors["capacity"] == ["The venue holds 30 people at most."]
    response = client_en.post(
        reverse("events:organise_new"), event_post(district_1, org=org_x, venue=str(small.pk), place="", capacity="30")
    )
    assert response.status_code == 302
    assert Event.objects.get().venue == small


def test_employer_cannot_organise_for_someone_elses_organisation(client_en, org_x, org_y, employer_x, district_1):
    response = signed_in(client_en, employer_x).post(reverse("events:organise_new"), event_post(district_1, org=org_y))
    assert response.status_code == 200 and response.context["form"].errors["organiser"]
    assert not Event.objects.exists()


def test_edit_a_draft_submit_it_and_no_edits_while_under_review(client_en, org_x, employer_x, district_1):
    event = EventFactory(
        draft=True,
        organiser=org_x,
        district=district_1,
        kind=EventKind.SALON,
        title="草稿沙龙",
        questions=[{"label": "专业", "type": "text", "required": False}],
    )
    url = reverse("events:organise_event", args=[event.pk])
    signed_in(client_en, employer_x)
    page = client_en.get(url)
    assert page.status_code == 200
    questions = page.context["questions"]
    assert len(questions.forms) == 3 and questions.forms[0].initial["label"] == "专业"
    data = event_post(district_1, kind=EventKind.SALON, title="改过的沙龙", capacity="40")
    data.update(question_management(initial=1) | {"questions-0-label": "专业", "questions-0-type": "text"})
    response = client_en.post(url, data)
    assert response.status_code == 302, response.context["form"].errors if response.context else None
    assert messages_of(response) == ["Your changes have been saved."]
    event.refresh_from_db()
    assert (event.title, event.capacity, event.organiser_id) == ("改过的沙龙", 40, org_x.pk)
    assert event.questions == [{"label": "专业", "type": "text", "required": False}]

    response = client_en.post(reverse("events:organise_action", args=[event.pk, "submit"]))
    assert messages_of(response) == ["The event has been sent to the district for review."]
    event.refresh_from_db()
    assert event.status == EventStatus.PENDING
    response = client_en.post(url, data | {"title": "偷偷改"})
    assert messages_of(response) == ["Only drafts and rejected events can be changed."]
    event.refresh_from_db()
    assert event.title == "改过的沙龙"
    # Submitting twice is a message, not an error page.
    response = client_en.post(reverse("events:organise_action", args=[event.pk, "submit"]))
    assert response.status_code == 302 and len(messages_of(response)) == 1


def test_rejected_event_shows_the_reason_and_can_be_resubmitted(client_en, org_x, employer_x, district_1):
    event = EventFactory(rejected=True, organiser=org_x, district=district_1, kind=EventKind.SALON)
    signed_in(client_en, employer_x)
    html = client_en.get(reverse("events:organise_event", args=[event.pk])).content.decode()
    assert "活动内容不完整" in html and "Submit for review" in html
    client_en.post(reverse("events:organise_action", args=[event.pk, "submit"]))
    event.refresh_from_db()
    assert event.status == EventStatus.PENDING


def test_announce_a_published_event_to_subscribers(
    client_en, fair_x, employer_x, district_1, django_capture_on_commit_callbacks
):
    followers = make_people(3, prefix="follow")
    for person in followers:
        services.subscription_set(user=person, district=district_1)
    services.subscription_set(user=UserFactory(), kind=EventKind.FORUM)  # follows something else
    signed_in(client_en, employer_x)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_en.post(reverse("events:organise_action", args=[fair_x.pk, "announce"]))
    assert messages_of(response) == ["The event is being announced to 3 subscribers."]
    assert set(Notification.objects.filter(kind="event_announcement").values_list("user", flat=True)) == {
        p.pk for p in followers
    }
    draft = EventFactory(draft=True, organiser=fair_x.organiser, district=district_1)
    response = client_en.post(reverse("events:organise_action", args=[draft.pk, "announce"]))
    [refused] = messages_of(response)
    assert refused.startswith("Only published events")


def test_cancel_needs_a_reason_and_tells_everyone(client_en, fair_x, employer_x):
    reg = services.registration_create(event=fair_x, user=UserFactory())
    url = reverse("events:organise_action", args=[fair_x.pk, "cancel"])
    signed_in(client_en, employer_x)
    response = client_en.post(url, {"cancel-reason": "  "})
    assert messages_of(response) == ["Please give a reason for this decision."]
    fair_x.refresh_from_db()
    assert fair_x.status == EventStatus.PUBLISHED
    response = client_en.post(url, {"cancel-reason": "场馆检修"})
    assert messages_of(response) == ["The event has been cancelled; everyone registered has been told."]
    fair_x.refresh_from_db()
    reg.refresh_from_db()
    assert (fair_x.status, fair_x.status_reason, reg.status) == (EventStatus.CANCELLED, "场馆检修", R.CANCELLED)
    assert Notification.objects.filter(user=reg.user, kind="event_cancelled").exists()
    # Cancelling a cancelled event: a message.
    response = client_en.post(url, {"cancel-reason": "again"})
    assert response.status_code == 302 and len(messages_of(response)) == 1
    assert "This event has been cancelled." in client_en.get(reverse("events:event", args=[fair_x.pk])).content.decode()


def test_registrations_page_approve_and_decline_pending(client_en, org_x, employer_x, district_1):
    social = EventFactory(
        published=True,
        organiser=org_x,
        district=district_1,
        kind=EventKind.SALON,
        capacity=1,
        requires_approval=True,
        questions=[{"label": "您的专业", "type": "text", "required": True}],
    )
    a, b, c = (ProfileFactory(complete=True, real_name=name).user for name in ("王一", "李二", "张三"))
    ra = services.registration_create(event=social, user=a, answers={"0": "机械"})
    rb = services.registration_create(event=social, user=b, answers={"0": "材料"})
    rc = services.registration_create(event=social, user=c, answers={"0": "会计"})
    url = reverse("events:organise_registrations", args=[social.pk])
    signed_in(client_en, employer_x)
    html = client_en.get(url).content.decode()
    assert all(name in html for name in ("王一", "李二", "张三")) and "您的专业:</span> 机械" in html
    assert html.count(">Approve</button>") == 3

    response = client_en.post(reverse("events:organise_decide", args=[ra.pk, "approve"]))
    assert response.url == url
    assert messages_of(response) == ["Approved: the place is confirmed."]
    response = client_en.post(reverse("events:organise_decide", args=[rb.pk, "approve"]))
    assert messages_of(response) == ["Approved: the event is full, so the person is on the waiting list."]
    response = client_en.post(reverse("events:organise_decide", args=[rc.pk, "reject"]), {"reason": ""})
    assert messages_of(response) == ["Please give a reason for this decision."]
    response = client_en.post(reverse("events:organise_decide", args=[rc.pk, "reject"]), {"reason": "名额已满"})
    assert messages_of(response) == ["The registration has been declined."]
    statuses = dict(Registration.objects.filter(event=social).values_list("user", "status"))
    assert statuses == {a.pk: R.CONFIRMED, b.pk: R.WAITLISTED, c.pk: R.CANCELLED}
    # Deciding again is a message; another employer is turned away with 404.
    response = client_en.post(reverse("events:organise_decide", args=[ra.pk, "approve"]))
    assert response.status_code == 302 and len(messages_of(response)) == 1
    assert client_en.post(reverse("events:organise_decide", args=[ra.pk, "nonsense"])).status_code == 404


def test_another_employer_cannot_decide_registrations(client_en, org_x, org_y, employer_y, district_1):
    social = EventFactory(published=True, organiser=org_x, district=district_1, requires_approval=True)
    reg = services.registration_create(event=social, user=UserFactory())
    signed_in(client_en, employer_y)
    for action in ("approve", "reject"):
        assert (
            client_en.post(reverse("events:organise_decide", args=[reg.pk, action]), {"reason": "x"}).status_code == 404
        )
    reg.refresh_from_db()
    assert reg.status == R.PENDING


def test_staff_see_their_districts_events_on_the_organiser_pages(client_en, fair_x, staff_1, staff_2, district_2):
    jianxi = EventFactory(published=True, district=district_2, title="涧西的活动")
    html = signed_in(client_en, staff_1).get(reverse("events:organise")).content.decode()
    assert fair_x.title in html and jianxi.title not in html
    html = signed_in(client_en, staff_2).get(reverse("events:organise")).content.decode()
    assert fair_x.title not in html and jianxi.title in html
    # Staff have no organisation: the page does not offer the employer's form.
    assert reverse("events:organise_new") not in html


def test_staff_editing_a_draft_with_more_questions_keeps_them_all(client_en, staff_1, district_1):
    questions = [{"label": f"问题{i}", "type": "text", "required": False} for i in range(5)]
    event = EventFactory(draft=True, district=district_1, kind=EventKind.FORUM, questions=questions)
    url = reverse("events:organise_event", args=[event.pk])
    page = signed_in(client_en, staff_1).get(url)
    assert len(page.context["questions"].forms) == 5
    kinds = [value for value, _label in page.context["form"].fields["kind"].choices]
    assert EventKind.FORUM in kinds  # staff events may be of any kind
    data = event_post(district_1, kind=EventKind.FORUM, title="论坛（改）")
    data.update(question_management(total=5, initial=5))
    data.update({f"questions-{i}-label": f"问题{i}" for i in range(5)})
    response = client_en.post(url, data)
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.title == "论坛（改）" and event.questions == questions and event.organiser is None


def test_staff_are_sent_to_the_admin_to_create_events(client_en, staff_1):
    response = signed_in(client_en, staff_1).get(reverse("events:organise_new"))
    assert response.url == reverse("events:organise")
    assert messages_of(response) == ["Staff create the district's events in the staff admin."]
    html = client_en.get(reverse("events:organise")).content.decode()
    assert reverse("admin:events_event_changelist") in html


def test_month_view_keeps_kind_and_district_filters_and_has_no_date_filter(client_en, district_1, district_2):
    starts = timezone.localtime(timezone.now() + dt.timedelta(days=3))
    EventFactory(published=True, district=district_1, starts_at=starts, title="洛龙的活动")
    EventFactory(published=True, district=district_2, starts_at=starts, title="涧西的活动")
    response = client_en.get(
        reverse("events:calendar"), {"year": starts.year, "month": starts.month, "district": "jianxi"}
    )
    html = response.content.decode()
    assert "涧西的活动" in html and "洛龙的活动" not in html
    assert 'name="date"' not in html
    assert f'name="month" value="{starts.month}"' in html


def test_month_navigation_keeps_the_filters(client_en):
    html = client_en.get(reverse("events:calendar"), {"year": 2026, "month": 12, "kind": "salon"}).content.decode()
    assert 'href="?year=2027&amp;month=1&amp;kind=salon"' in html
    assert 'href="?year=2026&amp;month=11&amp;kind=salon"' in html


def test_cover_picture_is_reencoded_with_a_thumbnail_and_served_publicly(client, staff_1, district_1):
    import io

    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from events import services as event_services
    from tests.events.factories import EventFactory

    event = EventFactory(published=True, district=district_1)
    assert client.get(f"/events/{event.pk}/cover/full.img").status_code == 404
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    Image.new("RGB", (2400, 1600), "blue").save(buffer, format="JPEG", exif=exif)
    event_services.event_set_cover(event=event, actor=staff_1, upload=SimpleUploadedFile("c.jpg", buffer.getvalue()))
    event.refresh_from_db()
    with Image.open(event.cover.path) as cover, Image.open(event.cover_thumbnail.path) as thumb:
        assert cover.size == (1200, 800) and thumb.size == (480, 320)
        assert not cover.getexif()
    assert client.get(f"/events/{event.pk}/cover/thumb.img")["Content-Type"] == "image/jpeg"
    assert f"/events/{event.pk}/cover/full.img" in client.get(f"/events/{event.pk}/").content.decode()
    svg = SimpleUploadedFile("c.svg", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>")
    with pytest.raises(ValidationError):
        event_services.event_set_cover(event=event, actor=staff_1, upload=svg)
