"""HTML pages of the portal core: sign-in walls, language, the profile and its completeness,
organisations, the inbox and its query budget, and the health probe."""

import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from PIL import Image

from portal import services
from portal.celery import app as celery_app
from portal.constants import DocumentKind, OrganisationStatus
from portal.models import ApplicantProfile, Consent, District, Document, Notification, Organisation
from tests.portal.factories import (
    NotificationFactory,
    OrganisationFactory,
    UserFactory,
    make_credit_code,
    make_id_number,
)

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")


def zh(message: str) -> str:
    """``message`` as a Chinese reader sees it (the portal's default language)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def png_upload(name="degree.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def profile_post(district: District, **overrides):
    data = {
        "real_name": "李雷",
        "id_number": make_id_number(),
        "phone": "13912345678",
        "education_level": "bachelor",
        "school": "河南科技大学",
        "major": "机械设计制造及其自动化",
        "graduation_date": "2025-06-30",
        "hukou_province": "河南省",
        "hukou_city": "郑州市",
        "district": str(district.pk),
        "current_employer": "洛阳一拖",
        "works_in_luoyang": "on",
    }
    data.update(overrides)
    return data


def organisation_post(district: District, **overrides):
    data = {
        "name": "洛阳智能装备有限公司",
        "credit_code": make_credit_code(),
        "kind": "private",
        "district": str(district.pk),
        "industry": "robots",
        "size": "medium",
        "address": "洛阳市涧西区建设路 100 号",
        "contact_name": "赵经理",
        "contact_phone": "0379-62345678",
        "contact_email": "hr@example.com",
        "description": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def own_objects(employer_x):
    """An organisation and a document of employer X, for the pages that show one."""
    org = employer_x.organisations.get()
    document = services.document_upload(owner=employer_x, kind=DocumentKind.CV, upload=png_upload())
    return {"org": org.pk, "document": document.pk}


# --- who sees which page -------------------------------------------------------------------

SIGNED_IN_PAGES = [
    ("portal:profile", None),
    ("portal:inbox", None),
    ("portal:organisation_list", None),
    ("portal:organisation_create", None),
    ("portal:organisation_detail", "org"),
    ("portal:document_download", "document"),
]
POST_ONLY = [
    ("portal:consent", None),
    ("portal:document_upload", None),
    ("portal:document_delete", "document"),
    ("portal:inbox_mark_read", None),
    ("portal:inbox_preferences", None),
    ("portal:organisation_document_upload", "org"),
]


def url_of(name, arg, objects):
    return reverse(name, args=[objects[arg]] if arg else [])


@pytest.mark.parametrize(("name", "arg"), SIGNED_IN_PAGES + POST_ONLY)
def test_anonymous_visitors_are_sent_to_sign_in(client, own_objects, name, arg):
    url = url_of(name, arg, own_objects)

    response = client.post(url) if (name, arg) in POST_ONLY else client.get(url)

    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next={url}"


@pytest.mark.parametrize(("name", "arg"), SIGNED_IN_PAGES)
def test_signed_in_members_see_every_page(client, employer_x, own_objects, name, arg):
    client.force_login(employer_x)

    response = client.get(url_of(name, arg, own_objects))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("name", "arg"), [("portal:organisation_detail", "org"), ("portal:document_download", "document")]
)
def test_another_users_object_answers_404(client, graduate_a, employer_y, own_objects, name, arg):
    url = url_of(name, arg, own_objects)

    for user in (graduate_a, employer_y):
        client.force_login(user)
        assert client.get(url).status_code == 404


def test_another_users_organisation_cannot_be_changed(client, graduate_a, employer_x):
    org = employer_x.organisations.get()
    client.force_login(graduate_a)

    edit = client.post(
        reverse("portal:organisation_detail", args=[org.pk]), organisation_post(org.district, name="改名")
    )
    upload = client.post(
        reverse("portal:organisation_document_upload", args=[org.pk]),
        {"kind": DocumentKind.BUSINESS_LICENCE, "file": png_upload()},
    )

    assert edit.status_code == 404
    assert upload.status_code == 404
    org.refresh_from_db()
    assert org.name != "改名"
    assert not org.documents.exists()


def test_post_only_views_refuse_get(client, graduate_a):
    client.force_login(graduate_a)

    for name in ("portal:consent", "portal:document_upload", "portal:inbox_mark_read", "portal:inbox_preferences"):
        assert client.get(reverse(name)).status_code == 405


def test_the_home_page_is_public(client):
    response = client.get("/")

    assert response.status_code == 200
    assert reverse("account_signup").encode() in response.content


# --- language ------------------------------------------------------------------------------


def test_the_home_page_is_in_chinese_by_default(client):
    response = client.get("/")

    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert zh("Luoyang welcomes young talent") in html
    assert response.headers["Content-Language"] == "zh-hans"


def test_switching_to_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert response.url == "/"
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Luoyang welcomes young talent" in html
    # ... and back to Chinese.
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in client.get("/").content.decode()


def test_the_page_offers_a_switch_to_the_other_language(client):
    html = client.get("/").content.decode()

    assert 'action="/i18n/setlang/"' in html
    assert 'name="language" value="en"' in html


# --- profile ---------------------------------------------------------------------------------


def test_an_invalid_id_number_re_renders_the_form_and_keeps_what_was_entered(client, district_1):
    user = UserFactory()
    client.force_login(user)
    data = profile_post(district_1, id_number="410302200002301234", school="洛阳理工学院", major="软件工程")

    response = client.post(reverse("portal:profile"), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["id_number"]
    html = response.content.decode()
    assert form.errors["id_number"][0] in html
    for value in ("李雷", "洛阳理工学院", "软件工程", "2025-06-30", "郑州市", "洛阳一拖"):
        assert f'value="{value}"' in html
    assert 'value="410302200002301234"' in html  # the owner can correct the typing error
    profile = ApplicantProfile.objects.get(user=user)
    assert profile.real_name == ""
    assert not profile.has_id_number


def test_a_duplicate_id_number_re_renders_the_form_with_a_message(client, graduate_a, district_1):
    taken = graduate_a.profile.reveal_id_number()
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("portal:profile"), profile_post(district_1, id_number=taken, real_name="韩梅梅"))

    assert response.status_code == 200
    errors = response.context["form"].errors["id_number"]
    assert errors == [
        zh("This ID number is already registered to another account. If it is yours, contact the service desk.")
    ]
    assert 'value="韩梅梅"' in response.content.decode()
    assert ApplicantProfile.objects.get(user=user).real_name == ""


@pytest.mark.parametrize("bad_phone", ["12345", "+1 650 555 0100"])
def test_an_invalid_phone_is_an_error_not_a_crash(client, district_1, bad_phone):
    client.force_login(UserFactory())

    response = client.post(reverse("portal:profile"), profile_post(district_1, phone=bad_phone))

    assert response.status_code == 200
    assert response.context["form"].errors["phone"]


def test_saving_the_profile_stores_the_id_number_encrypted_and_shows_it_masked(client, district_1):
    user = UserFactory()
    client.force_login(user)
    data = profile_post(district_1)

    response = client.post(reverse("portal:profile"), data)

    assert response.status_code == 302
    assert response.url == reverse("portal:profile")
    profile = ApplicantProfile.objects.get(user=user)
    assert profile.reveal_id_number() == data["id_number"]
    assert profile.phone == "13912345678"
    page = client.get(reverse("portal:profile")).content.decode()
    assert profile.id_number_masked in page
    assert data["id_number"] not in page


def test_completeness_reaches_100_percent(client, district_1):
    user = UserFactory()
    client.force_login(user)

    empty = client.get(reverse("portal:profile")).context["completeness"]
    assert empty.percent < 20

    client.post(reverse("portal:profile"), profile_post(district_1))
    after_fields = client.get(reverse("portal:profile")).context["completeness"]
    assert after_fields.percent == 82  # 9 of 11: the certificate and the consent are missing
    assert len(after_fields.missing) == 2

    upload = client.post(
        reverse("portal:document_upload"), {"kind": DocumentKind.DEGREE_CERTIFICATE, "file": png_upload()}
    )
    assert upload.status_code == 302
    assert Document.objects.filter(owner=user, kind=DocumentKind.DEGREE_CERTIFICATE).exists()

    consent = client.post(reverse("portal:consent"), {"agree": "on"})
    assert consent.status_code == 302
    assert Consent.objects.filter(user=user, withdrawn_at__isnull=True).exists()

    response = client.get(reverse("portal:profile"))
    completeness = response.context["completeness"]
    assert completeness.percent == 100
    assert completeness.missing == []
    assert re.search(r'data-testid="completeness">\s*100%', response.content.decode())


def test_consent_without_the_tick_is_refused(client, graduate_a):
    Consent.objects.filter(user=graduate_a).delete()
    client.force_login(graduate_a)

    response = client.post(reverse("portal:consent"), {}, follow=True)

    assert not Consent.objects.filter(user=graduate_a).exists()
    assert zh("Please tick the box to give your consent.") in response.content.decode()


def test_withdrawing_consent_lowers_completeness(client, graduate_a):
    client.force_login(graduate_a)

    client.post(reverse("portal:consent"), {"withdraw": "1"})

    assert not Consent.objects.filter(user=graduate_a, withdrawn_at__isnull=True).exists()
    completeness = client.get(reverse("portal:profile")).context["completeness"]
    assert zh("Consent to processing personal information") in completeness.missing


# --- organisations ---------------------------------------------------------------------------


def test_an_invalid_credit_code_is_shown_on_the_registration_page(client, graduate_a, district_1):
    client.force_login(graduate_a)

    response = client.post(reverse("portal:organisation_create"), organisation_post(district_1, credit_code="123"))

    assert response.status_code == 200
    errors = response.context["form"].errors["credit_code"]
    assert errors == [zh("A unified social credit code has 18 characters.")]
    assert errors[0] in response.content.decode()
    assert 'value="洛阳智能装备有限公司"' in response.content.decode()
    assert not Organisation.objects.exists()


def test_a_duplicate_credit_code_is_shown_on_the_registration_page(client, graduate_a, employer_x, district_1):
    taken = employer_x.organisations.get().credit_code
    client.force_login(graduate_a)

    response = client.post(reverse("portal:organisation_create"), organisation_post(district_1, credit_code=taken))

    assert response.status_code == 200
    assert response.context["form"].errors["credit_code"] == [
        zh("An organisation with this unified social credit code is already registered.")
    ]
    assert Organisation.objects.count() == 1


def test_registration_leads_to_a_pending_organisation(client, graduate_a, district_2):
    client.force_login(graduate_a)

    response = client.post(reverse("portal:organisation_create"), organisation_post(district_2), follow=True)

    org = Organisation.objects.get()
    assert response.redirect_chain == [(reverse("portal:organisation_detail", args=[org.pk]), 302)]
    assert org.status == OrganisationStatus.PENDING
    assert org.district == district_2
    assert org.memberships.get().user == graduate_a
    html = response.content.decode()
    assert 'data-testid="org-status">' in html
    assert f'data-testid="org-status">{org.get_status_display()}<' in html
    assert response.context["organisation"] == org
    # The organisation is listed on the member's page.
    listing = client.get(reverse("portal:organisation_list"))
    assert list(listing.context["organisations"]) == [org]


def test_a_rejected_organisation_is_resubmitted_by_saving(client, employer_x, staff_1):
    org = employer_x.organisations.get()
    services.organisation_reject(organisation=org, actor=staff_1, reason="营业执照不清晰")
    client.force_login(employer_x)

    page = client.get(reverse("portal:organisation_detail", args=[org.pk]))
    assert "营业执照不清晰" in page.content.decode()
    response = client.post(
        reverse("portal:organisation_detail", args=[org.pk]),
        organisation_post(org.district, credit_code=org.credit_code, name="洛阳测试企业（更正）"),
    )

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.status == OrganisationStatus.PENDING
    assert org.name == "洛阳测试企业（更正）"


def test_a_verified_organisation_cannot_be_edited(client, district_1):
    org = OrganisationFactory(verified=True, district=district_1)
    member = org.memberships.get().user
    client.force_login(member)

    response = client.post(reverse("portal:organisation_detail", args=[org.pk]), organisation_post(district_1))

    assert response.status_code == 403
    assert Organisation.objects.get(pk=org.pk).name == org.name


# --- inbox -----------------------------------------------------------------------------------


def unread_badge(html: str) -> str | None:
    match = re.search(r'<span class="badge"[^>]*>\s*(\d+)\s*</span>', html)
    return match.group(1) if match else None


def test_the_header_shows_the_unread_count(client, graduate_a, graduate_b):
    NotificationFactory.create_batch(3, user=graduate_a)
    NotificationFactory.create_batch(2, user=graduate_b)
    client.force_login(graduate_a)

    assert unread_badge(client.get("/").content.decode()) == "3"
    assert unread_badge(client.get(reverse("portal:inbox")).content.decode()) == "3"

    client.post(reverse("portal:inbox_mark_read"))

    assert unread_badge(client.get("/").content.decode()) is None


def test_no_unread_badge_for_anonymous_visitors(client):
    assert unread_badge(client.get("/").content.decode()) is None


def test_the_inbox_lists_only_my_messages(client, graduate_a, graduate_b):
    mine = NotificationFactory(user=graduate_a, title="我的消息")
    NotificationFactory(user=graduate_b, title="别人的消息")
    client.force_login(graduate_a)

    response = client.get(reverse("portal:inbox"))

    assert list(response.context["page"]) == [mine]
    html = response.content.decode()
    assert "我的消息" in html
    assert "别人的消息" not in html


def test_marking_one_message_read(client, graduate_a, graduate_b):
    first, second = NotificationFactory.create_batch(2, user=graduate_a)
    theirs = NotificationFactory(user=graduate_b)
    client.force_login(graduate_a)

    client.post(reverse("portal:inbox_mark_read"), {"id": str(first.pk)})
    client.post(reverse("portal:inbox_mark_read"), {"id": str(theirs.pk)})

    assert Notification.objects.filter(read_at__isnull=False).get() == first
    assert unread_badge(client.get("/").content.decode()) == "1"
    second.refresh_from_db()
    assert second.read_at is None


def test_saving_notification_preferences(client, graduate_a):
    client.force_login(graduate_a)

    response = client.post(reverse("portal:inbox_preferences"), {"email": "on"})

    assert response.status_code == 302
    preference = graduate_a.notification_preference
    assert preference.email is True
    assert preference.sms is False


def inbox_queries(client, rows):
    user = UserFactory()
    NotificationFactory.create_batch(rows, user=user)
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("portal:inbox"))
    assert response.status_code == 200
    assert len(response.context["page"]) == min(rows, 20)
    return len(ctx.captured_queries)


def test_the_inbox_query_count_does_not_grow_with_messages(client, django_assert_max_num_queries):
    few = inbox_queries(client, 3)
    many = inbox_queries(client, 40)

    assert few == many
    with django_assert_max_num_queries(7):
        client.get(reverse("portal:inbox"))
    with django_assert_max_num_queries(7):
        client.get(reverse("portal:inbox") + "?page=2")


# --- health probe ---------------------------------------------------------------------------


def test_healthz_answers_200_with_json_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_healthz_answers_503_when_the_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "checks": {"database": "error"}}


@pytest.fixture
def broker_at(settings):
    """Point healthz at a broker as a deployment with CELERY_BROKER_URL would."""
    saved = celery_app.conf.broker_url
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def point(url):
        celery_app.conf.broker_url = url

    yield point
    celery_app.conf.broker_url = saved


def test_healthz_answers_503_when_the_broker_is_unreachable(client, broker_at):
    broker_at("redis://127.0.0.1:1/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "checks": {"database": "ok", "broker": "error"}}


@pytest.mark.redis
def test_healthz_checks_a_reachable_broker(client, broker_at):
    import os

    broker_at(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_healthz_is_get_only(client):
    assert client.post("/healthz").status_code == 405


def test_unknown_profile_fields_are_ignored(client, district_1):
    # A forged form cannot set the derived or encrypted fields.
    user = UserFactory()
    client.force_login(user)
    data = profile_post(district_1, id_number="")
    data.update({"birth_date": "1970-01-01", "gender": "male", "id_number_hash": "x", "user": "1"})

    client.post(reverse("portal:profile"), data)

    profile = ApplicantProfile.objects.get(user=user)
    assert profile.birth_date is None
    assert profile.gender == ""
    assert profile.id_number_hash is None
    assert profile.user == user


def test_the_profile_page_of_a_new_user_prefills_the_phone(client):
    user = UserFactory(phone="+8613700001111")
    client.force_login(user)

    response = client.get(reverse("portal:profile"))

    assert response.context["form"].initial["phone"] == "13700001111"
    assert ApplicantProfile.objects.filter(user=user).count() == 1


def test_the_organisation_page_has_no_repeated_ids_and_uploads_with_its_own_labels(client, employer_x):
    """The details form and the upload form both have a "kind" field: their ids must differ, so
    each label points at its own field (the upload's "kind" label pointed at the ownership
    select), and the upload still posts the field names the upload view reads."""
    org = employer_x.organisations.get()
    client.force_login(employer_x)

    html = client.get(reverse("portal:organisation_detail", args=[org.pk])).content.decode()

    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert 'for="id_kind"' in html and 'for="id_document_kind"' in html
    assert re.search(r'<select[^>]*name="kind"[^>]*id="id_document_kind"', html)
    response = client.post(
        reverse("portal:organisation_document_upload", args=[org.pk]),
        {"kind": DocumentKind.BUSINESS_LICENCE, "file": png_upload("licence.png")},
    )
    assert response.status_code == 302
    assert list(org.documents.values_list("kind", flat=True)) == [DocumentKind.BUSINESS_LICENCE]
