"""Uploads: size and count limits, the type decided by content, images re-encoded without
EXIF, hostile files refused with a message (never a 500), and downloads served only to the
owner and the staff who review them."""

import io
import os
import zlib

import pytest
from django.contrib.messages import ERROR, SUCCESS
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import ExifTags, Image

from portal import services
from portal.constants import DocumentKind
from portal.models import Document
from tests.portal.factories import OrganisationFactory, ProfileFactory

pytestmark = pytest.mark.django_db

DEGREE = DocumentKind.DEGREE_CERTIFICATE


# --- Files ---------------------------------------------------------------------------------


def _jpeg(size=(40, 20), *, exif=None, noise=False) -> bytes:
    img = Image.effect_noise(size, 80).convert("RGB") if noise else Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    img.save(out, "JPEG", **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def _png(size=(30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 0, 255)).save(out, "PNG")
    return out.getvalue()


def _exif_with_location() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the camera was turned: rotate 90° to display
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (34.0, 37.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (112.0, 27.0, 0.0)
    return exif


def _pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(out, "PDF")
    return out.getvalue()


def _pdf_with(action: bytes) -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"3 0 obj\n" + action + b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
)


@pytest.fixture(scope="module")
def png_bomb() -> bytes:
    """400 million pixels in about 50 kB: decoding it would take 400 MB of memory or more."""
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG")
    return out.getvalue()


def _plain(text: str) -> str:
    """filesizeformat separates number and unit with a no-break space."""
    return text.replace("\xa0", " ")


def _upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def _stored_files(user) -> list[str]:
    folder = f"documents/{user.pk}"
    return default_storage.listdir(folder)[1] if default_storage.exists(folder) else []


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Each test stores its files in a fresh folder, so "nothing was stored" is checkable."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def client_en(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


# --- Refused by the service ----------------------------------------------------------------


def _refused(owner, upload, *, code):
    with translation.override("en"), pytest.raises(ValidationError) as exc_info:
        services.document_upload(owner=owner, kind=DEGREE, upload=upload)
    assert exc_info.value.code == code
    assert exc_info.value.messages[0]
    assert not Document.objects.filter(owner=owner).exists()
    assert _stored_files(owner) == []
    return _plain(exc_info.value.messages[0])


def test_oversize_file_is_refused_with_the_limit_in_the_message(graduate_a, settings):
    settings.DOCUMENT_MAX_BYTES = 1024

    message = _refused(graduate_a, _upload("big.jpg", _jpeg((200, 200), noise=True)), code="too_large")

    assert "1.0 KB" in message


def test_oversize_file_with_a_lying_size_is_refused(graduate_a, settings):
    """The size the upload claims is not trusted: the bytes read are counted too."""
    settings.DOCUMENT_MAX_BYTES = 1024
    upload = _upload("big.jpg", _jpeg((200, 200), noise=True))
    upload.size = 10

    _refused(graduate_a, upload, code="too_large")


def test_default_limit_message_names_megabytes(graduate_a, settings):
    settings.DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
    upload = _upload("big.jpg", b"\xff\xd8\xff")
    upload.size = 10 * 1024 * 1024 + 1

    assert "10.0 MB" in _refused(graduate_a, upload, code="too_large")


def test_empty_file_is_refused(graduate_a):
    _refused(graduate_a, _upload("empty.jpg", b""), code="empty")


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("photo.jpg", HTML, "image/jpeg"),  # HTML named and declared as a JPEG
        ("drawing.svg", SVG, "image/svg+xml"),
        ("drawing.png", SVG, "image/png"),
        ("cv.docx", b"PK\x03\x04" + b"\x00" * 100, "application/pdf"),
        ("notes.txt", b"just text", "text/plain"),
    ],
)
def test_wrong_type_by_content_is_refused(graduate_a, name, data, content_type):
    message = _refused(graduate_a, _upload(name, data, content_type), code="bad_type")

    assert "JPEG" in message and "PDF" in message


def test_decompression_bomb_is_refused(graduate_a, png_bomb):
    assert len(png_bomb) < 100_000

    _refused(graduate_a, _upload("bomb.png", png_bomb, "image/png"), code="image_bomb")


def test_image_just_over_the_pixel_limit_is_refused(graduate_a, settings):
    settings.DOCUMENT_MAX_PIXELS = 10_000

    _refused(graduate_a, _upload("wide.png", _png((101, 100)), "image/png"), code="image_bomb")


def test_image_at_the_pixel_limit_is_accepted(graduate_a, settings):
    settings.DOCUMENT_MAX_PIXELS = 10_000

    document = services.document_upload(owner=graduate_a, kind=DEGREE, upload=_upload("ok.png", _png((100, 100))))

    assert document.content_type == "image/png"


def test_pixel_limit_does_not_change_pillow_for_everyone(graduate_a, settings, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 123_456_789)
    settings.DOCUMENT_MAX_PIXELS = 10_000

    services.document_upload(owner=graduate_a, kind=DEGREE, upload=_upload("ok.png", _png((50, 50))))

    assert Image.MAX_IMAGE_PIXELS == 123_456_789


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_jpeg_is_refused(graduate_a, cut):
    data = _jpeg((300, 200), noise=True)

    _refused(graduate_a, _upload("cut.jpg", data[: int(len(data) * cut)]), code="image_broken")


def test_truncated_png_is_refused(graduate_a):
    data = _png((200, 200))

    _refused(graduate_a, _upload("cut.png", data[: len(data) // 2], "image/png"), code="image_broken")


def test_jpeg_header_on_garbage_is_refused(graduate_a):
    _refused(graduate_a, _upload("fake.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200), code="image_broken")


def test_png_content_named_jpeg_is_stored_as_png(graduate_a):
    document = services.document_upload(owner=graduate_a, kind=DEGREE, upload=_upload("scan.jpg", _png()))

    assert document.content_type == "image/png"
    assert document.file.name.endswith(".png")


@pytest.mark.parametrize(
    "action",
    [
        b"<< /S /JavaScript /JS (app.alert(1)) >>",
        b"<</S/JavaScript/JS(app.alert(1))>>",
        b"<< /S /J#61vaScript /JS(app.alert(1)) >>",  # a name spelled with #xx escapes
        b"<< /S /Launch /F (cmd.exe) >>",
        b"<< /Names << /EmbeddedFiles 4 0 R >> >>",
    ],
)
def test_pdf_with_active_content_is_refused(graduate_a, action):
    _refused(graduate_a, _upload("form.pdf", _pdf_with(action), "application/pdf"), code="pdf_active")


def test_incomplete_pdf_is_refused(graduate_a):
    data = _pdf()

    _refused(graduate_a, _upload("cut.pdf", data[: len(data) // 2], "application/pdf"), code="pdf_broken")


def test_document_count_is_limited(graduate_a, settings):
    settings.DOCUMENT_MAX_PER_USER = 2
    for n in range(2):
        services.document_upload(owner=graduate_a, kind=DEGREE, upload=_upload(f"{n}.jpg", _jpeg()))

    with pytest.raises(ValidationError) as exc_info:
        services.document_upload(owner=graduate_a, kind=DEGREE, upload=_upload("3.jpg", _jpeg()))

    assert exc_info.value.code == "too_many"
    assert Document.objects.filter(owner=graduate_a).count() == 2


def test_deleting_frees_a_place_and_the_file(graduate_a, settings, django_capture_on_commit_callbacks):
    settings.DOCUMENT_MAX_PER_USER = 1
    document = services.document_upload(owner=graduate_a, kind=DEGREE, upload=_upload("1.jpg", _jpeg()))
    name = document.file.name

    with django_capture_on_commit_callbacks(execute=True):
        services.document_delete(document=document, actor=graduate_a)

    assert not default_storage.exists(name)
    services.document_upload(owner=graduate_a, kind=DEGREE, upload=_upload("2.jpg", _jpeg()))


def test_only_the_owner_deletes(graduate_a, staff_1):
    document = services.document_upload(owner=graduate_a, kind=DEGREE, upload=_upload("1.jpg", _jpeg()))

    with pytest.raises(PermissionDenied):
        services.document_delete(document=document, actor=staff_1)

    assert Document.objects.filter(pk=document.pk).exists()


def test_organisation_document_only_by_a_member(employer_x, employer_y):
    organisation = employer_x.organisations.get()

    with pytest.raises(PermissionDenied):
        services.document_upload(
            owner=employer_y,
            kind=DocumentKind.BUSINESS_LICENCE,
            upload=_upload("l.pdf", _pdf()),
            organisation=organisation,
        )

    assert not organisation.documents.exists()


# --- Stored --------------------------------------------------------------------------------


def test_jpeg_is_stored_re_encoded_without_exif(graduate_a):
    original = _jpeg((40, 20), exif=_exif_with_location())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test file has a location

    document = services.document_upload(
        owner=graduate_a, kind=DocumentKind.ID_PHOTO, upload=_upload("me.jpg", original)
    )

    with document.file.open("rb") as fh:
        stored = fh.read()
    assert stored != original
    assert b"Exif" not in stored
    assert b"PhoneMaker" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert image.size == (20, 40)  # the orientation was applied to the pixels before it was dropped
    assert document.content_type == "image/jpeg"
    assert document.size == len(stored)


def test_png_is_stored_re_encoded_without_exif(graduate_a):
    out = io.BytesIO()
    Image.new("RGB", (30, 30), "blue").save(out, "PNG", exif=_exif_with_location())
    assert b"eXIf" in out.getvalue()

    document = services.document_upload(
        owner=graduate_a, kind=DEGREE, upload=_upload("scan.png", out.getvalue(), "image/png")
    )

    with document.file.open("rb") as fh:
        stored = fh.read()
    assert b"eXIf" not in stored
    assert b"PhoneMaker" not in stored
    assert Image.open(io.BytesIO(stored)).size == (30, 30)


def test_data_appended_to_an_image_is_dropped(graduate_a):
    polyglot = _jpeg() + HTML

    document = services.document_upload(owner=graduate_a, kind=DEGREE, upload=_upload("x.jpg", polyglot))

    with document.file.open("rb") as fh:
        assert b"<script>" not in fh.read()


def test_valid_pdf_is_stored_as_uploaded(graduate_a):
    import hashlib

    data = _pdf()

    document = services.document_upload(
        owner=graduate_a, kind=DocumentKind.CV, upload=_upload("简历.pdf", data, "application/pdf")
    )

    with document.file.open("rb") as fh:
        assert fh.read() == data
    assert document.content_type == "application/pdf"
    assert document.size == len(data)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.original_name == "简历.pdf"


def test_stored_path_does_not_contain_the_original_name(graduate_a):
    document = services.document_upload(
        owner=graduate_a, kind=DocumentKind.ID_PHOTO, upload=_upload("张三-身份证-410302199003071234.jpg", _jpeg())
    )

    name = document.file.name
    assert name.startswith(f"documents/{graduate_a.pk}/")
    assert name.endswith(".jpg")
    assert "张三" not in name
    assert "身份证" not in name
    assert "410302199003071234" not in name
    assert os.path.basename(name) != "upload"


def test_original_name_is_cut_to_its_last_part(graduate_a):
    document = services.document_upload(
        owner=graduate_a, kind=DEGREE, upload=_upload("C:\\Users\\张三\\Desktop\\学位证.jpg", _jpeg())
    )

    assert document.original_name == "学位证.jpg"


# --- Through the profile page ----------------------------------------------------------------


def _post_upload(client, upload, kind=DEGREE):
    response = client.post(reverse("portal:document_upload"), {"kind": kind, "file": upload}, follow=True)
    assert response.redirect_chain == [(reverse("portal:profile"), 302)]
    assert response.status_code == 200
    return response, [(m.level, _plain(str(m))) for m in response.context["messages"]]


@pytest.mark.parametrize(
    ("name", "data", "content_type", "expected"),
    [
        ("photo.jpg", HTML, "image/jpeg", "Only JPEG and PNG images and PDF files are accepted"),
        ("logo.svg", SVG, "image/svg+xml", "Only JPEG and PNG images and PDF files are accepted"),
        ("cut.jpg", _jpeg((300, 200), noise=True)[:600], "image/jpeg", "could not be read"),
        ("form.pdf", _pdf_with(b"<< /S /JavaScript /JS (app.alert(1)) >>"), "application/pdf", "scripts"),
        ("empty.jpg", b"", "image/jpeg", "empty"),
    ],
)
def test_refused_upload_through_the_page_shows_a_message(client_en, graduate_a, name, data, content_type, expected):
    client_en.force_login(graduate_a)

    response, messages = _post_upload(client_en, _upload(name, data, content_type))

    assert len(messages) == 1
    level, text = messages[0]
    assert level == ERROR
    assert expected in text
    assert text in response.content.decode()
    assert not Document.objects.filter(owner=graduate_a).exists()


def test_bomb_through_the_page_shows_a_message(client_en, graduate_a, png_bomb):
    client_en.force_login(graduate_a)

    _response, messages = _post_upload(client_en, _upload("bomb.png", png_bomb, "image/png"))

    assert messages == [(ERROR, "The image is too large in pixels to process.")]


def test_oversize_through_the_page_shows_a_message(client_en, graduate_a, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    client_en.force_login(graduate_a)

    _response, messages = _post_upload(client_en, _upload("big.jpg", _jpeg((200, 200), noise=True)))

    assert messages == [(ERROR, "The file is larger than 1.0 KB.")]


def test_count_limit_through_the_page_shows_a_message(client_en, graduate_a, settings):
    settings.DOCUMENT_MAX_PER_USER = 1
    client_en.force_login(graduate_a)
    _post_upload(client_en, _upload("1.jpg", _jpeg()))

    _response, messages = _post_upload(client_en, _upload("2.jpg", _jpeg()))

    assert messages[0][0] == ERROR
    assert "Delete one before uploading another" in messages[0][1]


def test_valid_upload_through_the_page(client_en, graduate_a):
    client_en.force_login(graduate_a)

    response, messages = _post_upload(client_en, _upload("学位证.jpg", _jpeg(exif=_exif_with_location())))

    assert messages == [(SUCCESS, "The document has been uploaded.")]
    document = Document.objects.get(owner=graduate_a)
    assert document.kind == DEGREE
    assert reverse("portal:document_download", args=[document.pk]) in response.content.decode()
    # The degree certificate was the last thing missing from the profile.
    assert response.context["completeness"].complete


def test_upload_needs_a_login(client, graduate_a):
    response = client.post(reverse("portal:document_upload"), {"kind": DEGREE, "file": _upload("a.jpg", _jpeg())})

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not Document.objects.exists()


def test_upload_to_another_members_organisation_is_404(client_en, employer_x, employer_y):
    organisation = employer_x.organisations.get()
    client_en.force_login(employer_y)

    response = client_en.post(
        reverse("portal:organisation_document_upload", args=[organisation.pk]),
        {"kind": DocumentKind.BUSINESS_LICENCE, "file": _upload("l.pdf", _pdf(), "application/pdf")},
    )

    assert response.status_code == 404
    assert not organisation.documents.exists()


# --- Download ---------------------------------------------------------------------------------


@pytest.fixture
def photo(graduate_a):
    return services.document_upload(owner=graduate_a, kind=DocumentKind.ID_PHOTO, upload=_upload("me.jpg", _jpeg()))


@pytest.fixture
def licence(employer_x):
    return services.document_upload(
        owner=employer_x,
        kind=DocumentKind.BUSINESS_LICENCE,
        upload=_upload("营业执照.pdf", _pdf(), "application/pdf"),
        organisation=employer_x.organisations.get(),
    )


def _download(client, document):
    return client.get(reverse("portal:document_download", args=[document.pk]))


def test_owner_downloads_with_safe_headers(client, graduate_a, photo):
    client.force_login(graduate_a)

    response = _download(client, photo)

    assert response.status_code == 200
    with photo.file.open("rb") as fh:
        assert b"".join(response.streaming_content) == fh.read()
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]
    assert "me.jpg" not in response.get("Content-Disposition", "")


def test_pdf_downloads_as_an_attachment(client, employer_x, licence):
    client.force_login(employer_x)

    response = _download(client, licence)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"document-{licence.pk}.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("reader", "status"),
    [
        ("graduate_a", 200),  # the owner
        ("graduate_b", 404),
        ("employer_x", 404),
        ("staff_1", 200),  # staff of the district of the owner's profile
        ("staff_2", 404),
        ("city_staff", 200),
    ],
)
def test_who_may_download_a_graduates_document(client, photo, request, reader, status):
    client.force_login(request.getfixturevalue(reader))

    assert _download(client, photo).status_code == status


@pytest.mark.parametrize(
    ("reader", "status"),
    [
        ("employer_x", 200),  # the member who uploaded it
        ("employer_y", 404),
        ("graduate_a", 404),
        ("staff_1", 200),  # staff of the organisation's district
        ("staff_2", 404),
        ("city_staff", 200),
    ],
)
def test_who_may_download_an_organisation_document(client, licence, request, reader, status):
    client.force_login(request.getfixturevalue(reader))

    assert _download(client, licence).status_code == status


def test_anonymous_download_goes_to_the_login_page(client, photo):
    response = _download(client, photo)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_staff_of_the_district_the_profile_moved_to(client, photo, graduate_a, district_2, staff_1, staff_2):
    graduate_a.profile.district = district_2
    graduate_a.profile.save()

    client.force_login(staff_2)
    assert _download(client, photo).status_code == 200
    client.force_login(staff_1)
    assert _download(client, photo).status_code == 404


def test_document_of_a_user_without_a_district_only_for_city_staff(client, staff_1, city_staff):
    owner = ProfileFactory(district=None).user
    document = services.document_upload(owner=owner, kind=DEGREE, upload=_upload("a.jpg", _jpeg()))

    client.force_login(staff_1)
    assert _download(client, document).status_code == 404
    client.force_login(city_staff)
    assert _download(client, document).status_code == 200


def test_unknown_document_is_404(client, graduate_a):
    client.force_login(graduate_a)

    assert client.get(reverse("portal:document_download", args=[999999])).status_code == 404


def test_document_whose_file_is_gone_is_404(client, graduate_a, photo):
    default_storage.delete(photo.file.name)
    client.force_login(graduate_a)

    assert _download(client, photo).status_code == 404


def test_files_are_not_under_the_static_path(settings, photo):
    assert not photo.file.path.startswith(str(settings.STATIC_ROOT))
    assert settings.MEDIA_URL not in {"/static/", "/media/"}


def test_organisation_factory_member_gets_no_access_to_other_organisation_docs(client, district_1, licence):
    other = OrganisationFactory(district=district_1)
    client.force_login(other.memberships.get().user)

    assert _download(client, licence).status_code == 404


def _pdf_with_object_stream(objects: bytes, *, filters: bytes = b"/FlateDecode", compress=zlib.compress) -> bytes:
    """A PDF 1.5 whose objects sit compressed in an object stream, as modern writers save them."""
    body = compress(objects)
    return (
        b"%PDF-1.5\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        + b"5 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Length "
        + str(len(body)).encode()
        + b" /Filter "
        + filters
        + b" >>\nstream\n"
        + body
        + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


@pytest.mark.parametrize(
    "objects",
    [
        b"3 0 << /S /JavaScript /JS (app.alert(1)) >>",
        b"3 0 <</S/J#61vaScript/JS(app.alert(1))>>",
        b"3 0 << /Names << /EmbeddedFiles 4 0 R >> >>",
    ],
)
def test_active_content_hidden_in_a_compressed_object_stream_is_refused(graduate_a, objects):
    _refused(graduate_a, _upload("form.pdf", _pdf_with_object_stream(objects), "application/pdf"), code="pdf_active")


def test_a_compressed_object_stream_without_active_content_is_accepted(graduate_a):
    data = _pdf_with_object_stream(b"3 0 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    document = services.document_upload(
        owner=graduate_a, kind=DocumentKind.CV, upload=_upload("cv.pdf", data, "application/pdf")
    )
    assert document.content_type == "application/pdf"


@pytest.mark.parametrize(
    ("filters", "compress"),
    [
        pytest.param(b"[/ASCIIHexDecode /FlateDecode]", lambda b: zlib.compress(b).hex().encode(), id="chained"),
        pytest.param(b"/FlateDecode", lambda b: zlib.compress(b"\0" * (40 * 1024 * 1024)), id="zip-bomb"),
    ],
)
def test_an_object_stream_that_cannot_be_checked_is_refused(graduate_a, filters, compress):
    data = _pdf_with_object_stream(b"3 0 << >>", filters=filters, compress=compress)
    _refused(graduate_a, _upload("odd.pdf", data, "application/pdf"), code="pdf_unchecked")
