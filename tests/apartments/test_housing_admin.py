"""The housing admin for district staff: projects with unit types, photos and units added
floor by floor; unit states staff may set; rounds prepared as drafts and then published,
seeded, drawn (with live progress) and closed from buttons; the review queue with approve
and reject; offers withdrawn; leases renewed and ended; masked CSV exports; the occupancy
figures. District staff see and act on their own districts only, and a service's refusal
is a message, never an error page."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from apartments import services
from apartments.constants import (
    HousingApplicationStatus,
    LeaseEndReason,
    LeaseStatus,
    OfferStatus,
    RoundStatus,
    UnitState,
)
from apartments.models import (
    AllocationRound,
    HousingApplication,
    HousingOffer,
    HousingProject,
    Lease,
    LeaseRecheck,
    ProjectPhoto,
    RoundUnitType,
    Unit,
    UnitType,
)
from portal.constants import AuditAction
from portal.models import AuditEntry, Document
from tests.admin_helpers import csv_rows as _csv_rows
from tests.admin_helpers import login as _login
from tests.admin_helpers import messages as _messages
from tests.admin_helpers import result_pks as _result_pks
from tests.apartments.conftest import housing_apply, make_housing_graduate, make_project, make_round
from tests.portal.factories import ProfileFactory

pytestmark = pytest.mark.django_db

PROJECTS = reverse("admin:apartments_housingproject_changelist")
UNITS = reverse("admin:apartments_unit_changelist")
ROUNDS = reverse("admin:apartments_allocationround_changelist")
APPLICATIONS = reverse("admin:apartments_housingapplication_changelist")
OFFERS = reverse("admin:apartments_housingoffer_changelist")
LEASES = reverse("admin:apartments_lease_changelist")
RECHECKS = reverse("admin:apartments_leaserecheck_changelist")
OCCUPANCY = reverse("admin:apartments_housingproject_occupancy")
OCCUPANCY_CSV = reverse("admin:apartments_housingproject_occupancy_csv")
# The audit trail shows as a read-only inline on change pages; its (empty) management form
# comes with every post of those pages.
AUDIT_INLINE = {
    "portal-auditentry-content_type-object_id-TOTAL_FORMS": "0",
    "portal-auditentry-content_type-object_id-INITIAL_FORMS": "0",
}
SEED = {"public_seed": "03 17 22 28 31 + 09", "source": "福彩双色球 2026138 期"}


@pytest.fixture
def client_en(client):
    """Admin pages in English, so assertions do not depend on the state of the .po files."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _url(model: str, name: str, obj) -> str:
    return reverse(f"admin:apartments_{model}_{name}", args=[obj.pk])


@pytest.fixture
def project_1(clock, district_1):
    """炎黄科技园: 2 units each of 90, 60 and 45 m² in 洛龙区 (district 1)."""
    return make_project(district_1)


@pytest.fixture
def project_2(clock, district_2):
    return make_project(district_2, name="涧西人才公寓", types=(("单间", "45", "900", 2),))


@pytest.fixture
def round_1(project_1):
    return make_round(project_1)


@pytest.fixture
def round_2(project_2):
    return make_round(project_2)


@pytest.fixture
def submitted(round_1, district_1):
    """Two applications waiting for review in round 1."""
    return [housing_apply(make_housing_graduate(district=district_1), round_1) for _ in range(2)]


def _approve_all(apps, staff):
    for app in apps:
        services.housing_application_approve(application=app, actor=staff)


def _close_window(clock, round):
    clock.set(timezone.localtime(round.closes_at).date() + dt.timedelta(days=1))


@pytest.fixture
def drawn(clock, round_1, submitted, staff_1, django_capture_on_commit_callbacks):
    """Round 1 drawn through the services: both applicants hold an offer."""
    _approve_all(submitted, staff_1)
    _close_window(clock, round_1)
    services.round_publish_seed(round=round_1, actor=staff_1, **SEED)
    with django_capture_on_commit_callbacks(execute=True):
        services.round_draw_start(round=round_1, actor=staff_1)
    round_1.refresh_from_db()
    assert round_1.status == RoundStatus.DRAWN
    return round_1


@pytest.fixture
def lease(drawn, submitted):
    offer = HousingOffer.objects.filter(status=OfferStatus.OFFERED).order_by("application__rank").first()
    return services.housing_offer_accept(offer=offer, actor=offer.application.applicant)


# --- Scoping ----------------------------------------------------------------------------------------


@pytest.fixture
def app_2(round_2, district_2):
    return housing_apply(make_housing_graduate(district=district_2), round_2)


def test_district_staff_see_only_their_districts_rows(
    client_en, staff_1, staff_2, city_staff, project_1, project_2, round_1, round_2, app_2, lease
):
    ones = {
        PROJECTS: {project_1.pk},
        UNITS: set(project_1.units.values_list("pk", flat=True)),
        ROUNDS: {round_1.pk},
        APPLICATIONS: set(round_1.applications.values_list("pk", flat=True)),
        OFFERS: set(HousingOffer.objects.values_list("pk", flat=True)),
        LEASES: {lease.pk},
    }
    twos = {
        PROJECTS: {project_2.pk},
        UNITS: set(project_2.units.values_list("pk", flat=True)),
        ROUNDS: {round_2.pk},
        APPLICATIONS: {app_2.pk},
        OFFERS: set(),
        LEASES: set(),
    }
    for url in ones:
        assert _result_pks(_login(client_en, staff_1).get(url)) == ones[url], url
        assert _result_pks(_login(client_en, staff_2).get(url)) == twos[url], url
        assert _result_pks(_login(client_en, city_staff).get(url)) == ones[url] | twos[url], url


def test_another_districts_objects_cannot_be_reached(client_en, staff_2, drawn, submitted, lease, project_1):
    offer = HousingOffer.objects.filter(status=OfferStatus.OFFERED).first()
    app = submitted[0]
    unit = project_1.units.first()
    _login(client_en, staff_2)
    # Change pages: the admin's not-found redirect, as for any missing object.
    for model, obj in (
        ("housingproject", project_1),
        ("unit", unit),
        ("allocationround", drawn),
        ("housingapplication", app),
        ("housingoffer", offer),
        ("lease", lease),
    ):
        response = client_en.get(_url(model, "change", obj))
        assert response.status_code == 302 and response["Location"] == reverse("admin:index"), model
    # Decisions and extra pages: 404 whether asked or posted.
    for model, name, obj in (
        ("allocationround", "publish", drawn),
        ("allocationround", "seed", drawn),
        ("allocationround", "draw", drawn),
        ("allocationround", "close", drawn),
        ("allocationround", "progress", drawn),
        ("housingapplication", "approve", app),
        ("housingapplication", "reject", app),
        ("housingoffer", "withdraw", offer),
        ("lease", "renew", lease),
        ("lease", "end", lease),
        ("housingproject", "add_units", project_1),
    ):
        assert client_en.get(_url(model, name, obj)).status_code == 404, name
        assert client_en.post(_url(model, name, obj), {"reason": "x", "months": 12}).status_code == 404, name
    drawn.refresh_from_db()
    lease.refresh_from_db()
    offer.refresh_from_db()
    assert (drawn.status, lease.status, offer.status) == (RoundStatus.DRAWN, LeaseStatus.ACTIVE, OfferStatus.OFFERED)
    # Editing another district's unit does nothing.
    client_en.post(
        _url("unit", "change", unit), {"unit_type": unit.unit_type_id, "number": unit.number, "state": "maintenance"}
    )
    unit.refresh_from_db()
    assert unit.state != UnitState.MAINTENANCE


def test_graduates_do_not_reach_the_housing_admin(client_en, graduate_a, round_1):
    _login(client_en, graduate_a)
    for url in (PROJECTS, APPLICATIONS, OCCUPANCY, _url("allocationround", "progress", round_1)):
        response = client_en.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


# --- Projects, unit types, photos, units -----------------------------------------------------------


def _jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _project_form(district, *, kind="talent_apartment", types=(), photos=None, **changes):
    data = {
        "district": district.pk,
        "name": "龙门青年人才公寓",
        "kind": kind,
        "address": "洛阳市洛龙区龙门大道 1 号",
        "description": "",
        "rules": "",
        "amenities": "拎包入住",
        "contact_phone": "0379-1",
        "published": "on",
        "unit_types-TOTAL_FORMS": str(len(types)),
        "unit_types-INITIAL_FORMS": "0",
        "unit_types-MIN_NUM_FORMS": "0",
        "unit_types-MAX_NUM_FORMS": "1000",
        "photos-TOTAL_FORMS": "0",
        "photos-INITIAL_FORMS": "0",
        "photos-MIN_NUM_FORMS": "0",
        "photos-MAX_NUM_FORMS": "1000",
    }
    for i, (name, area, rent) in enumerate(types):
        data.update(
            {
                f"unit_types-{i}-name": name,
                f"unit_types-{i}-area": area,
                f"unit_types-{i}-rooms": "1",
                f"unit_types-{i}-furnished": "on",
                f"unit_types-{i}-monthly_rent": rent,
            }
        )
    if photos:
        data["photo_uploads"] = photos
    data.update(changes)
    return data


def test_staff_add_a_project_with_unit_types_and_photos(client_en, staff_1, district_1, clock):
    photo = SimpleUploadedFile("front.jpg", _jpeg_with_exif(), content_type="image/jpeg")
    data = _project_form(district_1, types=[("两室一厅", "90", "1800"), ("单间", "45", "900")], photos=[photo])

    response = _login(client_en, staff_1).post(reverse("admin:apartments_housingproject_add"), data)

    assert response.status_code == 302
    project = HousingProject.objects.get(name="龙门青年人才公寓")
    assert sorted(project.unit_types.values_list("name", "area")) == [
        ("两室一厅", Decimal("90.00")),
        ("单间", Decimal("45.00")),
    ]
    (stored,) = ProjectPhoto.objects.filter(project=project)
    with stored.image.open("rb") as f:
        data = f.read()
    assert b"SecretCam" not in data and data.startswith(b"\xff\xd8\xff")
    assert stored.thumbnail


def test_a_bad_photo_is_refused_with_a_message_and_the_project_kept(client_en, staff_1, district_1, clock):
    bad = SimpleUploadedFile("x.jpg", b"%PDF-1.4 not a picture", content_type="image/jpeg")

    response = _login(client_en, staff_1).post(
        reverse("admin:apartments_housingproject_add"), _project_form(district_1, photos=[bad])
    )

    project = HousingProject.objects.get(name="龙门青年人才公寓")
    assert response.status_code == 302
    assert response["Location"] == _url("housingproject", "change", project)
    assert any("was not added" in m for m in _messages(response))
    assert not ProjectPhoto.objects.exists()


def test_affordable_unit_types_must_stay_within_the_area_parameter(client_en, staff_1, district_1, clock):
    data = _project_form(district_1, kind="affordable_rental", types=[("两室", "90", "1500"), ("一室", "60", "900")])

    response = _login(client_en, staff_1).post(reverse("admin:apartments_housingproject_add"), data)

    assert response.status_code == 200
    assert not HousingProject.objects.filter(name="龙门青年人才公寓").exists()
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert errors[1] == {}
    with translation.override("en"):
        assert "must not be larger than 70 m²" in str(errors[0]["area"])

    data = _project_form(district_1, kind="affordable_rental", types=[("一室", "60", "900")])
    assert client_en.post(reverse("admin:apartments_housingproject_add"), data).status_code == 302


def test_changing_a_project_to_affordable_checks_its_existing_types(client_en, staff_1, project_1):
    types = list(project_1.unit_types.order_by("pk"))
    data = _project_form(project_1.district, kind="affordable_rental", name=project_1.name, **AUDIT_INLINE)
    data.update({"unit_types-TOTAL_FORMS": str(len(types)), "unit_types-INITIAL_FORMS": str(len(types))})
    for i, t in enumerate(types):
        data.update(
            {
                f"unit_types-{i}-id": t.pk,
                f"unit_types-{i}-project": project_1.pk,
                f"unit_types-{i}-name": t.name,
                f"unit_types-{i}-area": str(t.area),
                f"unit_types-{i}-rooms": t.rooms,
                f"unit_types-{i}-monthly_rent": str(t.monthly_rent),
            }
        )

    response = _login(client_en, staff_1).post(_url("housingproject", "change", project_1), data)

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert ["area" in e for e in errors] == [True, False, False]  # 90 m² is too large, 60 and 45 m² fit
    project_1.refresh_from_db()
    assert project_1.kind == "talent_apartment"


def test_district_staff_add_projects_only_in_their_districts(client_en, staff_1, district_1, district_2, clock):
    add = reverse("admin:apartments_housingproject_add")
    _login(client_en, staff_1)
    assert list(client_en.get(add).context["adminform"].form.fields["district"].queryset) == [district_1]

    assert client_en.post(add, _project_form(district_2)).status_code == 200
    assert not HousingProject.objects.exists()


def test_units_are_added_floor_by_floor(client_en, staff_1, project_1):
    unit_type = project_1.unit_types.get(name="单间")
    url = _url("housingproject", "add_units", project_1)
    _login(client_en, staff_1)
    assert client_en.get(url).status_code == 200
    form = {"unit_type": unit_type.pk, "building": "5", "floor_from": 2, "floor_to": 4, "units_per_floor": 3}

    response = client_en.post(url, form)

    assert response.status_code == 302
    assert response["Location"] == _url("housingproject", "change", project_1)
    added = Unit.objects.filter(project=project_1, building="5")
    assert added.count() == 9
    assert sorted(added.values_list("number", flat=True)) == [
        "201", "202", "203", "301", "302", "303", "401", "402", "403"
    ]  # fmt: skip
    assert set(added.values_list("floor", flat=True)) == {2, 3, 4}
    assert set(added.values_list("state", flat=True)) == {UnitState.VACANT}
    assert any("9 units added" in m for m in _messages(response))

    # Pressing again (one more floor) keeps the numbers that exist.
    response = client_en.post(url, {**form, "floor_to": 5})
    assert added.count() == 12
    assert any("exist already" in m for m in _messages(response))

    # Floors the wrong way round and another project's type are form errors.
    assert client_en.post(url, {**form, "floor_from": 5, "floor_to": 2}).status_code == 200
    other = make_project(project_1.district, name="另一个项目", types=(("单间", "45", "900", 0),))
    assert client_en.post(url, {**form, "unit_type": other.unit_types.get().pk}).status_code == 200
    assert added.count() == 12


def _unit_form(unit, **changes):
    data = {"unit_type": unit.unit_type_id, "building": unit.building, "floor": unit.floor, "number": unit.number}
    data.update(changes)
    return data


def test_staff_take_a_unit_out_for_maintenance_and_back(client_en, staff_1, project_1):
    unit = project_1.units.first()
    _login(client_en, staff_1)

    response = client_en.post(_url("unit", "change", unit), _unit_form(unit, state="maintenance"))

    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.state == UnitState.MAINTENANCE
    entry = AuditEntry.objects.get(action=AuditAction.TRANSITION, object_id=str(unit.pk))
    assert (entry.actor, entry.from_status, entry.to_status) == (staff_1, "vacant", "maintenance")

    client_en.post(_url("unit", "change", unit), _unit_form(unit, state="vacant"))
    unit.refresh_from_db()
    assert unit.state == UnitState.VACANT


def test_staff_cannot_set_a_unit_to_offered_or_let(client_en, staff_1, project_1):
    unit = project_1.units.first()
    _login(client_en, staff_1)

    for state in ("let", "offered"):
        response = client_en.post(_url("unit", "change", unit), _unit_form(unit, state=state))
        assert response.status_code == 200
        assert "state" in response.context["adminform"].form.errors
    unit.refresh_from_db()
    assert unit.state == UnitState.VACANT


def test_an_offered_units_state_is_read_only(client_en, staff_1, drawn):
    unit = Unit.objects.filter(state=UnitState.OFFERED).first()
    _login(client_en, staff_1)

    form = client_en.get(_url("unit", "change", unit)).context["adminform"].form
    assert "state" not in form.fields
    client_en.post(_url("unit", "change", unit), _unit_form(unit, state="vacant"))

    unit.refresh_from_db()
    assert unit.state == UnitState.OFFERED


def test_a_unit_number_cannot_be_used_twice(client_en, staff_1, project_1):
    first, second = project_1.units.order_by("pk")[:2]

    response = _login(client_en, staff_1).post(
        _url("unit", "change", second), _unit_form(second, number=first.number, state="vacant")
    )

    assert response.status_code == 200
    assert "number" in response.context["adminform"].form.errors


# --- Rounds --------------------------------------------------------------------------------------


def _round_form(project, /, **changes):
    unit_types = list(project.unit_types.order_by("pk"))
    data = {
        "project": project.pk,
        "name": "2026年第二批",
        "opens_at_0": "2026-06-01",
        "opens_at_1": "09:00:00",
        "closes_at_0": "2026-06-15",
        "closes_at_1": "17:00:00",
        "method": "priority_lottery",
        "priority_order_0": "postgraduate",
        "priority_order_1": "out_of_town",
        "priority_order_2": "",
        "priority_order_3": "",
        "priority_order_4": "",
        "graduate_share": "40",
        "spill_over_on": "",
        "offer_days": "7",
        "move_in_on": "2026-07-01",
        "unit_counts-TOTAL_FORMS": str(len(unit_types)),
        "unit_counts-INITIAL_FORMS": "0",
        "unit_counts-MIN_NUM_FORMS": "0",
        "unit_counts-MAX_NUM_FORMS": "1000",
    }
    for i, t in enumerate(unit_types):
        data[f"unit_counts-{i}-unit_type"] = t.pk
        data[f"unit_counts-{i}-units"] = "1"
    data.update(changes)
    return data


def test_staff_prepare_a_draft_round(client_en, staff_1, project_1):
    add = reverse("admin:apartments_allocationround_add")
    _login(client_en, staff_1)
    assert client_en.get(add).status_code == 200

    response = client_en.post(add, _round_form(project_1))

    assert response.status_code == 302
    round = AllocationRound.objects.get(name="2026年第二批")
    assert round.status == RoundStatus.DRAFT
    assert round.priority_order == ["postgraduate", "out_of_town"]
    assert round.buckets == ["postgraduate", "out_of_town", "other"]
    assert round.created_by == staff_1
    assert round.unit_counts.count() == 3

    # A draft can still be changed.
    response = client_en.post(
        _url("allocationround", "change", round),
        _round_form(
            project_1,
            name="2026年第二批（修订）",
            **{"unit_counts-TOTAL_FORMS": "0", "priority_order_0": "bachelor", "priority_order_1": ""},
            **AUDIT_INLINE,
        ),
    )
    assert response.status_code == 302
    round.refresh_from_db()
    assert (round.name, round.priority_order) == ("2026年第二批（修订）", ["bachelor"])


def test_round_form_errors(client_en, staff_1, project_1, project_2):
    add = reverse("admin:apartments_allocationround_add")
    _login(client_en, staff_1)
    cases = [
        ({"priority_order_1": "postgraduate"}, "priority_order"),  # listed twice
        ({"closes_at_0": "2026-05-01"}, "closes_at"),  # closes before it opens
        ({"project": project_2.pk}, "project"),  # another district's project
    ]
    for changes, field in cases:
        response = client_en.post(add, _round_form(project_1, **changes))
        assert response.status_code == 200
        assert field in response.context["adminform"].form.errors, field
    # A unit type of another project.
    other_type = project_2.unit_types.first()
    response = client_en.post(add, _round_form(project_1, **{"unit_counts-0-unit_type": other_type.pk}))
    assert response.status_code == 200
    assert not AllocationRound.objects.exists()


def test_affordable_rounds_keep_the_graduates_share(client_en, staff_1, district_1, clock):
    project = make_project(district_1, kind="affordable_rental", name="保租房", types=(("一室", "60", "900", 2),))

    response = _login(client_en, staff_1).post(
        reverse("admin:apartments_allocationround_add"), _round_form(project, graduate_share="30")
    )

    assert response.status_code == 200
    assert "graduate_share" in response.context["adminform"].form.errors


def test_publish_then_the_round_is_read_only(client_en, staff_1, project_1):
    round = make_round(project_1, status="draft")
    change = _url("allocationround", "change", round)
    _login(client_en, staff_1)
    page = client_en.get(change).content.decode()
    assert _url("allocationround", "publish", round) in page
    assert 'name="_save"' in page

    response = client_en.post(_url("allocationround", "publish", round))

    assert response.status_code == 302 and response["Location"] == change
    round.refresh_from_db()
    assert round.status == RoundStatus.OPEN
    assert any("is published" in m for m in _messages(response))
    page = client_en.get(change).content.decode()
    assert 'name="_save"' not in page
    assert "Graduates from outside Luoyang → Master&#x27;s or doctorate" in page  # the groups by name
    assert _url("allocationround", "publish", round) not in page
    assert client_en.post(change, _round_form(project_1, name="改名")).status_code == 403
    round.refresh_from_db()
    assert round.name == "2026年第一批"


def test_publishing_a_round_without_units_is_refused_with_a_message(client_en, staff_1, project_1):
    round = make_round(project_1, status="draft")
    RoundUnitType.objects.filter(round=round).delete()

    response = _login(client_en, staff_1).post(_url("allocationround", "publish", round))

    assert response.status_code == 302
    assert any("how many units" in m for m in _messages(response))
    round.refresh_from_db()
    assert round.status == RoundStatus.DRAFT


def test_the_random_value_is_refused_before_the_window_closes(client_en, staff_1, round_1):
    _login(client_en, staff_1)
    page = client_en.get(_url("allocationround", "seed", round_1)).content.decode()
    assert "still open" in page

    response = client_en.post(_url("allocationround", "seed", round_1), SEED)

    assert response.status_code == 302
    assert any("after the application window closes" in m for m in _messages(response))
    round_1.refresh_from_db()
    assert round_1.public_seed == "" and round_1.seed_published_at is None


def test_seed_and_draw_from_the_buttons(
    client_en, clock, staff_1, round_1, submitted, django_capture_on_commit_callbacks
):
    _approve_all(submitted, staff_1)
    _close_window(clock, round_1)
    change = _url("allocationround", "change", round_1)
    _login(client_en, staff_1)
    assert (
        client_en.post(_url("allocationround", "seed", round_1), {"public_seed": "", "source": ""}).status_code == 200
    )

    response = client_en.post(_url("allocationround", "seed", round_1), SEED)

    assert response.status_code == 302
    round_1.refresh_from_db()
    assert (round_1.public_seed, round_1.seed_source) == (SEED["public_seed"], SEED["source"])
    assert _url("allocationround", "draw", round_1) in client_en.get(change).content.decode()
    assert client_en.get(_url("allocationround", "draw", round_1)).status_code == 200  # the confirmation page

    with django_capture_on_commit_callbacks(execute=True):
        response = client_en.post(_url("allocationround", "draw", round_1))

    assert response.status_code == 302 and response["Location"] == change
    assert any("has started" in m for m in _messages(response))
    round_1.refresh_from_db()
    assert (round_1.status, round_1.draw_progress) == (RoundStatus.DRAWN, 100)
    ranks = dict(HousingApplication.objects.filter(round=round_1).values_list("pk", "rank"))
    assert sorted(ranks.values()) == [1, 2]
    assert HousingOffer.objects.filter(application__round=round_1, status=OfferStatus.OFFERED).count() == 2
    trail = AuditEntry.objects.count()

    # A second press changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        response = client_en.post(_url("allocationround", "draw", round_1))

    assert response.status_code == 302
    assert any("nothing was changed" in m for m in _messages(response))
    assert dict(HousingApplication.objects.filter(round=round_1).values_list("pk", "rank")) == ranks
    assert HousingOffer.objects.count() == 2
    assert AuditEntry.objects.count() == trail
    # The page shows the outcome and links the public results and the applications.
    page = client_en.get(change).content.decode()
    assert reverse("apartments:round_results", args=[round_1.pk]) in page
    assert f"{APPLICATIONS}?round={round_1.pk}" in page
    assert 'id="draw-percent">100%' in page


def test_the_random_value_and_the_draw_wait_until_every_application_is_reviewed(
    client_en, clock, staff_1, round_1, submitted
):
    """Anyone can work out every ticket from the published value, so review must be over
    before it is known: both the value and the draw are refused while applications wait."""
    _close_window(clock, round_1)
    with translation.override("en"), pytest.raises(ValidationError, match="waiting for review"):
        services.round_publish_seed(round=round_1, actor=staff_1, **SEED)
    AllocationRound.objects.filter(pk=round_1.pk).update(
        public_seed=SEED["public_seed"], seed_source=SEED["source"], seed_published_at=timezone.now()
    )

    response = _login(client_en, staff_1).post(_url("allocationround", "draw", round_1))

    assert response.status_code == 302
    assert any("waiting for review" in m for m in _messages(response))
    round_1.refresh_from_db()
    assert round_1.status == RoundStatus.OPEN


def test_the_progress_endpoint_and_the_polling_page(client_en, staff_1, staff_2, round_1):
    AllocationRound.objects.filter(pk=round_1.pk).update(status=RoundStatus.DRAWING, draw_progress=40)
    progress = _url("allocationround", "progress", round_1)

    response = _login(client_en, staff_1).get(progress)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "drawing", "status_label": "Drawing", "progress": 40, "drawn_at": None}
    page = client_en.get(_url("allocationround", "change", round_1)).content.decode()
    # The polling script is a static file (the Content-Security-Policy allows no inline script).
    assert progress in page and "js/draw-progress.js" in page
    assert 'http-equiv="refresh"' in page  # without JavaScript
    assert _login(client_en, staff_2).get(progress).status_code == 404


def test_the_round_page_counts_applications_by_status(client_en, staff_1, round_1, submitted):
    services.housing_application_reject(application=submitted[1], actor=staff_1, reason="材料不全")

    response = _login(client_en, staff_1).get(_url("allocationround", "change", round_1))

    summary = response.context["round_summary"]
    counts = {label: n for label, n, _url in summary["counts"]}
    with translation.override("en"):
        assert counts[str(HousingApplicationStatus.SUBMITTED.label)] == 1
        assert counts[str(HousingApplicationStatus.REJECTED.label)] == 1
    assert summary["total"] == 2
    assert f"{APPLICATIONS}?round={round_1.pk}&amp;status__exact=rejected" in response.content.decode()
    # The link lists exactly that round's applications.
    assert _result_pks(client_en.get(APPLICATIONS, {"round": round_1.pk})) == {a.pk for a in submitted}


def test_close_the_round_once_no_offer_waits(client_en, staff_1, drawn, submitted):
    _login(client_en, staff_1)

    response = client_en.post(_url("allocationround", "close", drawn))

    assert any("still waiting for an answer" in m for m in _messages(response))
    drawn.refresh_from_db()
    assert drawn.status == RoundStatus.DRAWN

    for offer in HousingOffer.objects.filter(status=OfferStatus.OFFERED):
        services.housing_offer_decline(offer=offer, actor=offer.application.applicant)
    response = client_en.post(_url("allocationround", "close", drawn))

    assert any("is closed" in m for m in _messages(response))
    drawn.refresh_from_db()
    assert drawn.status == RoundStatus.CLOSED


# --- Applications --------------------------------------------------------------------------------


def test_approve_and_reject_from_the_buttons(client_en, staff_1, submitted):
    first, second = submitted
    _login(client_en, staff_1)
    page = client_en.get(_url("housingapplication", "change", first)).content.decode()
    assert _url("housingapplication", "approve", first) in page
    assert _url("housingapplication", "reject", first) in page

    response = client_en.post(_url("housingapplication", "approve", first))

    assert response.status_code == 302
    assert response["Location"] == _url("housingapplication", "change", first)
    assert any("is approved" in m for m in _messages(response))
    first.refresh_from_db()
    assert (first.status, first.reviewed_by) == (HousingApplicationStatus.APPROVED, staff_1)

    # A rejection needs a reason.
    response = client_en.post(_url("housingapplication", "reject", second), {"reason": ""})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    second.refresh_from_db()
    assert second.status == HousingApplicationStatus.SUBMITTED

    response = client_en.post(_url("housingapplication", "reject", second), {"reason": "学位证书无法辨认"})
    assert response.status_code == 302
    second.refresh_from_db()
    assert (second.status, second.status_reason) == (HousingApplicationStatus.REJECTED, "学位证书无法辨认")

    # Decided applications offer no more buttons; a repeated post is refused with a message.
    page = client_en.get(_url("housingapplication", "change", first)).content.decode()
    assert _url("housingapplication", "approve", first) not in page
    assert "This cannot be done" in client_en.get(_url("housingapplication", "approve", first)).content.decode()
    response = client_en.post(_url("housingapplication", "reject", first), {"reason": "x"})
    assert response.status_code == 302 and _messages(response)
    first.refresh_from_db()
    assert first.status == HousingApplicationStatus.APPROVED


def test_review_after_the_draw_started_is_a_message(client_en, clock, staff_1, round_1, submitted):
    AllocationRound.objects.filter(pk=round_1.pk).update(status=RoundStatus.DRAWING)

    response = _login(client_en, staff_1).post(_url("housingapplication", "approve", submitted[0]))

    assert response.status_code == 302
    assert any("can no longer be reviewed" in m for m in _messages(response))


def test_the_application_page_shows_eligibility_documents_and_is_audited(client_en, staff_1, submitted):
    app = submitted[0]
    profile = app.applicant.profile

    page = _login(client_en, staff_1).get(_url("housingapplication", "change", app)).content.decode()

    assert app.reference in page
    assert profile.real_name in page
    assert profile.id_number_masked in page
    assert "✓" in page
    for criterion in app.eligibility["criteria"]:
        assert criterion["message"] in page
    assert 'name="_save"' not in page
    assert "Audit trail" in page
    viewed = AuditEntry.objects.get(action=AuditAction.PII_VIEW)
    assert (viewed.actor, viewed.target) == (staff_1, profile)


@pytest.fixture
def with_document(round_1, district_2):
    """An applicant registered in 涧西 (district 2) applying in 洛龙 (district 1) with the
    degree certificate of their profile."""
    user = make_housing_graduate(district=district_2)
    document = Document.objects.get(owner=user)
    return services.housing_application_submit(
        applicant=user,
        round=round_1,
        unit_types=list(round_1.project.unit_types.all()),
        household_size=1,
        no_home_declared=True,
        documents=[document],
    )


def test_the_application_page_links_the_documents(client_en, staff_1, with_document):
    document = with_document.documents.get()

    page = _login(client_en, staff_1).get(_url("housingapplication", "change", with_document)).content.decode()

    assert reverse("portal:document_download", args=[document.pk]) in page


def test_staff_of_the_projects_district_open_the_applications_documents(client_en, staff_1, with_document):
    document = with_document.documents.get()

    response = _login(client_en, staff_1).get(reverse("portal:document_download", args=[document.pk]))

    assert response.status_code == 200


def test_the_queue_is_searched_by_reference_or_name(client_en, staff_1, submitted):
    first, second = submitted
    _login(client_en, staff_1)

    assert _result_pks(client_en.get(APPLICATIONS, {"q": first.reference})) == {first.pk}
    assert _result_pks(client_en.get(APPLICATIONS, {"q": second.applicant.profile.real_name})) == {second.pk}
    assert _result_pks(client_en.get(APPLICATIONS, {"status__exact": "submitted"})) == {first.pk, second.pk}
    page = client_en.get(APPLICATIONS).content.decode()
    assert first.applicant.profile.real_name not in page  # names are masked in the list


def test_applications_csv_export_is_masked_and_audited(client_en, staff_1, submitted):
    first, second = submitted
    response = _login(client_en, staff_1).post(
        APPLICATIONS, {"action": "export_csv", "_selected_action": [first.pk, second.pk]}
    )

    header, *rows = _csv_rows(response)
    assert header[:5] == ["Reference", "Project", "District", "Round", "Graduate"]
    by_reference = {row[0]: row for row in rows}
    assert set(by_reference) == {first.reference, second.reference}
    name = first.applicant.profile.real_name
    row = by_reference[first.reference]
    assert row[4] == name[0] + "*" * (len(name) - 1)
    assert row[6] == "Waiting for review"
    assert name not in response.content.decode("utf-8-sig")
    export = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert export.actor == staff_1 and export.detail["rows"] == 2


# --- Offers and leases ------------------------------------------------------------------------------


def test_staff_withdraw_an_offer_with_a_reason(client_en, staff_1, drawn):
    offer = HousingOffer.objects.filter(status=OfferStatus.OFFERED).first()
    _login(client_en, staff_1)
    assert (
        _url("housingoffer", "withdraw", offer) in client_en.get(_url("housingoffer", "change", offer)).content.decode()
    )
    assert client_en.post(_url("housingoffer", "withdraw", offer), {"reason": ""}).status_code == 200

    response = client_en.post(_url("housingoffer", "withdraw", offer), {"reason": "房屋漏水，需维修"})

    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.status, offer.status_reason) == (OfferStatus.WITHDRAWN, "房屋漏水，需维修")
    assert offer.unit.state == UnitState.VACANT
    assert offer.application.status == HousingApplicationStatus.DECLINED


def test_renew_a_lease(client_en, staff_1, lease):
    _login(client_en, staff_1)
    page = client_en.get(_url("lease", "change", lease)).content.decode()
    assert _url("lease", "renew", lease) in page and _url("lease", "end", lease) in page
    assert client_en.post(_url("lease", "renew", lease), {"months": "99"}).status_code == 200  # 1 to 60

    response = client_en.post(_url("lease", "renew", lease), {"months": "12"})

    renewal = Lease.objects.get(renewal_of=lease)
    assert response.status_code == 302
    assert response["Location"] == _url("lease", "change", renewal)
    lease.refresh_from_db()
    assert lease.status == LeaseStatus.RENEWED
    assert (renewal.status, renewal.start) == (LeaseStatus.ACTIVE, lease.end)
    # Renewing the old lease again is refused with a message.
    response = client_en.post(_url("lease", "renew", lease), {"months": "12"})
    assert any("Only an active lease" in m for m in _messages(response))
    assert Lease.objects.count() == 2


def test_end_a_lease(client_en, clock, staff_1, lease):
    unit = lease.unit
    _login(client_en, staff_1)
    # Before the lease starts: refused with a message.
    early = {"on": (lease.start - dt.timedelta(days=1)).isoformat(), "reason": LeaseEndReason.EARLY_EXIT}
    response = client_en.post(_url("lease", "end", lease), early)
    assert any("cannot be before the lease starts" in m for m in _messages(response))
    assert client_en.post(_url("lease", "end", lease), {"on": "", "reason": "early_exit"}).status_code == 200

    moved_out = lease.start + dt.timedelta(days=40)
    response = client_en.post(
        _url("lease", "end", lease), {"on": moved_out.isoformat(), "reason": "early_exit", "notes": "钥匙已交还"}
    )

    assert response.status_code == 302
    lease.refresh_from_db()
    unit.refresh_from_db()
    assert (lease.status, lease.ended_on, lease.end_reason, lease.move_out_notes) == (
        LeaseStatus.ENDED,
        moved_out,
        LeaseEndReason.EARLY_EXIT,
        "钥匙已交还",
    )
    assert unit.state == UnitState.VACANT


def test_the_lease_page_lists_rechecks_and_is_audited(client_en, staff_1, lease):
    LeaseRecheck.objects.create(lease=lease, due_on=lease.start + dt.timedelta(days=365))

    response = _login(client_en, staff_1).get(_url("lease", "change", lease))

    assert response.status_code == 200
    assert "Yearly re-checks" in response.content.decode()
    assert AuditEntry.objects.filter(action=AuditAction.PII_VIEW, actor=staff_1).exists()
    assert _result_pks(client_en.get(RECHECKS)) == set(LeaseRecheck.objects.values_list("pk", flat=True))


def test_leases_csv_export(client_en, staff_1, lease):
    response = _login(client_en, staff_1).post(LEASES, {"action": "export_csv", "_selected_action": [lease.pk]})

    header, row = _csv_rows(response)
    assert header[:5] == ["Project", "District", "Unit", "Unit type", "Tenant"]
    assert row[0] == lease.unit.project.name
    assert row[2] == lease.unit.label
    assert row[5:7] == [lease.start.isoformat(), lease.end.isoformat()]
    assert row[10] == "Active"
    assert lease.tenant.profile.real_name not in response.content.decode("utf-8-sig")


# --- Occupancy figures ------------------------------------------------------------------------------


def test_the_occupancy_figures(client_en, staff_1, staff_2, city_staff, lease, project_1, project_2):
    Unit.objects.filter(pk=project_1.units.filter(state=UnitState.VACANT).first().pk).update(
        state=UnitState.MAINTENANCE
    )

    response = _login(client_en, staff_1).get(OCCUPANCY)

    assert response.status_code == 200
    (row,) = response.context["rows"]
    assert (row["total"], row["let"], row["offered"], row["maintenance"], row["vacant"]) == (6, 1, 1, 1, 3)
    assert row["occupancy"] == 17
    assert response.context["total"]["total"] == 6
    (district,) = response.context["by_district"]
    assert (district["district"], district["let"]) == (project_1.district.name, 1)
    page = response.content.decode()
    assert project_1.name in page and project_2.name not in page
    assert "width:16.7%" in page  # the let part of the bar

    header, *rows = _csv_rows(client_en.get(OCCUPANCY_CSV))
    assert header[1] == "Project"
    assert rows == [[project_1.district.name, project_1.name, "Talent apartment", "6", "1", "1", "3", "1", "17"]]

    assert _login(client_en, staff_2).get(OCCUPANCY).context["total"]["let"] == 0
    city = _login(client_en, city_staff).get(OCCUPANCY)
    assert {r["project"].pk for r in city.context["rows"]} == {project_1.pk, project_2.pk}
    assert city.context["total"]["total"] == 8


def test_the_project_list_shows_unit_counts_and_links_the_figures(client_en, staff_1, project_1):
    Unit.objects.filter(pk=project_1.units.first().pk).update(state=UnitState.LET)

    response = _login(client_en, staff_1).get(PROJECTS)

    (project,) = response.context["cl"].result_list
    assert (project.total_units, project.vacant_units) == (6, 5)
    assert OCCUPANCY in response.content.decode()


# --- Query budgets ----------------------------------------------------------------------------------


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx)


def _more_rows(project, n: int, start: int) -> None:
    """n more of everything, written directly (the services are not under test here)."""
    unit_type = UnitType.objects.create(project=project, name=f"型{start}", area=45, monthly_rent=900)
    for i in range(start, start + n):
        round = make_round(project, name=f"第{i}批")
        user = ProfileFactory(district=project.district, complete=True).user
        unit = Unit.objects.create(project=project, unit_type=unit_type, building="9", number=f"{i}", floor=1)
        app = HousingApplication.objects.create(
            round=round, applicant=user, status=HousingApplicationStatus.HOUSED, rank=i, eligibility={}
        )
        offer = HousingOffer.objects.create(
            application=app, unit=unit, status=OfferStatus.ACCEPTED, deadline=timezone.now()
        )
        lease = Lease.objects.create(
            offer=offer,
            unit=unit,
            tenant=user,
            start=timezone.localdate(),
            end=timezone.localdate() + dt.timedelta(days=365),
            monthly_rent=900,
        )
        LeaseRecheck.objects.create(lease=lease, due_on=timezone.localdate())
        HousingProject.objects.create(name=f"项目{i}", kind="talent_apartment", district=project.district, address="x")


@pytest.mark.parametrize(
    "url, params",
    [
        (PROJECTS, {}),
        (UNITS, {}),
        (UNITS, {"state__exact": "vacant"}),
        (ROUNDS, {}),
        (APPLICATIONS, {}),
        (APPLICATIONS, {"status__exact": "housed"}),
        (OFFERS, {}),
        (LEASES, {}),
        (RECHECKS, {}),
        (OCCUPANCY, {}),
    ],
)
@pytest.mark.parametrize("who", ["staff_1", "city_staff"])
def test_query_counts_do_not_grow_with_rows(
    request, client_en, project_1, django_assert_max_num_queries, url, params, who
):
    _login(client_en, request.getfixturevalue(who))
    _more_rows(project_1, 3, start=100)
    budget = _count_queries(client_en, url, params)

    _more_rows(project_1, 12, start=200)
    with django_assert_max_num_queries(budget):
        response = client_en.get(url, params)
    assert response.status_code == 200


def test_staff_add_a_single_unit_of_their_project(client_en, staff_1, project_1, project_2):
    add = reverse("admin:apartments_unit_add")
    _login(client_en, staff_1)
    form = client_en.get(add).context["adminform"].form
    assert set(form.fields["project"].queryset) == {project_1}
    assert [value for value, _label in form.fields["state"].choices if value] == ["vacant", "maintenance"]
    data = {"project": project_1.pk, "unit_type": project_1.unit_types.first().pk, "building": "7", "floor": 1}

    # Another project's unit type is not a choice.
    response = client_en.post(
        add, {**data, "unit_type": project_2.unit_types.first().pk, "number": "101", "state": "vacant"}
    )
    assert response.status_code == 200
    assert client_en.post(add, {**data, "number": "101", "state": "let"}).status_code == 200

    assert client_en.post(add, {**data, "number": "101", "state": "maintenance"}).status_code == 302
    unit = Unit.objects.get(project=project_1, building="7", number="101")
    assert unit.state == UnitState.MAINTENANCE
