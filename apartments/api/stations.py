"""Youth-station API under /api/v1/: stations with tonight's free beds and a calendar of free
beds for anyone; booking, cancelling, the job-suggestion switch and the follow-up answer
for the signed-in graduate's own stays. Serializers validate; services write."""

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from apartments import selectors, services
from apartments.constants import FollowUpOutcome, FollowUpStage
from apartments.models import FollowUp, Station, Stay
from portal.api import OwnRowsViewSet, PortalAutoSchema, drf_error, service_refusals
from portal.constants import DocumentKind
from portal.models import Document

# The calendar an API client may ask for at once, and how far ahead it may look.
AVAILABILITY_MAX_NIGHTS = 60
AVAILABILITY_DEFAULT_NIGHTS = 30
AVAILABILITY_HORIZON_DAYS = 365
# Bookings open this many days ahead (the booking form has the same horizon).
BOOKING_HORIZON_DAYS = 60


# --- stations -----------------------------------------------------------------------------------


class StationSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code", read_only=True)
    district_name = serializers.CharField(source="district.name", read_only=True)
    free_tonight = serializers.IntegerField(read_only=True, help_text="Beds free tonight (0 when closed).")

    class Meta:
        model = Station
        fields = [
            "id",
            "name",
            "kind",
            "district",
            "district_name",
            "address",
            "beds",
            "free_tonight",
            "contact_name",
            "contact_phone",
            "description",
            "house_rules",
            "photo",
        ]
        read_only_fields = fields


class NightSerializer(serializers.Serializer):
    date = serializers.DateField()
    beds = serializers.IntegerField()
    free = serializers.IntegerField()
    closed = serializers.BooleanField()


class AvailabilitySerializer(serializers.Serializer):
    station = serializers.IntegerField()
    start = serializers.DateField(help_text="First night.")
    end = serializers.DateField(help_text="Last night (inclusive).")
    nights = NightSerializer(many=True)


class AvailabilityParams(serializers.Serializer):
    """``from`` and ``to`` are the first and the last night (inclusive)."""

    to = serializers.DateField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)  # a Python keyword: declared here
        return fields

    def validate(self, attrs):
        today = timezone.localdate()
        start = attrs.get("from") or today
        end = attrs.get("to") or start + dt.timedelta(days=AVAILABILITY_DEFAULT_NIGHTS - 1)
        if start < today:
            raise ValidationError({"from": [_("Choose nights from today on.")]})
        if start > today + dt.timedelta(days=AVAILABILITY_HORIZON_DAYS):
            raise ValidationError({"from": [_("Choose nights within the next year.")]})
        if end < start:
            raise ValidationError({"to": [_("The last night must not be before the first.")]})
        if (end - start).days + 1 > AVAILABILITY_MAX_NIGHTS:
            raise ValidationError(
                {"to": [_("Ask for at most %(n)d nights at a time.") % {"n": AVAILABILITY_MAX_NIGHTS}]}
            )
        return {"start": start, "end": end}


class CriterionSerializer(serializers.Serializer):
    code = serializers.CharField()
    passed = serializers.BooleanField()
    message = serializers.CharField()


class FailedCriterionSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class EligibilitySerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    criteria = CriterionSerializer(many=True)
    parameters = serializers.DictField(help_text="The parameter values the check used.")


def _own_letters(request):
    if request is None or not request.user.is_authenticated:
        return Document.objects.none()
    return Document.objects.filter(owner=request.user, kind=DocumentKind.INVITATION_LETTER)


class BookingCheckSerializer(serializers.Serializer):
    """Dates of a stay and, without an interview invitation in the portal, one of the
    graduate's uploaded invitation or offer letters."""

    check_in = serializers.DateField()
    nights = serializers.IntegerField(min_value=1, max_value=30)
    invitation_document = serializers.PrimaryKeyRelatedField(
        queryset=Document.objects.none(),
        required=False,
        allow_null=True,
        help_text="Id of one of your documents of kind invitation_letter.",
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["invitation_document"].queryset = _own_letters(self.context.get("request"))
        return fields

    def validate_check_in(self, value):
        today = timezone.localdate()
        if value < today:
            raise ValidationError(_("The check-in date is in the past."))
        if value > today + dt.timedelta(days=BOOKING_HORIZON_DAYS):
            raise ValidationError(_("Bookings open 60 days ahead."))
        return value


_availability_params = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First night (YYYY-MM-DD); today by default"),
    OpenApiParameter(
        "to",
        OpenApiTypes.DATE,
        description=f"Last night, inclusive (YYYY-MM-DD); {AVAILABILITY_DEFAULT_NIGHTS} nights by default, "
        f"at most {AVAILABILITY_MAX_NIGHTS}",
    ),
]
_check_params = [
    OpenApiParameter("check_in", OpenApiTypes.DATE, required=True),
    OpenApiParameter("nights", OpenApiTypes.INT, required=True),
    OpenApiParameter("invitation_document", OpenApiTypes.INT, description="Id of your uploaded invitation letter"),
]


@extend_schema_view(
    list=extend_schema(
        summary="Youth stations", description="Active stations with tonight's free beds (no sign-in needed)."
    ),
    retrieve=extend_schema(summary="One youth station", description="The station with tonight's free beds."),
)
class StationViewSet(viewsets.ReadOnlyModelViewSet):
    """Active youth stations with tonight's free beds, and each station's free beds per
    night (no sign-in needed)."""

    lookup_value_converter = "int"
    schema = PortalAutoSchema()

    serializer_class = StationSerializer
    permission_classes = [AllowAny]
    filter_backends: list = []

    def get_queryset(self):
        return selectors.stations_public()

    def get_permissions(self):
        if self.action == "eligibility":
            return [IsAuthenticated()]
        return super().get_permissions()

    def list(self, request, *args, **kwargs):
        # Tonight's free beds for every station in a fixed number of queries.
        page = self.paginate_queryset(selectors.stations_with_tonight())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        station = self.get_object()
        station.free_tonight = selectors.availability(station=station, start=timezone.localdate(), days=1)[0].free
        return Response(self.get_serializer(station).data)

    @extend_schema(
        summary="Free beds per night",
        description="Free beds of the station for each night from `from` to `to` (inclusive), read live. "
        "Dates in the past, a reversed range or more than 60 nights answer 400.",
        parameters=_availability_params,
        responses={200: AvailabilitySerializer},
    )
    @action(detail=True, methods=["get"])
    def availability(self, request, pk=None):
        station = self.get_object()
        params = AvailabilityParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        start, end = params.validated_data["start"], params.validated_data["end"]
        nights = selectors.availability(station=station, start=start, days=(end - start).days + 1)
        body = {
            "station": station.pk,
            "start": start,
            "end": end,
            "nights": [{"date": n.date, "beds": n.beds, "free": n.free, "closed": n.closed} for n in nights],
        }
        return Response(AvailabilitySerializer(body).data)

    @extend_schema(summary="Eligibility preview", parameters=_check_params, responses={200: EligibilitySerializer})
    @action(detail=True, methods=["get"])
    def eligibility(self, request, pk=None):
        """May I book these nights here? Each criterion with ✓/✗ and the reason (a preview:
        the booking checks again)."""
        station = self.get_object()
        params = BookingCheckSerializer(data=request.query_params, context=self.get_serializer_context())
        params.is_valid(raise_exception=True)
        result = services.stay_eligibility(
            user=request.user,
            station=station,
            check_in=params.validated_data["check_in"],
            nights=params.validated_data["nights"],
            invitation_document=params.validated_data.get("invitation_document"),
        )
        return Response(EligibilitySerializer(result.as_dict()).data)


# --- stays --------------------------------------------------------------------------------------


class StationBriefSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code", read_only=True)

    class Meta:
        model = Station
        fields = ["id", "name", "district", "address", "contact_name", "contact_phone"]
        read_only_fields = fields


class FollowUpSerializer(serializers.ModelSerializer):
    waiting_for_answer = serializers.SerializerMethodField()
    outcome = serializers.ChoiceField(
        choices=FollowUpOutcome.choices, allow_blank=True, read_only=True, help_text='"" until answered.'
    )

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "stage",
            "due_on",
            "sent_at",
            "outcome",
            "employer",
            "note",
            "answered_at",
            "waiting_for_answer",
        ]
        read_only_fields = fields

    def get_waiting_for_answer(self, obj) -> bool:
        return _is_open(obj)


class StaySerializer(serializers.ModelSerializer):
    station = StationBriefSerializer(read_only=True)
    check_out = serializers.DateField(read_only=True, help_text="The morning the stay ends.")
    interview = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    invitation_document = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    eligibility = EligibilitySerializer(read_only=True, help_text="The check made when the stay was booked.")
    follow_ups = FollowUpSerializer(many=True, read_only=True)

    class Meta:
        model = Stay
        fields = [
            "id",
            "station",
            "check_in",
            "check_out",
            "nights",
            "status",
            "status_reason",
            "nights_released",
            "interview",
            "invitation_document",
            "eligibility",
            "job_push",
            "checked_in_at",
            "checked_out_at",
            "follow_ups",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class StayCreateSerializer(BookingCheckSerializer):
    station = serializers.PrimaryKeyRelatedField(queryset=Station.objects.filter(active=True))


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class JobPushSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()


class FollowUpAnswerSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(
        choices=FollowUpStage.choices,
        required=False,
        help_text="Which follow-up to answer; the earliest one waiting for an answer by default.",
    )
    outcome = serializers.ChoiceField(choices=FollowUpOutcome.choices)
    employer = serializers.CharField(required=False, allow_blank=True, max_length=120)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def _is_open(follow_up: FollowUp) -> bool:
    """Sent to the graduate and not answered yet (by them, by staff or by a recorded hire)."""
    return not follow_up.outcome and follow_up.sent_at is not None


_booking_refused = inline_serializer(
    "BookingRefused",
    fields={
        # A refused booking; a malformed one has the messages per field instead.
        "non_field_errors": serializers.ListField(child=serializers.CharField(), required=False),
        "failed_criteria": FailedCriterionSerializer(many=True, required=False),
    },
)


@extend_schema_view(
    list=extend_schema(summary="My station stays"),
    retrieve=extend_schema(summary="One of my station stays"),
)
class StayViewSet(mixins.CreateModelMixin, OwnRowsViewSet):
    """The signed-in graduate's youth-station stays; POST books one."""

    serializer_class = StaySerializer
    filterset_fields = ["status"]

    def own_rows(self):
        return selectors.stays_of(user=self.request.user)

    @extend_schema(
        summary="Book a stay",
        request=StayCreateSerializer,
        responses={201: StaySerializer, 400: _booking_refused},
    )
    def create(self, request, *args, **kwargs):
        body = StayCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        booking = {
            "station": data["station"],
            "check_in": data["check_in"],
            "nights": data["nights"],
            "invitation_document": data.get("invitation_document"),
        }
        try:
            stay = services.stay_book(applicant=request.user, **booking)
        except DjangoValidationError as exc:
            raise self._refused(exc, booking) from exc
        return self.reread(stay, status=status.HTTP_201_CREATED)

    def _refused(self, exc: DjangoValidationError, booking: dict) -> ValidationError:
        """A refused booking: its messages, and each failed criterion with its code, so that a
        client can point at what to fix. A refusal the service gave without codes (the
        eligibility list) is explained by evaluating the rule again, a read."""
        if hasattr(exc, "error_dict"):
            return drf_error(exc)
        failed = [{"code": e.code, "message": m} for e in exc.error_list for m in e.messages]
        if any(f["code"] is None for f in failed):
            result = services.stay_eligibility(user=self.request.user, **booking)
            failed = [{"code": c.code, "message": str(c.message)} for c in result.failures] or [
                {"code": f["code"] or "refused", "message": f["message"]} for f in failed
            ]
        return ValidationError({"non_field_errors": exc.messages, "failed_criteria": failed})

    @extend_schema(
        summary="Cancel a booking",
        description="The nights are free for others at once.",
        request=CancelSerializer,
        responses={200: StaySerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        stay = self.get_object()
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with service_refusals():
            services.stay_cancel(stay=stay, actor=request.user, reason=body.validated_data.get("reason", ""))
        return self.reread(stay)

    @extend_schema(
        summary="Daily job suggestions on or off", request=JobPushSerializer, responses={200: StaySerializer}
    )
    @action(detail=True, methods=["post"], url_path="job-push")
    def job_push(self, request, pk=None):
        """Turn the daily job suggestions for residents on or off."""
        stay = self.get_object()
        body = JobPushSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with service_refusals():
            services.stay_set_job_push(stay=stay, actor=request.user, enabled=body.validated_data["enabled"])
        return self.reread(stay)

    @extend_schema(
        summary="Answer the follow-up", request=FollowUpAnswerSerializer, responses={200: FollowUpSerializer}
    )
    @action(detail=True, methods=["post"], url_path="follow-up")
    def follow_up(self, request, pk=None):
        """Answer the follow-up questionnaire of this stay: found work in Luoyang, still
        searching, or left Luoyang."""
        stay = self.get_object()
        body = FollowUpAnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        waiting = [f for f in stay.follow_ups.all() if _is_open(f) and data.get("stage") in (None, f.stage)]
        if not waiting:
            raise ValidationError({"non_field_errors": [_("No follow-up of this stay is waiting for your answer.")]})
        follow_up = min(waiting, key=lambda f: (f.due_on, f.pk))
        follow_up.stay = stay
        with service_refusals():
            answered = services.follow_up_answer(
                follow_up=follow_up,
                actor=request.user,
                outcome=data["outcome"],
                employer=data.get("employer", ""),
                note=data.get("note", ""),
            )
        return Response(FollowUpSerializer(answered).data)
