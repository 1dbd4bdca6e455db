"""Fixtures of the jobs tests. The shared role fixtures are refined here: the graduates'
profiles also get the degree certificate the completeness check asks for, and the
employers' organisations are verified by city staff (through the service)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from portal import services as portal_services
from portal.constants import DocumentKind
from portal.models import Organisation

# A minimal well-formed PDF: the header the upload sniffs and the end marker it checks.
PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def png_upload(name: str = "degree.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf_upload(name: str = "cv.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def add_degree_certificate(user):
    return portal_services.document_upload(owner=user, kind=DocumentKind.DEGREE_CERTIFICATE, upload=png_upload())


@pytest.fixture
def graduate_a(graduate_a):
    add_degree_certificate(graduate_a)
    return graduate_a


@pytest.fixture
def graduate_b(graduate_b):
    add_degree_certificate(graduate_b)
    return graduate_b


def _verified_organisation(user, city_staff) -> Organisation:
    org = Organisation.objects.get(memberships__user=user)
    portal_services.organisation_verify(organisation=org, actor=city_staff)
    org.refresh_from_db()
    return org


@pytest.fixture
def employer_x(employer_x, city_staff):
    _verified_organisation(employer_x, city_staff)
    return employer_x


@pytest.fixture
def employer_y(employer_y, city_staff):
    _verified_organisation(employer_y, city_staff)
    return employer_y


@pytest.fixture
def org_x(employer_x):
    return Organisation.objects.get(memberships__user=employer_x)


@pytest.fixture
def org_y(employer_y):
    return Organisation.objects.get(memberships__user=employer_y)


@pytest.fixture
def position(org_x):
    """A published position of employer X in district 1 (洛龙区)."""
    from tests.jobs.factories import PositionFactory

    return PositionFactory(organisation=org_x, published=True, title="轴承工艺工程师")


@pytest.fixture
def position_y(org_y):
    from tests.jobs.factories import PositionFactory

    return PositionFactory(organisation=org_y, published=True, title="数据分析师")


@pytest.fixture
def client_en(client):
    """Pages in English, so assertions do not depend on the state of the .po files."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
