"""A graduate downloads a copy of all their personal data (PIPL art. 45): the core's part and
every programme's, their own ID number included; another person's data never; the download
is audited."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.constants import AuditAction
from portal.models import AuditEntry
from tests.apartments.conftest import give_interview, housing_apply, make_housing_graduate, make_project, make_round

pytestmark = pytest.mark.django_db
URL = reverse("portal:data_export")


def test_the_export_holds_the_profile_and_every_programme(client, district_1, graduate_b):
    graduate = make_housing_graduate(district=district_1)
    give_interview(graduate, starts_at=timezone.now() + dt.timedelta(days=2))
    housing_apply(graduate, make_round(make_project(district_1)))
    client.force_login(graduate)

    response = client.get(URL)

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="my-data.json"'
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    profile = graduate.profile
    assert data["profile"]["real_name"] == profile.real_name
    assert data["profile"]["id_number"] == profile.reveal_id_number() and len(data["profile"]["id_number"]) == 18
    assert {"youth_stations", "housing", "jobs", "events", "subsidies"} <= set(data)
    assert len(data["housing"]["applications"]) == 1
    assert len(data["jobs"]["interviews"]) == 1
    assert [d["kind"] for d in data["documents"]] == ["degree_certificate"]
    assert graduate_b.email not in response.content.decode()
    assert AuditEntry.objects.filter(actor=graduate, action=AuditAction.EXPORT).count() == 1


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_profile_page_links_to_the_export(client, graduate_a):
    client.force_login(graduate_a)
    assert URL in client.get(reverse("portal:profile")).content.decode()
