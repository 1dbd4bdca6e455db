import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.constants import DocumentKind


def document_path(instance: "Document", filename: str) -> str:
    # The stored name never contains the uploader's file name (it may hold personal data).
    return f"documents/{instance.owner_id}/{uuid.uuid4().hex}.{instance.extension}"


class Document(models.Model):
    """An uploaded file (degree certificate, ID photo, CV, business licence). Its type is
    decided by content, images are re-encoded, and it is served only through a view that
    checks the reader is the owner or staff entitled to review it."""

    EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents", verbose_name=_("owner")
    )
    organisation = models.ForeignKey(
        "portal.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    file = models.FileField(_("file"), upload_to=document_path, max_length=200)
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveIntegerField(_("size in bytes"))
    original_name = models.CharField(_("file name"), max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.original_name})"

    @property
    def extension(self) -> str:
        return self.EXTENSIONS.get(self.content_type, "bin")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
