"""Events API under /api/v1/: published events with their free places for anyone;
registering, the signed-in user's registrations (with their place on the waiting list),
cancelling and accepting an offered place; and check-in by ticket code for organisers.
Serializers validate; services write."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from events import selectors, services
from events.constants import EventKind, RegistrationStatus
from events.models import Event, Registration, Venue
from portal.api import OwnRowsViewSet, PortalAutoSchema, service_refusals
from portal.models import District

# At most this many answers in one registration (events have at most 10 questions).
MAX_ANSWERS = 20


def _failures(exc: DjangoValidationError) -> list[dict]:
    return [{"code": e.code or "invalid", "message": m} for e in exc.error_list for m in e.messages]


# --- events -------------------------------------------------------------------------------------


class VenueSerializer(serializers.ModelSerializer):
    class Meta:
        model = Venue
        fields = ["id", "name", "kind", "address", "capacity"]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code", read_only=True)
    district_name = serializers.CharField(source="district.name", read_only=True)
    venue = VenueSerializer(read_only=True, allow_null=True)
    where = serializers.CharField(read_only=True, help_text="The venue and its address, or the place.")
    free_places = serializers.IntegerField(read_only=True, help_text="Places not taken, read live.")

    class Meta:
        model = Event
        fields = [
            "id",
            "kind",
            "title",
            "description",
            "district",
            "district_name",
            "venue",
            "place",
            "where",
            "starts_at",
            "ends_at",
            "capacity",
            "free_places",
            "registration_opens",
            "registration_closes",
            "min_age",
            "max_age",
            "graduates_only",
            "requires_approval",
            "questions",
            "volunteer_hours",
            "cover",
            "status",
        ]
        read_only_fields = fields


class EventBriefSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code", read_only=True)
    where = serializers.CharField(read_only=True)

    class Meta:
        model = Event
        fields = ["id", "kind", "title", "district", "where", "starts_at", "ends_at", "status"]
        read_only_fields = fields


class EventFilterParams(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EventKind.choices, required=False)
    district = serializers.SlugRelatedField(slug_field="code", queryset=District.objects.all(), required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    free_only = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_to"] < attrs["date_from"]:
            raise ValidationError({"date_to": [_("The last day must not be before the first.")]})
        return attrs


_event_params = [
    OpenApiParameter("kind", OpenApiTypes.STR, enum=EventKind.values),
    OpenApiParameter("district", OpenApiTypes.STR, description="District code, e.g. luolong"),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Events starting on or after this day (YYYY-MM-DD)"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Events starting on or before this day (YYYY-MM-DD)"),
    OpenApiParameter("free_only", OpenApiTypes.BOOL, description="Only events with free places"),
]


class RegisterSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=500),
        required=False,
        help_text='Answers to the event\'s questions by their position: {"0": "机械工程", "1": "3"}.',
    )

    def validate_answers(self, value):
        if len(value) > MAX_ANSWERS:
            raise ValidationError(_("Give at most %(n)d answers.") % {"n": MAX_ANSWERS})
        return value


class CheckInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20, help_text="The code on the ticket, typed or scanned from its QR code.")


class CheckedInSerializer(serializers.ModelSerializer):
    participant = serializers.SerializerMethodField(
        help_text="The participant's real name, to compare with their ID card; #arrival order without a profile."
    )

    class Meta:
        model = Registration
        fields = ["id", "participant", "status", "sequence", "checked_in_at"]
        read_only_fields = fields

    def get_participant(self, obj) -> str:
        profile = getattr(obj.user, "profile", None)
        # Without a real name in a profile: the arrival number, not the account's e-mail.
        return (profile.real_name if profile else "") or f"#{obj.sequence}"


# --- registrations ------------------------------------------------------------------------------


class RegistrationSerializer(serializers.ModelSerializer):
    event = EventBriefSerializer(read_only=True)
    waitlist_position = serializers.SerializerMethodField(
        help_text="Place on the waiting list (1 is next); null unless waitlisted."
    )
    check_in_code = serializers.SerializerMethodField(
        help_text="The ticket's code; only for a confirmed or attended registration."
    )

    class Meta:
        model = Registration
        fields = [
            "id",
            "event",
            "status",
            "sequence",
            "waitlist_position",
            "offer_expires_at",
            "check_in_code",
            "checked_in_at",
            "answers",
            "status_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_waitlist_position(self, obj) -> int | None:
        if obj.status != RegistrationStatus.WAITLISTED:
            return None
        position = getattr(obj, "position", None)
        return position if position is not None else selectors.waitlist_position(obj)

    def get_check_in_code(self, obj) -> str | None:
        if obj.status in (RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED):
            return obj.check_in_code
        return None


class RegistrationParams(serializers.Serializer):
    status = serializers.ChoiceField(choices=RegistrationStatus.choices, required=False)


class RegistrationCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class EventFailedCriterionSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="published, window, age, graduate or once")
    message = serializers.CharField()


_registration_refused = inline_serializer(
    "RegistrationRefused",
    fields={
        "non_field_errors": serializers.ListField(child=serializers.CharField(), required=False),
        "failed_criteria": EventFailedCriterionSerializer(many=True, required=False),
        # A list of messages, or for malformed answers the messages per answer.
        "answers": serializers.JSONField(required=False, help_text="What is wrong with the answers."),
    },
)
_check_in_refused = inline_serializer(
    "CheckInRefused",
    fields={
        "code": serializers.ListField(
            child=serializers.CharField(), required=False, help_text="What is wrong with the code."
        ),
        # Only with a well-formed code the service refused; a malformed request has the messages per field.
        "error": serializers.ChoiceField(
            required=False,
            choices=["unknown", "other_event", "too_early", "ended", "twice", "not_confirmed"],
            help_text="unknown: no ticket has this code; other_event: the ticket is for another event; "
            "too_early: check-in has not opened yet; ended: the event is over; "
            "twice: already checked in; not_confirmed: the registration holds no confirmed place.",
        ),
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="Events",
        description="Published events that have not ended, soonest first, with their free places (no sign-in needed).",
        parameters=_event_params,
    ),
    retrieve=extend_schema(
        summary="One event", description="A published (or cancelled) event with its free places, read live."
    ),
)
class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """Published events and their free places; registering; organisers' check-in."""

    lookup_value_converter = "int"
    schema = PortalAutoSchema()

    serializer_class = EventSerializer
    permission_classes = [AllowAny]
    filter_backends: list = []

    def get_permissions(self):
        if self.action in ("register", "check_in"):
            return [IsAuthenticated()]
        return super().get_permissions()

    def get_queryset(self):
        if self.action == "list":
            params = EventFilterParams(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            data = params.validated_data
            district = data.get("district")
            filters = selectors.EventFilters(
                kind=data.get("kind", ""),
                district=district.code if district else "",
                on_or_after=data.get("date_from"),
                on_or_before=data.get("date_to"),
                free_only=data.get("free_only", False),
            )
            return selectors.events_public(filters=filters)
        return Event.objects.none()

    def get_object(self):
        event = selectors.event_public(pk=self.kwargs["pk"])
        if event is None:
            raise Http404
        return event

    @extend_schema(
        summary="Register for an event",
        description="Confirmed while places are free, else on the waiting list in arrival order; events that "
        "need approval hold the registration for the organiser. A refusal lists each failed criterion "
        "with its code (published, window, age, graduate, once).",
        request=RegisterSerializer,
        responses={201: RegistrationSerializer, 400: _registration_refused},
    )
    @action(detail=True, methods=["post"])
    def register(self, request, pk=None):
        event = self.get_object()
        body = RegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            registration = services.registration_create(
                event=event, user=request.user, answers=body.validated_data.get("answers", {})
            )
        except DjangoValidationError as exc:
            failed = _failures(exc)
            if all(f["code"] == "invalid" for f in failed):  # the answers to the questions
                raise ValidationError({"answers": exc.messages}) from exc
            raise ValidationError({"non_field_errors": exc.messages, "failed_criteria": failed}) from exc
        registration = Registration.objects.select_related("event__district", "event__venue").get(pk=registration.pk)
        return Response(RegistrationSerializer(registration).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Check a participant in",
        description="For the event's organisers (staff of its district, city staff, members of the organising "
        "employer); to anyone else the event does not exist (404). The code is the ticket's, in any case "
        "and with or without spaces.",
        request=CheckInSerializer,
        responses={200: CheckedInSerializer, 400: _check_in_refused},
    )
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        event = selectors.events_for_organiser(user=request.user).filter(pk=pk).first()
        if event is None:
            raise NotFound
        body = CheckInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            registration = services.registration_check_in(
                event=event, code=body.validated_data["code"], actor=request.user
            )
        except DjangoPermissionDenied as exc:
            raise NotFound from exc
        except DjangoValidationError as exc:
            raise ValidationError({"code": exc.messages, "error": _failures(exc)[0]["code"]}) from exc
        return Response(CheckedInSerializer(registration).data)


@extend_schema_view(
    list=extend_schema(
        summary="My event registrations",
        description="The signed-in user's registrations, latest event first, each with its place on the waiting list.",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=RegistrationStatus.values)],
    ),
    retrieve=extend_schema(summary="One of my event registrations"),
)
class RegistrationViewSet(OwnRowsViewSet):
    """The signed-in user's event registrations; cancel one, or accept an offered place."""

    serializer_class = RegistrationSerializer
    filter_backends: list = []

    def own_rows(self):
        return Registration.objects.filter(user=self.request.user).select_related("event__district", "event__venue")

    def list(self, request, *args, **kwargs):
        params = RegistrationParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        wanted = params.validated_data.get("status")
        # Positions on the waiting list for the whole page in two queries.
        registrations = [r for r in selectors.registrations_of(user=request.user) if not wanted or r.status == wanted]
        page = self.paginate_queryset(registrations)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Cancel my registration",
        description="Cancel a registration or leave the waiting list; a freed place is offered to the next in line.",
        request=RegistrationCancelSerializer,
        responses={200: RegistrationSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        registration = self.get_object()
        body = RegistrationCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with service_refusals():
            services.registration_cancel(
                registration=registration, actor=request.user, reason=body.validated_data.get("reason", "")
            )
        return self.reread(registration)

    @extend_schema(
        summary="Accept an offered place",
        description="Confirm the place offered from the waiting list before `offer_expires_at`.",
        request=None,
        responses={200: RegistrationSerializer},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        registration = self.get_object()
        with service_refusals():
            services.registration_accept_offer(registration=registration, actor=request.user)
        return self.reread(registration)


# Primary keys are integers in the URL (<int:pk>): a malformed id is a 404 before any view
# code runs, and the schema types the path parameter.
router = SimpleRouter(use_regex_path=False)
router.register("events", EventViewSet, basename="event")
router.register("event-registrations", RegistrationViewSet, basename="event-registration")

urlpatterns = [path("", include(router.urls))]
