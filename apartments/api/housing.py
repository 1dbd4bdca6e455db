"""Housing API under /api/v1/: talent-apartment and affordable-rental projects with their unit
types, live vacancies, photos and published rounds for anyone; the eligibility check, the
applications and the unit offers of the signed-in graduate (apply, withdraw, accept an offer
and get the lease, decline). Serializers validate; services write."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from apartments import selectors, services
from apartments.constants import ProjectKind, RoundStatus
from apartments.models import (
    AllocationRound,
    HousingApplication,
    HousingOffer,
    HousingProject,
    Lease,
    ProjectPhoto,
    RoundUnitType,
    Unit,
    UnitType,
)
from portal import selectors as portal_selectors
from portal.api import OwnRowsViewSet, PortalAutoSchema, drf_error, service_refusals
from portal.constants import Role
from portal.models import District, Document

# An application carries at most this many of the graduate's uploaded documents.
MAX_DOCUMENTS = 20
# Service refusals that concern one input of the application form, by their code.
FIELD_OF_CODE = {
    "unit_types": "unit_types",
    "household_size": "household_size",
    "no_home_declaration": "no_home_declared",
    "documents": "documents",
}


# --- projects -----------------------------------------------------------------------------------


class HousingUnitTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = UnitType
        fields = ["id", "name", "area", "rooms", "furnished", "monthly_rent"]
        read_only_fields = fields


class HousingUnitTypeVacancySerializer(HousingUnitTypeSerializer):
    vacant_units = serializers.IntegerField(read_only=True, help_text="Units of this type vacant now, read live.")
    total_units = serializers.IntegerField(read_only=True)

    class Meta(HousingUnitTypeSerializer.Meta):
        fields = [*HousingUnitTypeSerializer.Meta.fields, "vacant_units", "total_units"]
        read_only_fields = fields


class ProjectPhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The picture (JPEG or PNG).")
    thumbnail_url = serializers.SerializerMethodField(help_text="A small version for lists.")

    class Meta:
        model = ProjectPhoto
        fields = ["id", "caption", "url", "thumbnail_url"]
        read_only_fields = fields

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_url(self, obj) -> str:
        return self._absolute(reverse("apartments:project_photo", args=[obj.pk]))

    def get_thumbnail_url(self, obj) -> str:
        return self._absolute(reverse("apartments:project_photo", args=[obj.pk]) + "?size=thumb")


class HousingRoundBriefSerializer(serializers.ModelSerializer):
    is_open = serializers.BooleanField(read_only=True, help_text="Taking applications right now.")

    class Meta:
        model = AllocationRound
        fields = ["id", "name", "opens_at", "closes_at", "status", "is_open"]
        read_only_fields = fields


class RoundUnitCountSerializer(serializers.ModelSerializer):
    unit_type = serializers.IntegerField(source="unit_type_id", read_only=True)
    unit_type_name = serializers.CharField(source="unit_type.name", read_only=True)

    class Meta:
        model = RoundUnitType
        fields = ["unit_type", "unit_type_name", "units"]
        read_only_fields = fields


class HousingRoundSerializer(HousingRoundBriefSerializer):
    unit_counts = RoundUnitCountSerializer(many=True, read_only=True, help_text="Units the round offers per type.")
    public_seed = serializers.SerializerMethodField(
        help_text="The public random value that seeds the lottery; null until staff publish it."
    )
    seed_source = serializers.SerializerMethodField(help_text="Where anyone can check the public random value.")

    class Meta(HousingRoundBriefSerializer.Meta):
        fields = [
            *HousingRoundBriefSerializer.Meta.fields,
            "method",
            "offer_days",
            "move_in_on",
            "unit_counts",
            "public_seed",
            "seed_source",
            "seed_published_at",
            "drawn_at",
        ]
        read_only_fields = fields

    def get_public_seed(self, obj) -> str | None:
        return obj.public_seed if obj.seed_published_at else None

    def get_seed_source(self, obj) -> str | None:
        return obj.seed_source if obj.seed_published_at else None


class ApartmentProjectSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code", read_only=True)
    district_name = serializers.CharField(source="district.name", read_only=True)
    amenities = serializers.ListField(
        source="amenity_list", child=serializers.CharField(), read_only=True, help_text="One item per line."
    )
    vacant_units = serializers.IntegerField(read_only=True, help_text="Units vacant now, read live.")
    total_units = serializers.IntegerField(read_only=True)
    unit_types = HousingUnitTypeVacancySerializer(many=True, read_only=True)
    photos = ProjectPhotoSerializer(many=True, read_only=True)
    open_rounds = HousingRoundBriefSerializer(
        many=True, read_only=True, help_text="Published rounds, the one closing first first."
    )

    class Meta:
        model = HousingProject
        fields = [
            "id",
            "name",
            "kind",
            "district",
            "district_name",
            "address",
            "description",
            "amenities",
            "contact_phone",
            "vacant_units",
            "total_units",
            "unit_types",
            "photos",
            "open_rounds",
        ]
        read_only_fields = fields


class ApartmentProjectDetailSerializer(ApartmentProjectSerializer):
    rounds = HousingRoundSerializer(
        source="public_rounds",
        many=True,
        read_only=True,
        help_text="Every published round, latest first, with the units per type and the public random value.",
    )

    class Meta(ApartmentProjectSerializer.Meta):
        fields = [*ApartmentProjectSerializer.Meta.fields, "rules", "rounds"]
        read_only_fields = fields


class ProjectFilterParams(serializers.Serializer):
    district = serializers.SlugRelatedField(slug_field="code", queryset=District.objects.all(), required=False)
    kind = serializers.ChoiceField(choices=ProjectKind.choices, required=False)


_project_params = [
    OpenApiParameter("district", OpenApiTypes.STR, description="District code, e.g. luolong"),
    OpenApiParameter("kind", OpenApiTypes.STR, enum=ProjectKind.values),
]


class HousingCriterionSerializer(serializers.Serializer):
    code = serializers.CharField()
    passed = serializers.BooleanField()
    message = serializers.CharField()
    blocking = serializers.BooleanField(
        help_text="False for a line that is shown but does not decide eligibility (e.g. which list)."
    )


class HousingEligibilitySerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    criteria = HousingCriterionSerializer(many=True)
    parameters = serializers.DictField(help_text="The parameter values the check used.")


@extend_schema_view(
    list=extend_schema(
        summary="Housing projects",
        description="Published talent apartments and affordable rentals with their unit types, vacancies read "
        "live, photos and the rounds taking applications (no sign-in needed).",
        parameters=_project_params,
    ),
    retrieve=extend_schema(
        summary="One housing project",
        description="The project with its unit types, live vacancies, photos and every published round.",
        responses={200: ApartmentProjectDetailSerializer},
    ),
)
class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    """Published housing projects (no sign-in needed), and for the signed-in graduate whether
    they may apply to one."""

    lookup_value_converter = "int"
    schema = PortalAutoSchema()

    serializer_class = ApartmentProjectSerializer
    permission_classes = [AllowAny]
    filter_backends: list = []

    def get_permissions(self):
        if self.action == "eligibility":
            return [IsAuthenticated()]
        return super().get_permissions()

    def get_queryset(self):
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            params = ProjectFilterParams(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            district = params.validated_data.get("district")
            return selectors.projects_public(
                district_code=district.code if district else None, kind=params.validated_data.get("kind")
            )
        return selectors.projects_public()

    def retrieve(self, request, *args, **kwargs):
        project = self.get_object()
        project.public_rounds = selectors.rounds_open_of(project=project)
        return Response(ApartmentProjectDetailSerializer(project, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Eligibility check",
        description="May I apply to this project? Each criterion of the project kind's rule with ✓/✗ and the "
        "values used (a preview: applying checks again). For graduates only.",
        responses={200: HousingEligibilitySerializer},
    )
    @action(detail=True, methods=["get"])
    def eligibility(self, request, pk=None):
        project = self.get_object()
        if request.user.role != Role.GRADUATE:
            raise PermissionDenied(_("Only graduates can apply for housing."))
        result = services.housing_eligibility(user=request.user, project=project)
        return Response(HousingEligibilitySerializer(result.as_dict()).data)


# --- applications -------------------------------------------------------------------------------


class HousingProjectBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = HousingProject
        fields = ["id", "name", "kind", "address"]
        read_only_fields = fields


class HousingUnitSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True, help_text="Building and number, e.g. 3-101.")
    unit_type = HousingUnitTypeSerializer(read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "label", "building", "floor", "number", "unit_type"]
        read_only_fields = fields


class HousingApplicationOfferSerializer(serializers.ModelSerializer):
    unit = HousingUnitSerializer(read_only=True)

    class Meta:
        model = HousingOffer
        fields = ["id", "unit", "deadline", "status", "responded_at", "status_reason", "created_at"]
        read_only_fields = fields


class HousingApplicationSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True, help_text="The number on the published results, e.g. R3-00042.")
    round = HousingRoundBriefSerializer(read_only=True)
    project = HousingProjectBriefSerializer(source="round.project", read_only=True)
    unit_types = HousingUnitTypeSerializer(many=True, read_only=True, help_text="The unit types you would accept.")
    eligibility = HousingEligibilitySerializer(read_only=True, help_text="The check made when you applied.")
    offers = HousingApplicationOfferSerializer(many=True, read_only=True, help_text="Units offered, latest first.")

    class Meta:
        model = HousingApplication
        fields = [
            "id",
            "reference",
            "status",
            "status_reason",
            "round",
            "project",
            "applicant_list",
            "bucket",
            "rank",
            "bucket_rank",
            "unit_types",
            "household_size",
            "no_home_declared_at",
            "note",
            "eligibility",
            "offers",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class HousingApplySerializer(serializers.Serializer):
    """The application form: a published round, the unit types of that round one would
    accept, the household, the signed declaration and, optionally, uploaded documents."""

    round = serializers.PrimaryKeyRelatedField(
        queryset=AllocationRound.objects.exclude(status=RoundStatus.DRAFT).filter(project__published=True),
        error_messages={"does_not_exist": _("No published round has this id.")},
    )
    unit_types = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=UnitType.objects.all(),
        allow_empty=False,
        error_messages={"does_not_exist": _("No unit type has this id.")},
        help_text="Ids of the round's unit types you would accept.",
    )
    household_size = serializers.IntegerField(min_value=1, max_value=10)
    no_home_declared = serializers.BooleanField(
        help_text="true: I declare that I own no home in Luoyang (required to apply)."
    )
    documents = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Document.objects.none(),
        required=False,
        error_messages={"does_not_exist": _("Choose only your own uploaded documents.")},
        help_text="Ids of your uploaded documents to attach.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        own = (
            portal_selectors.documents_of(user=request.user)
            if request is not None and request.user.is_authenticated
            else Document.objects.none()
        )
        fields["documents"].child_relation.queryset = own
        return fields

    def validate_documents(self, value):
        if len(value) > MAX_DOCUMENTS:
            raise ValidationError(_("Attach at most %(n)d documents.") % {"n": MAX_DOCUMENTS})
        return value


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class HousingFailedCriterionSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="closed, duplicate, or the code of a failed eligibility criterion (profile, education, ...)"
    )
    message = serializers.CharField()


_application_refused = inline_serializer(
    "HousingApplicationRefused",
    fields={
        "non_field_errors": serializers.ListField(child=serializers.CharField(), required=False),
        "failed_criteria": HousingFailedCriterionSerializer(many=True, required=False),
        "round": serializers.ListField(child=serializers.CharField(), required=False),
        "unit_types": serializers.ListField(child=serializers.CharField(), required=False),
        "household_size": serializers.ListField(child=serializers.CharField(), required=False),
        "no_home_declared": serializers.ListField(child=serializers.CharField(), required=False),
        "documents": serializers.ListField(child=serializers.CharField(), required=False),
        "note": serializers.ListField(child=serializers.CharField(), required=False),
    },
)


def _application_refusal(exc: DjangoValidationError) -> ValidationError:
    """A refused application as a 400: a refusal about one input under that input's name;
    anything else (closed round, already applied, failed eligibility criteria) as
    non-field errors with each code, so that a client can point at what to fix."""
    if hasattr(exc, "error_dict"):
        return drf_error(exc)
    failed = [{"code": e.code or "refused", "message": m} for e in exc.error_list for m in e.messages]
    fields: dict[str, list[str]] = {}
    for item in failed:
        field = FIELD_OF_CODE.get(item["code"])
        if field is not None:
            fields.setdefault(field, []).append(item["message"])
    if fields and all(FIELD_OF_CODE.get(f["code"]) for f in failed):
        return ValidationError(fields)
    return ValidationError({"non_field_errors": exc.messages, "failed_criteria": failed})


@extend_schema_view(
    list=extend_schema(summary="My housing applications", description="Latest first, with the offers made."),
    retrieve=extend_schema(summary="One of my housing applications"),
)
class ApplicationViewSet(mixins.CreateModelMixin, OwnRowsViewSet):
    """The signed-in graduate's housing applications; POST applies in an open round."""

    serializer_class = HousingApplicationSerializer
    filterset_fields = ["status"]

    def own_rows(self):
        return selectors.applications_of(user=self.request.user)

    @extend_schema(
        summary="Apply in a round",
        description="Apply from your profile in a round that is taking applications. The project kind's rule runs "
        "now; a refusal lists each failed criterion with its code. One active application per round.",
        request=HousingApplySerializer,
        responses={201: HousingApplicationSerializer, 400: _application_refused},
    )
    def create(self, request, *args, **kwargs):
        body = HousingApplySerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            application = services.housing_application_submit(
                applicant=request.user,
                round=data["round"],
                unit_types=data["unit_types"],
                household_size=data["household_size"],
                no_home_declared=data["no_home_declared"],
                documents=data.get("documents", []),
                note=data.get("note", ""),
            )
        except DjangoPermissionDenied as exc:
            raise drf_error(exc) from exc
        except DjangoValidationError as exc:
            raise _application_refusal(exc) from exc
        return self.reread(application, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Withdraw my application",
        description="Possible until the draw of the round starts; after the draw, decline the offer instead.",
        request=WithdrawSerializer,
        responses={200: HousingApplicationSerializer},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        application = self.get_object()
        body = WithdrawSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with service_refusals():
            services.housing_application_withdraw(
                application=application, actor=request.user, reason=body.validated_data.get("reason", "")
            )
        return self.reread(application)


# --- offers -------------------------------------------------------------------------------------


class HousingRoundNameSerializer(serializers.ModelSerializer):
    class Meta:
        model = AllocationRound
        fields = ["id", "name"]
        read_only_fields = fields


class HousingOfferSerializer(serializers.ModelSerializer):
    application = serializers.IntegerField(source="application_id", read_only=True)
    reference = serializers.CharField(source="application.reference", read_only=True)
    round = HousingRoundNameSerializer(source="application.round", read_only=True)
    project = HousingProjectBriefSerializer(source="unit.project", read_only=True)
    unit = HousingUnitSerializer(read_only=True)

    class Meta:
        model = HousingOffer
        fields = [
            "id",
            "application",
            "reference",
            "round",
            "project",
            "unit",
            "deadline",
            "status",
            "responded_at",
            "status_reason",
            "created_at",
        ]
        read_only_fields = fields


class HousingLeaseSerializer(serializers.ModelSerializer):
    offer = serializers.IntegerField(source="offer_id", read_only=True, allow_null=True)
    project = HousingProjectBriefSerializer(source="unit.project", read_only=True)
    unit = HousingUnitSerializer(read_only=True)
    rent_free_until = serializers.DateField(
        read_only=True, allow_null=True, help_text="The first day rent is due again; null without rent-free months."
    )

    class Meta:
        model = Lease
        fields = [
            "id",
            "offer",
            "project",
            "unit",
            "start",
            "end",
            "monthly_rent",
            "rent_free_months",
            "rent_free_until",
            "reduced_rent_percent",
            "status",
        ]
        read_only_fields = fields


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


@extend_schema_view(
    list=extend_schema(summary="My unit offers", description="Latest first."),
    retrieve=extend_schema(summary="One of my unit offers"),
)
class OfferViewSet(OwnRowsViewSet):
    """Units offered to the signed-in graduate after a draw: accept one before its deadline
    and get the lease, or decline it so it passes to the next in rank."""

    serializer_class = HousingOfferSerializer
    filterset_fields = ["status"]

    def own_rows(self):
        return selectors.offers_of(user=self.request.user)

    @extend_schema(
        summary="Accept the offer",
        description="Take the unit before the deadline: the lease is drawn up with the rent-free months and the "
        "reduced rent in force.",
        request=None,
        responses={200: HousingLeaseSerializer},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        offer = self.get_object()
        with service_refusals():
            lease = services.housing_offer_accept(offer=offer, actor=request.user)
        lease = selectors.leases_of(user=request.user).get(pk=lease.pk)
        return Response(HousingLeaseSerializer(lease).data)

    @extend_schema(
        summary="Decline the offer",
        description="Turn the unit down; it passes to the next in rank.",
        request=DeclineSerializer,
        responses={200: HousingOfferSerializer},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        offer = self.get_object()
        body = DeclineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with service_refusals():
            services.housing_offer_decline(
                offer=offer, actor=request.user, reason=body.validated_data.get("reason", "")
            )
        return self.reread(offer)
