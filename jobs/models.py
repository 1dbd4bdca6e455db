from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from jobs.constants import ApplicationStatus, PositionKind, PositionStatus, RejectionReason
from portal.constants import EducationLevel, Industry


class TraineeshipBase(models.Model):
    """An organisation designated by staff as a traineeship base (见习基地, POLICY item 5);
    it has a public catalogue of its traineeship positions."""

    organisation = models.OneToOneField(
        "portal.Organisation", on_delete=models.CASCADE, related_name="traineeship_base", verbose_name=_("organisation")
    )
    description = models.TextField(_("catalogue introduction"), blank=True)
    active = models.BooleanField(_("active"), default=True, db_index=True)
    designated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("designated by"),
    )
    designated_at = models.DateTimeField(_("designated"), auto_now_add=True)

    class Meta:
        verbose_name = _("traineeship base")
        verbose_name_plural = _("traineeship bases")

    def __str__(self) -> str:
        return str(self.organisation)


class Position(models.Model):
    """A job, internship, traineeship or practice position posted by a verified employer and
    published after staff review."""

    Status = PositionStatus

    organisation = models.ForeignKey(
        "portal.Organisation", on_delete=models.CASCADE, related_name="positions", verbose_name=_("organisation")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=PositionKind.choices, db_index=True)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"))
    district = models.ForeignKey(
        "portal.District", on_delete=models.PROTECT, related_name="positions", verbose_name=_("district")
    )
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, db_index=True)
    education_level = models.CharField(
        _("minimum education"),
        max_length=20,
        choices=EducationLevel.choices,
        blank=True,
        help_text=_("Leave empty when any education level is welcome."),
    )
    majors = models.CharField(
        _("majors"),
        max_length=200,
        blank=True,
        help_text=_("Separate several majors with commas; empty means any major."),
    )
    headcount = models.PositiveSmallIntegerField(_("headcount"), default=1, validators=[MinValueValidator(1)])
    salary_min = models.PositiveIntegerField(_("monthly pay from (CNY)"), null=True, blank=True)
    salary_max = models.PositiveIntegerField(_("monthly pay up to (CNY)"), null=True, blank=True)
    work_address = models.CharField(_("work address"), max_length=200)
    deadline = models.DateField(_("application deadline"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PositionStatus.choices, default=PositionStatus.DRAFT, db_index=True
    )
    rejection_reason = models.CharField(
        _("rejection reason"), max_length=20, choices=RejectionReason.choices, blank=True
    )
    status_reason = models.TextField(_("note on the decision"), blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, db_index=True)
    # Title, description, organisation name, majors and address in one lower-case column,
    # kept by the services; PostgreSQL searches it through a trigram index (works for
    # Chinese). Lower case at write time lets the search use a plain LIKE instead of
    # UPPER(search_text) on every row (a quarter of the cost when the index is not used).
    search_text = models.TextField(editable=False, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        indexes = [
            models.Index(fields=["status", "-published_at"], name="position_status_published"),
            models.Index(fields=["status", "deadline"], name="position_status_deadline"),
            # "Highest salary first" (selectors.positions_search): pay is the upper end, else
            # the lower end, else 0 so that positions without pay come last.
            models.Index(
                Coalesce("salary_max", "salary_min", models.Value(0)).desc(),
                models.F("id").desc(),
                name="position_published_pay",
                condition=models.Q(status="published"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(salary_min__isnull=True)
                | models.Q(salary_max__isnull=True)
                | models.Q(salary_max__gte=models.F("salary_min")),
                name="position_salary_range",
                violation_error_message=_("The upper end of the pay range is below the lower end."),
            ),
            models.CheckConstraint(condition=models.Q(headcount__gte=1), name="position_headcount_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def major_list(self) -> list[str]:
        return [m.strip() for m in self.majors.replace("，", ",").split(",") if m.strip()]

    def compose_search_text(self) -> str:
        """The text ``search_text`` holds: what a graduate may type to find the position."""
        return " ".join([self.title, self.organisation.name, self.majors, self.work_address, self.description]).lower()


class JobApplication(models.Model):
    """A graduate's application to one position. One per graduate and position, enforced by
    the database."""

    Status = ApplicationStatus

    position = models.ForeignKey(
        Position, on_delete=models.CASCADE, related_name="applications", verbose_name=_("position")
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="job_applications", verbose_name=_("applicant")
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.SUBMITTED,
        db_index=True,
    )
    cover_note = models.TextField(_("cover note"), blank=True, max_length=2000)
    cv = models.ForeignKey(
        "portal.Document", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("CV")
    )
    shared_documents = models.ManyToManyField(
        "portal.Document", blank=True, related_name="shared_with_applications", verbose_name=_("shared documents")
    )
    status_reason = models.TextField(_("note on the decision"), blank=True)
    # The day the employer confirmed the hire: the start of a traineeship, and the date the
    # subsidies count from.
    hired_on = models.DateField(_("hired on"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("applied"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("job application")
        verbose_name_plural = _("job applications")
        constraints = [models.UniqueConstraint(fields=["position", "applicant"], name="one_application_per_position")]

    def __str__(self) -> str:
        # No contact details: this shows in admin lists, titles and the change log.
        return f"{self.position} · #{self.pk}"


class Interview(models.Model):
    """An interview invitation. Other programmes read it: the interview travel subsidy and
    youth-station eligibility."""

    application = models.ForeignKey(
        JobApplication, on_delete=models.CASCADE, related_name="interviews", verbose_name=_("application")
    )
    starts_at = models.DateTimeField(_("date and time"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    online_link = models.URLField(_("online meeting link"), blank=True)
    note = models.TextField(_("note"), blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("invited by")
    )
    created_at = models.DateTimeField(_("invited"), auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("interview invitation")
        verbose_name_plural = _("interview invitations")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(place="") | ~models.Q(online_link=""), name="interview_place_or_link"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application} @ {self.starts_at:%Y-%m-%d %H:%M}"
