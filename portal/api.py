"""API of the portal core under /api/v1/: the signed-in user's profile, notifications and
organisations. Serializers validate; services write."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import include, path
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import RetrieveUpdateAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from portal import selectors, services
from portal.constants import Gender
from portal.models import ApplicantProfile, District, Notification, Organisation
from portal.validators import validate_credit_code, validate_id_number

# --- what every app's API shares -----------------------------------------------------------------


def drf_error(exc: DjangoValidationError | DjangoPermissionDenied) -> ValidationError | PermissionDenied:
    """A service's refusal as the API's answer: a PermissionDenied is a 403 with its reason,
    a ValidationError a 400 with the messages per field (``non_field_errors`` without one)."""
    if isinstance(exc, DjangoPermissionDenied):
        return PermissionDenied(str(exc) or None)
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})


@contextmanager
def service_refusals() -> Iterator[None]:
    """Run a service; its refusal (ValidationError, PermissionDenied) answers as ``drf_error``."""
    try:
        yield
    except (DjangoValidationError, DjangoPermissionDenied) as exc:
        raise drf_error(exc) from exc


class ApiErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Why the request was refused, in the reader's language.")


INPUT_REFUSED = OpenApiResponse(
    {"type": "object", "additionalProperties": {}},
    description="The input was refused: a list of messages per field (nested for nested input), "
    "non_field_errors for the request as a whole.",
)


class PortalAutoSchema(AutoSchema):
    """The OpenAPI description of every portal API view: what it answers, and the refusals
    it can give besides (DRF's own answers, each with its body), so that a client (and the
    API fuzz test) knows every status code to expect. An operation that documents its own
    refusal keeps it."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        safe = self.method in ("GET", "HEAD")
        has_body = not safe and self._get_request_body() is not None
        has_query = any(p["in"] == "query" and p["name"] != "page" for p in self._get_parameters())
        public = safe and all(isinstance(p, AllowAny) for p in self.view.get_permissions())
        refusals = {
            # Every write can be refused by its service (a move the workflow does not allow).
            "400": INPUT_REFUSED if not safe or has_query else None,
            # Also on public operations: an unknown token is refused, not ignored.
            "401": OpenApiResponse(ApiErrorSerializer, "Not signed in, or the token is unknown."),
            "403": None if public else OpenApiResponse(ApiErrorSerializer, "Not allowed for the caller."),
            # Another tenant's object is 404, like one that does not exist; so is a page past the last.
            "404": OpenApiResponse(ApiErrorSerializer, "No such object the caller may see, or no such page.")
            if "{" in self.path or self._is_paginated_list()
            else None,
            "415": OpenApiResponse(ApiErrorSerializer, "The request body is not in a supported media type.")
            if has_body
            else None,
        }
        for code, response in refusals.items():
            if response is not None and code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses

    def _is_paginated_list(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None


class OwnRowsViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in user's own rows (``own_rows``), listed and one by one; subclasses add
    what one may do with them. Ids in the URL are integers; schema generation, which has no
    user, gets no rows."""

    lookup_value_converter = "int"
    schema = PortalAutoSchema()

    def own_rows(self):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return self.serializer_class.Meta.model.objects.none()
        return self.own_rows()

    def reread(self, obj, status: int | None = None) -> Response:
        """The row as a service left it, read like the list reads it, as the answer."""
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data, status=status)


# --- the portal's own endpoints ------------------------------------------------------------------


class ProfileSerializer(serializers.ModelSerializer):
    id_number = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=18)
    id_number_masked = serializers.CharField(read_only=True)
    district = serializers.SlugRelatedField(
        slug_field="code", queryset=District.objects.all(), allow_null=True, required=False
    )
    is_from_outside_luoyang = serializers.BooleanField(read_only=True, allow_null=True)
    # Read from the ID number: "" until one is given.
    gender = serializers.ChoiceField(choices=Gender.choices, allow_blank=True, read_only=True)
    completeness = serializers.SerializerMethodField()

    class Meta:
        model = ApplicantProfile
        fields = [
            "real_name",
            "id_number",
            "id_number_masked",
            "birth_date",
            "gender",
            "phone",
            "education_level",
            "school",
            "major",
            "graduation_date",
            "hukou_province",
            "hukou_city",
            "is_from_outside_luoyang",
            "district",
            "current_employer",
            "works_in_luoyang",
            "completeness",
        ]
        read_only_fields = ["birth_date", "gender"]

    def get_completeness(self, obj) -> dict:
        c = selectors.profile_completeness(profile=obj)
        return {"percent": c.percent, "missing": c.missing}

    def validate_id_number(self, value: str) -> str:
        try:
            return validate_id_number(value) if value else ""
        except DjangoValidationError as exc:
            raise ValidationError(exc.messages) from exc


class MeView(RetrieveUpdateAPIView):
    """The signed-in graduate's profile. The ID number is write-only and read back masked."""

    serializer_class = ProfileSerializer
    schema = PortalAutoSchema()
    http_method_names = ["get", "patch", "put", "head", "options"]

    def get_object(self):
        return services.profile_get_or_create(user=self.request.user)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        id_number = data.pop("id_number", "")
        try:
            serializer.instance = services.profile_update(user=self.request.user, data=data, id_number=id_number)
        except DjangoValidationError as exc:
            raise drf_error(exc) from exc


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "link", "created_at", "read_at"]
        read_only_fields = fields


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=500)


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    schema = PortalAutoSchema()
    filterset_fields = {"read_at": ["isnull"], "kind": ["exact"]}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Notification.objects.none()
        return selectors.notifications_for(user=self.request.user)

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        services.notifications_mark_read(user=request.user, ids=[notification.pk])
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        request=MarkReadSerializer, responses={200: {"type": "object", "properties": {"marked": {"type": "integer"}}}}
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        body = MarkReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        marked = services.notifications_mark_read(user=request.user, ids=body.validated_data.get("ids"))
        return Response({"marked": marked})


class OrganisationSerializer(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(slug_field="code", queryset=District.objects.all())

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "credit_code",
            "kind",
            "district",
            "industry",
            "size",
            "address",
            "contact_name",
            "contact_phone",
            "contact_email",
            "description",
            "status",
            "status_reason",
            "verified_at",
            "created_at",
        ]
        read_only_fields = ["status", "status_reason", "verified_at", "created_at"]
        extra_kwargs = {"credit_code": {"validators": []}}

    def validate_credit_code(self, value: str) -> str:
        try:
            return validate_credit_code(value)
        except DjangoValidationError as exc:
            raise ValidationError(exc.messages) from exc


class OrganisationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Organisations the signed-in user belongs to; POST registers a new one."""

    serializer_class = OrganisationSerializer
    schema = PortalAutoSchema()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Organisation.objects.none()
        return selectors.organisations_of_member(user=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            org = services.organisation_register(user=request.user, data=serializer.validated_data)
        except DjangoValidationError as exc:
            raise drf_error(exc) from exc
        return Response(self.get_serializer(org).data, status=status.HTTP_201_CREATED)


router = DefaultRouter()
router.include_format_suffixes = False  # no ".json" twins of every URL
router.register("notifications", NotificationViewSet, basename="notification")
router.register("organisations", OrganisationViewSet, basename="organisation")

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("", include(router.urls)),
]
