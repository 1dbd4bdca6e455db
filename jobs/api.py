"""Jobs API under /api/v1/: search and apply for graduates, and /employer/ endpoints for
members of verified organisations. Serializers validate; services write."""

from django.core.cache import cache
from django.shortcuts import get_object_or_404
from django.urls import include, path
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from jobs import selectors, services
from jobs.constants import (
    POSITION_FIELDS,
    SEARCH_CACHE_SECONDS,
    ApplicationStatus,
    PositionKind,
    RejectionReason,
    SortOrder,
)
from jobs.forms import district_choices
from jobs.models import Interview, JobApplication, Position
from portal import selectors as portal_selectors
from portal.api import ApiErrorSerializer, OwnRowsViewSet, PortalAutoSchema, service_refusals
from portal.constants import EducationLevel, Industry
from portal.models import District


class PositionSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    organisation_id = serializers.IntegerField(read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", queryset=District.objects.all())

    class Meta:
        model = Position
        fields = [
            "id",
            "organisation",
            "organisation_id",
            *POSITION_FIELDS,
            "status",
            "published_at",
        ]
        read_only_fields = ["status", "published_at"]


class EmployerPositionSerializer(PositionSerializer):
    organisation_id = serializers.IntegerField()
    applicant_count = serializers.IntegerField(read_only=True)
    # "" unless staff rejected the position.
    rejection_reason = serializers.ChoiceField(choices=RejectionReason.choices, allow_blank=True, read_only=True)

    class Meta(PositionSerializer.Meta):
        fields = [*PositionSerializer.Meta.fields, "status_reason", "rejection_reason", "applicant_count"]
        read_only_fields = ["status", "published_at", "status_reason", "rejection_reason"]


class SearchParams(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    kind = serializers.ChoiceField(choices=PositionKind.choices, required=False)
    district = serializers.ChoiceField(choices=[], required=False)
    industry = serializers.ChoiceField(choices=Industry.choices, required=False)
    education = serializers.ChoiceField(choices=EducationLevel.choices, required=False)
    salary_min = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)
    base_only = serializers.BooleanField(required=False)
    ordering = serializers.ChoiceField(choices=SortOrder.choices, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # District codes from the shared cache: a repeated search costs no query at all.
        self.fields["district"].choices = district_choices()


_search_params = [
    OpenApiParameter("q", OpenApiTypes.STR, description="Words to find (Chinese or English)"),
    OpenApiParameter("kind", OpenApiTypes.STR, enum=PositionKind.values),
    OpenApiParameter("district", OpenApiTypes.STR, description="District code, e.g. luolong"),
    OpenApiParameter("industry", OpenApiTypes.STR, enum=Industry.values),
    OpenApiParameter("education", OpenApiTypes.STR, enum=EducationLevel.values),
    OpenApiParameter("salary_min", OpenApiTypes.INT),
    OpenApiParameter("base_only", OpenApiTypes.BOOL),
    OpenApiParameter("ordering", OpenApiTypes.STR, enum=SortOrder.values),
]


class ApplySerializer(serializers.Serializer):
    cover_note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    cv = serializers.FileField(required=False)
    shared_documents = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=20)


class InterviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = Interview
        fields = ["id", "starts_at", "place", "online_link", "note", "created_at"]
        read_only_fields = ["id", "created_at"]


class JobApplicationSerializer(serializers.ModelSerializer):
    position = PositionSerializer(read_only=True)
    interviews = InterviewSerializer(many=True, read_only=True)

    class Meta:
        model = JobApplication
        fields = ["id", "position", "status", "cover_note", "status_reason", "interviews", "created_at", "updated_at"]
        read_only_fields = fields


class ApplicantSummarySerializer(serializers.Serializer):
    real_name = serializers.CharField()
    id_number_masked = serializers.CharField()
    education_level = serializers.CharField()
    school = serializers.CharField()
    major = serializers.CharField()
    graduation_date = serializers.DateField()


class EmployerApplicationSerializer(serializers.ModelSerializer):
    position_id = serializers.IntegerField(read_only=True)
    applicant = ApplicantSummarySerializer(source="applicant.profile", read_only=True)
    interviews = InterviewSerializer(many=True, read_only=True)

    class Meta:
        model = JobApplication
        fields = ["id", "position_id", "applicant", "status", "cover_note", "status_reason", "interviews", "created_at"]
        read_only_fields = fields


class DecisionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(
        choices=[
            ApplicationStatus.VIEWED,
            ApplicationStatus.OFFERED,
            ApplicationStatus.HIRED,
            ApplicationStatus.REJECTED,
        ]
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


@extend_schema_view(list=extend_schema(parameters=_search_params))
class PositionViewSet(viewsets.ReadOnlyModelViewSet):
    """Published positions open for applications: search and detail (no sign-in needed)."""

    lookup_value_converter = "int"
    schema = PortalAutoSchema()

    serializer_class = PositionSerializer
    permission_classes = [AllowAny]
    filter_backends: list = []

    def _filters(self) -> selectors.PositionFilters:
        if getattr(self, "_search_filters", None) is not None:
            return self._search_filters
        params = SearchParams(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        self._search_filters = selectors.PositionFilters(
            q=data.get("q", ""),
            kind=data.get("kind", ""),
            district=data.get("district", ""),
            industry=data.get("industry", ""),
            education=data.get("education", ""),
            salary_min=data.get("salary_min"),
            base_only=data.get("base_only", False),
            sort=data.get("ordering", SortOrder.NEWEST),
        )
        return self._search_filters

    def get_queryset(self):
        if self.action == "list":
            return selectors.positions_search(filters=self._filters())
        return selectors.positions_search(filters=selectors.PositionFilters())

    def list(self, request, *args, **kwargs):
        # The same for every caller for a short while (SEARCH_CACHE_SECONDS);
        # the host is in the key because the page links are absolute.
        key = "api:" + selectors.search_cache_key(
            filters=self._filters(),
            page=f"{request.query_params.get('page', '1')}|{request.build_absolute_uri('/')}",
            language=get_language(),
        )
        data = cache.get(key)
        if data is None:
            data = super().list(request, *args, **kwargs).data
            cache.set(key, data, SEARCH_CACHE_SECONDS)
        return Response(data)

    def get_permissions(self):
        if self.action == "apply":
            from rest_framework.permissions import IsAuthenticated

            return [IsAuthenticated()]
        return super().get_permissions()

    @extend_schema(request=ApplySerializer, responses={201: JobApplicationSerializer})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser, FormParser])
    def apply(self, request, pk=None):
        position = self.get_object()
        body = ApplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with service_refusals():
            application = services.job_application_submit(
                position=position,
                applicant=request.user,
                cover_note=body.validated_data.get("cover_note", ""),
                cv_upload=body.validated_data.get("cv"),
                shared_document_ids=body.validated_data.get("shared_documents", []),
            )
        return Response(JobApplicationSerializer(application).data, status=status.HTTP_201_CREATED)


class MyApplicationViewSet(OwnRowsViewSet):
    """The signed-in graduate's job applications."""

    serializer_class = JobApplicationSerializer
    filterset_fields = ["status"]

    def own_rows(self):
        return selectors.applications_of(user=self.request.user)

    @extend_schema(request=None, responses={200: JobApplicationSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        application = self.get_object()
        with service_refusals():
            services.job_application_withdraw(application=application, actor=request.user)
        application.refresh_from_db()
        return Response(self.get_serializer(application).data)


class EmployerPositionViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, OwnRowsViewSet):
    """Positions of the organisations the signed-in user belongs to."""

    serializer_class = EmployerPositionSerializer
    filterset_fields = ["status", "kind"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def own_rows(self):
        from django.db.models import Count

        return (
            selectors.positions_for_member(user=self.request.user)
            .annotate(applicant_count=Count("applications"))
            .order_by("-created_at")
        )

    @extend_schema(
        responses={
            201: EmployerPositionSerializer,
            404: OpenApiResponse(ApiErrorSerializer, "organisation_id is not one of the caller's organisations."),
        }
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        org = get_object_or_404(
            portal_selectors.organisations_of_member(user=request.user), pk=data.pop("organisation_id")
        )
        with service_refusals():
            position = services.position_create(organisation=org, actor=request.user, data=data)
        position.applicant_count = 0
        return Response(self.get_serializer(position).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        position = self.get_object()
        serializer = self.get_serializer(position, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("organisation_id", None)
        with service_refusals():
            position = services.position_update(position=position, actor=request.user, data=data)
        return self.reread(position)

    @extend_schema(request=None, responses={200: EmployerPositionSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._act(services.position_submit)

    @extend_schema(request=None, responses={200: EmployerPositionSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._act(services.position_close)

    def _act(self, service):
        position = self.get_object()
        with service_refusals():
            service(position=position, actor=self.request.user)
        return self.reread(position)


class EmployerApplicationViewSet(OwnRowsViewSet):
    """Applications to the positions of the signed-in user's organisations."""

    serializer_class = EmployerApplicationSerializer
    filterset_fields = ["status", "position"]

    def own_rows(self):
        return (
            selectors.applications_for_member(user=self.request.user)
            .prefetch_related("interviews")
            .order_by("-created_at")
        )

    @extend_schema(request=DecisionSerializer, responses={200: EmployerApplicationSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        application = self.get_object()
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        to, reason = body.validated_data["to"], body.validated_data.get("reason", "")
        with service_refusals():
            if to == ApplicationStatus.VIEWED:
                services.job_application_mark_viewed(application=application, actor=request.user)
            elif to == ApplicationStatus.OFFERED:
                services.job_application_offer(application=application, actor=request.user)
            elif to == ApplicationStatus.HIRED:
                services.job_application_hire(application=application, actor=request.user)
            else:
                services.job_application_reject(application=application, actor=request.user, reason=reason)
        return self.reread(application)

    @extend_schema(request=InterviewSerializer, responses={201: InterviewSerializer})
    @action(detail=True, methods=["post"])
    def invite(self, request, pk=None):
        application = self.get_object()
        body = InterviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with service_refusals():
            interview = services.job_application_invite(
                application=application, actor=request.user, **body.validated_data
            )
        return Response(InterviewSerializer(interview).data, status=status.HTTP_201_CREATED)


# Primary keys are integers in the URL (<int:pk>): a malformed id is a 404 before any view
# code runs, and the schema types the path parameter.
router = SimpleRouter(use_regex_path=False)
router.register("positions", PositionViewSet, basename="position")
router.register("job-applications", MyApplicationViewSet, basename="job-application")
router.register("employer/positions", EmployerPositionViewSet, basename="employer-position")
router.register("employer/applications", EmployerApplicationViewSet, basename="employer-application")

urlpatterns = [path("", include(router.urls))]
