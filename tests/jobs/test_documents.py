"""Employers open the CV and the documents an applicant shared with their position, and
nothing else of the applicant's (portal.permissions.register_document_reader)."""

from django.urls import reverse

from jobs import services
from portal.models import Document
from tests.jobs.conftest import pdf_upload


def _download(client, user, document):
    client.force_login(user)
    return client.get(reverse("portal:document_download", args=[document.pk]))


def test_employer_opens_shared_documents_only(client, position, graduate_a, employer_x, employer_y):
    certificate = Document.objects.get(owner=graduate_a, kind="degree_certificate")
    application = services.job_application_submit(
        position=position, applicant=graduate_a, cv_upload=pdf_upload(), shared_document_ids=[certificate.pk]
    )
    unshared = Document.objects.create(
        owner=graduate_a, kind="id_photo", file=certificate.file.name, content_type="image/png", size=1, sha256="0"
    )

    assert _download(client, employer_x, application.cv).status_code == 200
    assert _download(client, employer_x, certificate).status_code == 200
    assert _download(client, employer_x, unshared).status_code == 404
    assert _download(client, employer_y, application.cv).status_code == 404
    assert _download(client, employer_y, certificate).status_code == 404


def test_employer_cannot_open_documents_of_someone_who_did_not_apply(client, position, graduate_b, employer_x):
    certificate = Document.objects.get(owner=graduate_b, kind="degree_certificate")
    assert _download(client, employer_x, certificate).status_code == 404
