"""Subsidies API under /api/v1/: the programmes for anyone, with the live eligibility
preview (the rule the check runs, with the values in force) for the signed-in graduate or
employer; the signed-in user's applications and the claims of their organisations (apply
or claim, send a draft, withdraw); and the employers' traineeship living-subsidy claims,
one per trainee and month. Serializers validate input; ``subsidies.services`` decides and
says why it refuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import include, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from jobs.models import JobApplication
from portal import selectors as portal_selectors
from portal.api import OwnRowsViewSet, PortalAutoSchema, drf_error
from portal.constants import DocumentKind, Role
from portal.models import AuditEntry, Document, Organisation, User
from portal.workflow import workflow_for
from subsidies import selectors, services
from subsidies.constants import ApplicantKind, LoanProduct, PeriodKind, RuleCode, SubsidyStatus
from subsidies.models import EligibilityCheck, Programme, SubsidyApplication

# An application carries at most this many of the applicant's uploaded documents.
MAX_DOCUMENTS = 20
# A claim covers at most a year (the services compute the period from the first month).
MAX_MONTHS = 12
# Months before this year are refused as input (no programme is older).
FIRST_YEAR = 2000
# Refusals of the application service that concern one input, by their code.
FIELD_OF_CODE = {"documents": "documents", "hire": "job_application"}


class PolicyValueMissing(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The criteria cannot be checked now: a policy value is missing. Please try later.")
    default_code = "parameter_missing"


@contextmanager
def _refusals() -> Iterator[None]:
    """A refusal of the subsidy services as the API's answer: a refusal about one input
    under that input's name (``details`` for the programme's details), anything else
    (closed programme, duplicate, employer not verified) as non-field errors; a policy
    value with none in force is a 503, not a 500."""
    try:
        yield
    except DjangoPermissionDenied as exc:
        raise drf_error(exc) from exc
    except DjangoValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise ValidationError({"details": exc.message_dict}) from exc
        errors: dict[str, list[str]] = {}
        for error in exc.error_list:
            name = FIELD_OF_CODE.get(error.code, "non_field_errors")
            errors.setdefault(name, []).extend(error.messages)
        raise ValidationError(errors) from exc
    except LookupError as exc:
        # parameters_in_force raises a plain LookupError; a KeyError or IndexError is a bug.
        if type(exc) is not LookupError:
            raise
        raise PolicyValueMissing() from exc


# --- input fields -------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-05"})
class MonthField(serializers.DateField):
    """A calendar month as YYYY-MM (YYYY-MM-DD is taken too), read as its first day."""

    default_error_messages = {"invalid": _("Give the month as YYYY-MM, e.g. 2026-05.")}

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", input_formats=["%Y-%m", "%Y-%m-%d"], **kwargs)

    def to_internal_value(self, value):
        day = super().to_internal_value(value).replace(day=1)
        last = timezone.localdate().year + 1
        if not FIRST_YEAR <= day.year <= last:
            raise ValidationError(
                _("Give a month between %(first)d-01 and %(last)d-12.") % {"first": FIRST_YEAR, "last": last}
            )
        return day


# The details each rule reads (subsidies/rules.py), one serializer per rule that has any.


class RentDetailsSerializer(serializers.Serializer):
    months = serializers.IntegerField(
        min_value=1, max_value=MAX_MONTHS, help_text="Months applied for, from the month given (1 to 12)."
    )


class IncubationDetailsSerializer(serializers.Serializer):
    business_name = serializers.CharField(max_length=100, help_text="As on the business licence.")
    credit_code = serializers.CharField(min_length=18, max_length=18, help_text="Unified social credit code.")
    incubator = serializers.CharField(max_length=100)
    monthly_rent = serializers.DecimalField(
        max_digits=9, decimal_places=2, min_value=Decimal("0.01"), help_text="Rent of the incubator space (CNY)."
    )
    months = serializers.IntegerField(
        min_value=1, max_value=MAX_MONTHS, help_text="Months of rent waiver, from the month given (1 to 12)."
    )

    def validate_credit_code(self, value: str) -> str:
        return value.strip().upper()


class UniversityBaseDetailsSerializer(serializers.Serializer):
    university = serializers.CharField(max_length=100, help_text="The partner university.")
    base_name = serializers.CharField(max_length=100)
    scale = serializers.CharField(
        max_length=1000, help_text="Scale and results of the base: staff set the amount between the two ends by these."
    )


class LoanDetailsSerializer(serializers.Serializer):
    product = serializers.ChoiceField(choices=LoanProduct.choices)
    business_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    loan_amount = serializers.IntegerField(min_value=1, max_value=100_000_000, help_text="CNY")


DETAILS: dict[str, type[serializers.Serializer]] = {
    RuleCode.RENT_SUBSIDY: RentDetailsSerializer,
    RuleCode.INCUBATION_RENT: IncubationDetailsSerializer,
    RuleCode.UNIVERSITY_BASE: UniversityBaseDetailsSerializer,
    RuleCode.STARTUP_LOAN: LoanDetailsSerializer,
}
_DETAILS_HELP = "; ".join(
    f"{code}: {', '.join(serializer_class().fields)}" for code, serializer_class in DETAILS.items()
)


def _per_hire(programme: Programme) -> bool:
    """An employer's claim for one graduate it hired (a trainee per month, a hire once):
    as the services read the programme."""
    return programme.applicant_kind == ApplicantKind.EMPLOYER and programme.period_kind in (
        PeriodKind.MONTHLY,
        PeriodKind.PER_HIRE,
    )


def _inputs(programme: Programme) -> list[str]:
    """What the eligibility check and the application of this programme take."""
    names = []
    if programme.applicant_kind == ApplicantKind.EMPLOYER:
        names.append("job_application" if _per_hire(programme) else "organisation")
    if programme.period_kind == PeriodKind.MONTHLY:
        names.append("month")
    detail = DETAILS.get(programme.rule_code)
    return names + (list(detail().fields) if detail else [])


# --- who claims what ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """What the services take for one application or preview, resolved from the input."""

    organisation: Organisation | None = None
    hire: JobApplication | None = None
    period_start: dt.date | None = None
    details: dict = field(default_factory=dict)

    @property
    def job_application_id(self) -> int | None:
        return self.hire.pk if self.hire else None


def _standing(user: User, programme: Programme) -> list[Organisation]:
    """The caller's organisations for an employer programme; 403 if the programme is not
    for them (graduates apply for graduate programmes, members of an employer claim)."""
    if programme.applicant_kind == ApplicantKind.GRADUATE:
        if user.role != Role.GRADUATE:
            raise PermissionDenied(_("Only graduates apply for this programme."))
        return []
    organisations = list(portal_selectors.organisations_of_member(user=user))
    if not organisations:
        raise PermissionDenied(_("Only members of an employer registered in the portal can claim this subsidy."))
    return organisations


def _clean_details(programme: Programme, data, *, partial: bool) -> tuple[dict, dict]:
    """The programme's details, typed, and the errors per detail. A preview takes what it
    is given (a missing detail fails its criterion); an application needs them all."""
    serializer_class = DETAILS.get(programme.rule_code)
    if serializer_class is None:
        return {}, {}
    body = serializer_class(data=data, partial=partial)
    if not body.is_valid():
        return {}, dict(body.errors)
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in body.validated_data.items()}, {}


def _claim(
    *,
    programme: Programme,
    organisations: list[Organisation],
    organisation_id: int | None,
    job_application_id: int | None,
    month: dt.date | None,
    details,
    partial: bool,
    details_field: str | None,
) -> Claim:
    """Resolve the input of an application or preview: the caller's organisation and the
    graduate it hired (``organisations`` are the caller's, from ``_standing``), the month,
    the details. 400 with every input in error (``details_field`` nests the details'
    errors; None puts them at the top, like the query parameters of the preview)."""
    errors: dict = {}
    organisation = hire = None
    if programme.applicant_kind == ApplicantKind.GRADUATE:
        for name, value in (("organisation", organisation_id), ("job_application", job_application_id)):
            if value is not None:
                errors[name] = [_("Graduates apply for themselves: leave this out.")]
    else:
        mine = {o.pk: o for o in organisations}
        if organisation_id is not None:
            organisation = mine.get(organisation_id)
            if organisation is None:
                errors["organisation"] = [_("Choose one of your organisations.")]
        traineeship = programme.rule_code == RuleCode.TRAINEESHIP_LIVING
        if _per_hire(programme):
            if job_application_id is None:
                errors["job_application"] = [
                    _("Choose the trainee.") if traineeship else _("Choose the graduate hired.")
                ]
            else:
                hire = (
                    selectors.claimable_hires(organisations=organisations, programme=programme)
                    .filter(pk=job_application_id)
                    .first()
                )
                if hire is None:
                    errors["job_application"] = [
                        _("Choose a trainee your organisation hired into a traineeship position.")
                        if traineeship
                        else _("Choose a graduate your organisation has hired in the jobs programme.")
                    ]
                elif organisation is not None and hire.position.organisation_id != organisation.pk:
                    errors["job_application"] = [_("This graduate was hired by another of your organisations.")]
                else:
                    organisation = mine[hire.position.organisation_id]
        elif job_application_id is not None:
            errors["job_application"] = [_("This programme is not claimed per hire: leave this out.")]
        elif organisation is None and "organisation" not in errors:
            if len(organisations) == 1:
                organisation = organisations[0]
            else:
                errors["organisation"] = [_("Choose the organisation the claim is for.")]
    period_start = None
    if programme.period_kind == PeriodKind.MONTHLY:
        period_start = month or timezone.localdate().replace(day=1)
    elif month is not None:
        errors["month"] = [_("This programme is not claimed per month: leave this out.")]
    clean, detail_errors = _clean_details(programme, details, partial=partial)
    if detail_errors:
        errors.update({details_field: detail_errors} if details_field else detail_errors)
    if errors:
        raise ValidationError(errors)
    return Claim(organisation=organisation, hire=hire, period_start=period_start, details=clean)


# --- programmes ---------------------------------------------------------------------------------


class SubsidyCriterionSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="e.g. profile, graduation, hukou, interview, trainee, base, once")
    passed = serializers.BooleanField()
    message = serializers.CharField(help_text="The criterion with the values used, in the reader's language.")
    blocking = serializers.BooleanField(help_text="False for a line that is shown but does not decide eligibility.")


class SubsidyEligibilitySerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    criteria = SubsidyCriterionSerializer(many=True)
    parameters = serializers.DictField(
        help_text="The rule, its version, the day and period it ran for and every parameter value it used."
    )


class SubsidyPreviewSerializer(SubsidyEligibilitySerializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="CNY; the lower end where staff set the amount."
    )


class RequiredDocumentSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    label = serializers.CharField()


class SubsidyProgrammeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="In the reader's language.")
    description = serializers.CharField(read_only=True, help_text="In the reader's language.")
    is_open = serializers.SerializerMethodField(help_text="Taking applications today.")
    required_documents = serializers.SerializerMethodField(help_text="Uploaded documents an application attaches.")
    cannot_combine_with = serializers.SerializerMethodField(
        help_text="Codes of programmes whose approval for the same person and period excludes this one."
    )
    inputs = serializers.SerializerMethodField(
        help_text="What the eligibility check and the application take: organisation or job_application "
        "(employers), month (monthly programmes) and the programme's details."
    )

    class Meta:
        model = Programme
        fields = [
            "code",
            "name",
            "description",
            "applicant_kind",
            "period_kind",
            "pays_money",
            "opens_on",
            "closes_on",
            "is_open",
            "required_documents",
            "cannot_combine_with",
            "inputs",
        ]
        read_only_fields = fields

    def get_is_open(self, obj) -> bool:
        return obj.is_open_on(timezone.localdate())

    @extend_schema_field(RequiredDocumentSerializer(many=True))
    def get_required_documents(self, obj) -> list[dict]:
        return [
            {"kind": kind, "label": str(DocumentKind(kind).label)}
            for kind in obj.required_documents
            if kind in DocumentKind.values
        ]

    def get_cannot_combine_with(self, obj) -> list[str]:
        return sorted({p.code for p in obj.excludes.all()} | {p.code for p in obj.excluded_by.all()})

    def get_inputs(self, obj) -> list[str]:
        return _inputs(obj)


class ProgrammeFilterParams(serializers.Serializer):
    applicant_kind = serializers.ChoiceField(choices=ApplicantKind.choices, required=False)


class EligibilityParams(serializers.Serializer):
    organisation = serializers.IntegerField(min_value=1, required=False)
    job_application = serializers.IntegerField(min_value=1, required=False)
    month = MonthField(required=False)


def _detail_parameters() -> list[OpenApiParameter]:
    """One query parameter per detail name, saying which programmes read it."""
    found: dict[str, tuple[serializers.Field, list[str]]] = {}
    for code, serializer_class in DETAILS.items():
        for name, f in serializer_class().fields.items():
            found.setdefault(name, (f, []))[1].append(str(code))
    return [
        OpenApiParameter(
            name,
            OpenApiTypes.INT if isinstance(f, serializers.IntegerField) else OpenApiTypes.STR,
            description=f"Detail of {', '.join(codes)}" + (f": {f.help_text}" if f.help_text else ""),
            enum=LoanProduct.values if name == "product" else None,
        )
        for name, (f, codes) in found.items()
    ]


_eligibility_params = [
    OpenApiParameter(
        "organisation",
        OpenApiTypes.INT,
        description="Employer programmes claimed per organisation: the id of your organisation "
        "(not needed if you belong to one only).",
    ),
    OpenApiParameter(
        "job_application",
        OpenApiTypes.INT,
        description="Employer programmes claimed per trainee or hire: the id of the hired job application "
        "(see /api/v1/employer/applications/?status=hired).",
    ),
    OpenApiParameter(
        "month", OpenApiTypes.STR, description="Monthly programmes: the month claimed (YYYY-MM); this month by default."
    ),
    *_detail_parameters(),
]


@extend_schema_view(
    list=extend_schema(
        summary="Subsidy programmes",
        description="Active programmes with who applies, how often, the application window and the documents "
        "to attach (no sign-in needed). Names and descriptions follow Accept-Language.",
        parameters=[OpenApiParameter("applicant_kind", OpenApiTypes.STR, enum=ApplicantKind.values)],
    ),
    retrieve=extend_schema(summary="One subsidy programme"),
)
class ProgrammeViewSet(viewsets.ReadOnlyModelViewSet):
    """Subsidy programmes for anyone; the eligibility preview for the signed-in graduate or
    employer."""

    serializer_class = SubsidyProgrammeSerializer
    permission_classes = [AllowAny]
    filter_backends: list = []
    lookup_field = "code"
    lookup_value_converter = "slug"
    schema = PortalAutoSchema()

    def get_permissions(self):
        if self.action == "eligibility":
            return [IsAuthenticated()]
        return super().get_permissions()

    def get_queryset(self):
        programmes = Programme.objects.filter(active=True)
        if self.action == "eligibility":
            return programmes
        programmes = programmes.prefetch_related("excludes", "excluded_by")
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            params = ProgrammeFilterParams(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            kind = params.validated_data.get("applicant_kind")
            if kind:
                programmes = programmes.filter(applicant_kind=kind)
        return programmes

    @extend_schema(
        summary="Eligibility check",
        description="May I (or my organisation) receive this subsidy, and how much? Each criterion of the "
        "programme's rule with ✓/✗ and the values used, from the values in force (a preview: the application "
        "is checked again when sent). Graduate programmes check the signed-in graduate; employer programmes "
        "take the organisation or the hired graduate (job_application), the month for monthly claims, and the "
        "programme's details as query parameters (see `inputs` of the programme). 403 if the programme is not "
        "for you, 400 for bad parameters.",
        parameters=_eligibility_params,
        responses={200: SubsidyPreviewSerializer},
    )
    @action(detail=True, methods=["get"])
    def eligibility(self, request, code=None):
        programme = self.get_object()
        organisations = _standing(request.user, programme)
        params = EligibilityParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        claim = _claim(
            programme=programme,
            organisations=organisations,
            organisation_id=data.get("organisation"),
            job_application_id=data.get("job_application"),
            month=data.get("month"),
            details=request.query_params,
            partial=True,
            details_field=None,
        )
        with _refusals():
            outcome = services.subsidy_eligibility(
                programme=programme,
                applicant=request.user,
                organisation=claim.organisation,
                beneficiary=claim.hire.applicant if claim.hire else None,
                job_application_id=claim.job_application_id,
                details=claim.details,
                period_start=claim.period_start,
            )
        return Response(SubsidyPreviewSerializer({**outcome.result.as_dict(), "amount": outcome.amount}).data)


# --- applications -------------------------------------------------------------------------------


class SubsidyProgrammeBriefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Programme
        fields = ["code", "name", "applicant_kind", "period_kind"]
        read_only_fields = fields


class SubsidyOrganisationBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name"]
        read_only_fields = fields


class SubsidyApplicationSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True, help_text="e.g. S000042")
    programme = SubsidyProgrammeBriefSerializer(read_only=True)
    organisation = SubsidyOrganisationBriefSerializer(
        read_only=True, allow_null=True, help_text="The employer of a claim; null for a graduate's own application."
    )
    beneficiary_name = serializers.SerializerMethodField(
        help_text="The graduate the subsidy is for: the applicant, the trainee or the hired graduate."
    )
    job_application = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The hire or traineeship an employer claims for; null for graduates."
    )
    details = serializers.DictField(read_only=True, help_text="The programme's details as given.")
    eligibility = serializers.SerializerMethodField(
        help_text="The last check (or, before the first, the preview made when the application was created)."
    )
    can_submit = serializers.SerializerMethodField(help_text="A draft: POST submit/ sends it.")
    can_withdraw = serializers.SerializerMethodField(help_text="POST withdraw/ is possible now.")

    class Meta:
        model = SubsidyApplication
        fields = [
            "id",
            "reference",
            "programme",
            "organisation",
            "beneficiary_name",
            "job_application",
            "status",
            "status_reason",
            "amount",
            "period_start",
            "period_end",
            "details",
            "eligibility",
            "notice_ends_on",
            "submitted_at",
            "created_at",
            "updated_at",
            "can_submit",
            "can_withdraw",
        ]
        read_only_fields = fields

    def get_beneficiary_name(self, obj) -> str:
        profile = getattr(obj.beneficiary, "profile", None) if obj.beneficiary_id else None
        return (profile.real_name if profile else "") or ""

    @extend_schema_field(SubsidyEligibilitySerializer(allow_null=True))
    def get_eligibility(self, obj) -> dict | None:
        return SubsidyEligibilitySerializer(obj.eligibility).data if obj.eligibility else None

    def get_can_submit(self, obj) -> bool:
        return obj.status == SubsidyStatus.DRAFT

    def get_can_withdraw(self, obj) -> bool:
        return workflow_for(obj).get(obj.status, SubsidyStatus.WITHDRAWN) is not None


class SubsidyCheckSerializer(serializers.ModelSerializer):
    criteria = serializers.SerializerMethodField()
    parameters = serializers.SerializerMethodField(help_text="The rule's version and every parameter value used.")

    class Meta:
        model = EligibilityCheck
        fields = ["sequence", "eligible", "amount", "rule_version", "reason", "criteria", "parameters", "created_at"]
        read_only_fields = fields

    @extend_schema_field(SubsidyCriterionSerializer(many=True))
    def get_criteria(self, obj) -> list[dict]:
        return SubsidyCriterionSerializer(obj.result.get("criteria") or [], many=True).data

    def get_parameters(self, obj) -> dict:
        return obj.result.get("parameters") or {}


class SubsidyStatusChangeSerializer(serializers.ModelSerializer):
    from_status = serializers.ChoiceField(choices=SubsidyStatus.choices, read_only=True)
    to_status = serializers.ChoiceField(choices=SubsidyStatus.choices, read_only=True)

    class Meta:
        model = AuditEntry
        fields = ["from_status", "to_status", "reason", "created_at"]
        read_only_fields = fields


class SubsidyDocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = ["id", "kind", "original_name", "created_at"]
        read_only_fields = fields


class SubsidyApplicationDetailSerializer(SubsidyApplicationSerializer):
    checks = SubsidyCheckSerializer(many=True, read_only=True, help_text="Every check, the latest first.")
    status_changes = SubsidyStatusChangeSerializer(many=True, read_only=True, help_text="Oldest first.")
    documents = SubsidyDocumentSerializer(many=True, read_only=True)

    class Meta(SubsidyApplicationSerializer.Meta):
        fields = [*SubsidyApplicationSerializer.Meta.fields, "checks", "status_changes", "documents"]
        read_only_fields = fields


class _OwnDocumentsMixin:
    """``documents`` chooses among the caller's own uploads only."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        fields["documents"].child_relation.queryset = (
            portal_selectors.documents_of(user=request.user)
            if request is not None and request.user.is_authenticated
            else Document.objects.none()
        )
        return fields

    def validate_documents(self, value):
        if len(value) > MAX_DOCUMENTS:
            raise ValidationError(_("Attach at most %(n)d documents.") % {"n": MAX_DOCUMENTS})
        return value


def _documents_field():
    return serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Document.objects.none(),
        required=False,
        error_messages={"does_not_exist": _("Choose only your own uploaded documents.")},
        help_text="Ids of your uploaded documents to attach (the programme's required documents among them).",
    )


def _submit_field():
    return serializers.BooleanField(
        default=True, help_text="false keeps a draft to send later with submit/; true (default) sends it now."
    )


class SubsidyApplySerializer(_OwnDocumentsMixin, serializers.Serializer):
    """An application or claim under a programme; the programme's ``inputs`` say which of
    organisation, job_application, month and details it takes."""

    programme = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Programme.objects.filter(active=True),
        error_messages={"does_not_exist": _("No programme has this code.")},
        help_text="Programme code, e.g. interview-travel.",
    )
    organisation = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="Employer programmes: your organisation's id."
    )
    job_application = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="Employer programmes per trainee or hire: the hired job application's id.",
    )
    month = MonthField(required=False, allow_null=True, help_text="Monthly programmes: YYYY-MM; this month by default.")
    details = serializers.DictField(
        required=False, help_text=f"The programme's details, as its `inputs` name them. By rule: {_DETAILS_HELP}."
    )
    documents = _documents_field()
    submit = _submit_field()


class TraineeshipClaimCreateSerializer(_OwnDocumentsMixin, serializers.Serializer):
    job_application = serializers.IntegerField(
        min_value=1, help_text="The trainee: a job application your organisation hired into a traineeship position."
    )
    month = MonthField(help_text="The month claimed, YYYY-MM.")
    documents = _documents_field()
    submit = _submit_field()


class SubsidyWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class SubsidyApplicationFilter(django_filters.FilterSet):
    programme = django_filters.CharFilter(field_name="programme__code", help_text="Programme code")
    organisation = django_filters.NumberFilter(field_name="organisation_id", help_text="Organisation id")

    class Meta:
        model = SubsidyApplication
        fields = ["status", "programme", "organisation"]


class TraineeshipClaimFilter(SubsidyApplicationFilter):
    job_application = django_filters.NumberFilter(field_name="job_application_id", help_text="The trainee's hire")

    class Meta(SubsidyApplicationFilter.Meta):
        fields = ["status", "organisation", "job_application"]


_refused = inline_serializer(
    "SubsidyApplicationRefused",
    fields={
        "non_field_errors": serializers.ListField(
            child=serializers.CharField(),
            required=False,
            help_text="e.g. the programme is closed, the same person and period is already claimed, the employer "
            "is not verified, no district in the profile.",
        ),
        **{
            name: serializers.ListField(child=serializers.CharField(), required=False)
            for name in ("programme", "organisation", "job_application", "month", "documents", "submit")
        },
        # Errors per detail; a list of messages when the details are not an object at all.
        "details": serializers.JSONField(required=False, help_text="Errors per detail."),
    },
)


class _ApplicationActions:
    """Reading one application in full, creating, sending a draft and withdrawing: the
    same for the applications and the traineeship claims."""

    def detail_response(self, pk: int, status: int | None = None) -> Response:
        app = self.get_queryset().prefetch_related("checks", "documents").get(pk=pk)
        app.status_changes = portal_selectors.status_history(obj=app)
        return Response(
            SubsidyApplicationDetailSerializer(app, context=self.get_serializer_context()).data, status=status
        )

    def retrieve(self, request, *args, **kwargs):
        return self.detail_response(self.get_object().pk)

    def create_claim(self, request, programme: Programme, data: dict) -> Response:
        claim = _claim(
            programme=programme,
            organisations=_standing(request.user, programme),
            organisation_id=data.get("organisation"),
            job_application_id=data.get("job_application"),
            month=data.get("month"),
            details=data.get("details") or {},
            partial=False,
            details_field="details",
        )
        with _refusals():
            application = services.subsidy_application_create(
                programme=programme,
                applicant=request.user,
                organisation=claim.organisation,
                job_application_id=claim.job_application_id,
                period_start=claim.period_start,
                details=claim.details,
                documents=data.get("documents", []),
                submit=data["submit"],
            )
        return self.detail_response(application.pk, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Send a draft",
        description="The eligibility check runs in the background: the status moves from submitted to eligible "
        "or ineligible.",
        request=None,
        responses={200: SubsidyApplicationDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        application = self.get_object()
        with _refusals():
            services.subsidy_application_submit(application=application, actor=request.user)
        return self.detail_response(application.pk)

    @extend_schema(
        summary="Withdraw",
        description="A draft, or a sent application until staff approve it.",
        request=SubsidyWithdrawSerializer,
        responses={200: SubsidyApplicationDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        application = self.get_object()
        body = SubsidyWithdrawSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with _refusals():
            services.subsidy_application_withdraw(
                application=application, actor=request.user, reason=body.validated_data.get("reason", "")
            )
        return self.detail_response(application.pk)


@extend_schema_view(
    list=extend_schema(
        summary="My subsidy applications and my organisations' claims",
        description="Latest first, each with its last check.",
    ),
    retrieve=extend_schema(
        summary="One subsidy application",
        description="With every check (criteria and values used), the status changes and the documents.",
        responses={200: SubsidyApplicationDetailSerializer},
    ),
)
class ApplicationViewSet(_ApplicationActions, mixins.CreateModelMixin, OwnRowsViewSet):
    """The signed-in graduate's subsidy applications and the claims of the organisations
    the user belongs to; POST applies or claims."""

    serializer_class = SubsidyApplicationSerializer
    filterset_class = SubsidyApplicationFilter

    def own_rows(self):
        return selectors.applications_of(user=self.request.user)

    @extend_schema(
        summary="Apply or claim",
        description="Graduates apply for themselves; members of an employer claim for their organisation (per "
        "hire or trainee: job_application). The amount is computed now and the eligibility check runs in the "
        "background once sent. One application per programme, person and period.",
        request=SubsidyApplySerializer,
        responses={201: SubsidyApplicationDetailSerializer, 400: _refused},
    )
    def create(self, request, *args, **kwargs):
        body = SubsidyApplySerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        return self.create_claim(request, body.validated_data["programme"], body.validated_data)


@extend_schema_view(
    list=extend_schema(
        summary="Traineeship living-subsidy claims of my organisations",
        description="Claims per trainee and month, latest first.",
    ),
    retrieve=extend_schema(summary="One traineeship claim", responses={200: SubsidyApplicationDetailSerializer}),
)
class TraineeshipClaimViewSet(_ApplicationActions, mixins.CreateModelMixin, OwnRowsViewSet):
    """Traineeship bases claim the living subsidy monthly for each trainee hired into a
    traineeship position in the jobs programme. The claims are subsidy applications: the
    same ids work under /subsidy-applications/."""

    serializer_class = SubsidyApplicationSerializer
    filterset_class = TraineeshipClaimFilter

    def own_rows(self):
        return selectors.applications_of(user=self.request.user).filter(
            programme__rule_code=RuleCode.TRAINEESHIP_LIVING, organisation__isnull=False
        )

    @extend_schema(
        summary="Claim for a trainee and month",
        description="The trainee (a job application your organisation hired into a traineeship position) and "
        "the month claimed; the amount is the share of the minimum wage in force that month.",
        request=TraineeshipClaimCreateSerializer,
        responses={201: SubsidyApplicationDetailSerializer, 400: _refused},
    )
    def create(self, request, *args, **kwargs):
        body = TraineeshipClaimCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        programme = Programme.objects.filter(rule_code=RuleCode.TRAINEESHIP_LIVING, active=True).first()
        if programme is None:
            raise ValidationError({"non_field_errors": [_("This programme is not taking applications now.")]})
        return self.create_claim(request, programme, body.validated_data)


# Ids are integers in the URL (<int:pk>), programme codes slugs: a malformed one is a 404
# before any view code runs, and the schema types the path parameter.
router = SimpleRouter(use_regex_path=False)
router.register("subsidy-programmes", ProgrammeViewSet, basename="subsidy-programme")
router.register("subsidy-applications", ApplicationViewSet, basename="subsidy-application")
router.register("traineeship-claims", TraineeshipClaimViewSet, basename="traineeship-claim")

urlpatterns = [path("", include(router.urls))]
