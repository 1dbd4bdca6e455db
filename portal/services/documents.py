from __future__ import annotations

import hashlib
import io
import re
import warnings
import zlib

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from portal.models import Document, Organisation, User

# PDF names of active content. A name ends at white space or a delimiter ("/JS(...)" is as
# valid as "/JS (...)"), and may spell any character as #xx ("/J#61vaScript").
_PDF_FORBIDDEN = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia)(?=[\s()<>\[\]{}/%]|$)")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def sniff_content_type(head: bytes) -> str | None:
    """Decide the type from the first bytes, never from the name or the browser's claim."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def image_reencode(data: bytes, content_type: str, *, max_size: tuple[int, int] | None = None) -> bytes:
    """Decode fully and save again: drops EXIF (location, device) and anything appended to
    the image; refuses decompression bombs and truncated files. ``max_size`` shrinks it to
    fit (a thumbnail for public pictures such as station photos and event covers)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                # Opening reads only the header; refuse before decoding a single pixel. The
                # limit is checked here rather than by setting Pillow's process-wide
                # Image.MAX_IMAGE_PIXELS, which would change every other caller of Pillow.
                if img.width * img.height > settings.DOCUMENT_MAX_PIXELS:
                    raise Image.DecompressionBombError(f"{img.width}x{img.height} pixels")
                fmt = img.format
                img.load()
                img = ImageOps.exif_transpose(img)
                if max_size:
                    img.thumbnail(max_size)
                out = io.BytesIO()
                if content_type == "image/jpeg" and fmt == "JPEG":
                    img.convert("RGB").save(out, format="JPEG", quality=88, optimize=True)
                elif content_type == "image/png" and fmt == "PNG":
                    if img.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                        img = img.convert("RGBA")
                    img.save(out, format="PNG", optimize=True)
                else:
                    raise ValidationError(_("The file is not a valid JPEG or PNG image."), code="bad_image")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError(_("The image is too large in pixels to process."), code="image_bomb") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            _("The image could not be read; it may be damaged or incomplete. Please upload it again."),
            code="image_broken",
        ) from exc
    return out.getvalue()


# An object stream (PDF 1.5+) holds objects compressed, where a plain search cannot see
# their names: "<< /Type /ObjStm ... /Filter /FlateDecode >> stream ... endstream".
_PDF_STREAM = re.compile(rb"<<((?:(?!<<|>>).|<<(?:(?!<<|>>).)*>>)*?)>>\s*stream\r?\n", re.DOTALL)
_PDF_OBJECT_STREAM_MAX = 32 * 1024 * 1024
_PDF_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)")


def _pdf_names(data: bytes) -> bytes:
    return _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)


def _pdf_unchecked() -> ValidationError:
    return ValidationError(
        _("This PDF uses a compression the portal cannot check. Please save it again as a standard PDF."),
        code="pdf_unchecked",
    )


def _pdf_object_streams(data: bytes):
    """The inflated contents of the PDF's object streams (FlateDecode, the only filter
    writers use for them). Image and page-content streams are not inflated: active content
    can only be named in dictionaries, and dictionaries live in objects or object streams."""
    for match in _PDF_STREAM.finditer(data):
        dictionary = _pdf_names(match.group(1))
        if b"/ObjStm" not in dictionary or b"/Filter" not in dictionary:
            continue  # not an object stream, or one stored plain (already searched)
        filters = _PDF_FILTER.search(dictionary)
        if filters is None or filters.group(1).strip(b"[] \t\r\n") != b"/FlateDecode":
            # An object stream we cannot read is one we cannot vouch for.
            raise _pdf_unchecked()
        end = data.find(b"endstream", match.end())
        raw = data[match.end() : end if end != -1 else len(data)]
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(raw, _PDF_OBJECT_STREAM_MAX)
        except zlib.error as exc:
            raise ValidationError(
                _("The PDF file is incomplete or damaged. Please upload it again."), code="pdf_broken"
            ) from exc
        if inflater.unconsumed_tail:  # larger than any honest object stream: a zip bomb
            raise _pdf_unchecked()
        yield inflated


def _check_pdf(data: bytes) -> None:
    if b"%%EOF" not in data[-1024:]:
        raise ValidationError(_("The PDF file is incomplete or damaged. Please upload it again."), code="pdf_broken")
    active = ValidationError(
        _("PDF files with scripts, attachments or embedded media are not accepted."), code="pdf_active"
    )
    if _PDF_FORBIDDEN.search(_pdf_names(data)):
        raise active
    for objects in _pdf_object_streams(data):
        if _PDF_FORBIDDEN.search(_pdf_names(objects)):
            raise active


def document_upload(
    *, owner: User, kind: str, upload: UploadedFile, organisation: Organisation | None = None
) -> Document:
    """Store an uploaded document after checking its size, the owner's document count and
    its real type (JPEG, PNG or PDF by content). Images are re-encoded."""
    max_bytes = settings.DOCUMENT_MAX_BYTES
    too_large = ValidationError(
        _("The file is larger than %(limit)s.") % {"limit": filesizeformat(max_bytes)}, code="too_large"
    )
    if upload.size is None or upload.size > max_bytes:
        raise too_large
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if Document.objects.filter(owner=owner).count() >= settings.DOCUMENT_MAX_PER_USER:
        raise ValidationError(
            _("You already have %(n)d documents. Delete one before uploading another.")
            % {"n": settings.DOCUMENT_MAX_PER_USER},
            code="too_many",
        )
    if organisation is not None and not organisation.memberships.filter(user=owner).exists():
        raise PermissionDenied(_("You are not a member of this organisation."))
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_large
    content_type = sniff_content_type(data[:16])
    if content_type is None:
        raise ValidationError(
            _("Only JPEG and PNG images and PDF files are accepted; this file is none of them."),
            code="bad_type",
        )
    if content_type.startswith("image/"):
        data = image_reencode(data, content_type)
    else:
        _check_pdf(data)
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1][:100]
    with transaction.atomic():
        document = Document(
            owner=owner,
            organisation=organisation,
            kind=kind,
            content_type=content_type,
            size=len(data),
            original_name=name,
            sha256=hashlib.sha256(data).hexdigest(),
        )
        document.file.save("upload", ContentFile(data), save=False)
        document.save()
    return document


def document_delete(*, document: Document, actor: User) -> None:
    if document.owner_id != actor.pk:
        raise PermissionDenied(_("Only the owner can delete a document."))
    storage, name = document.file.storage, document.file.name
    document.delete()
    transaction.on_commit(lambda: storage.delete(name))
