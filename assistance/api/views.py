"""The assistance REST API (/api/v1/assistance/). Households come through the one scoped
access path (404 outside scope: a helper sees only paired households); writes go through
the services, whose ValidationErrors become 400s in the project's exception handler."""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from assistance import forms, matching, offline_photos, selectors, services
from assistance.api.serializers import (
    AssessmentSerializer,
    MeasureSerializer,
    MeasureStatusSerializer,
    MeasureWriteSerializer,
    MovementSerializer,
    MovementWriteSerializer,
    OfflineBundleSerializer,
    OfflinePhotoResultSerializer,
    OfflinePhotoSerializer,
    OfflineSyncSerializer,
    OfflineVisitSerializer,
    PairingSerializer,
    ProjectSerializer,
    VisitSerializer,
    VisitWriteSerializer,
)
from assistance.models import FundMovement, Measure, Pairing, Project, Visit
from households import sensitive_reads
from households.models import Household
from households.selectors import household_get_for_user, member_get_for_user
from povertyapp import roles
from povertyapp.conflicts import ConflictError
from povertyapp.http import AuthenticatedRequest, request_user
from povertyapp.photos import photos_with_meta


def _require_recorder(request: AuthenticatedRequest) -> None:
    if not roles.can_record_visits(request.user):
        raise PermissionDenied(_("您的角色只能查看，不能录入帮扶信息。"))


class HouseholdMeasuresApi(generics.GenericAPIView):
    serializer_class = MeasureSerializer
    queryset = Measure.objects.none()  # schema only: views read through the scoped path

    @extend_schema(responses={200: MeasureSerializer(many=True)})
    def get(self, request: AuthenticatedRequest, household_id: int) -> Response:
        household = household_get_for_user(user=request.user, household_id=household_id)
        page = self.paginate_queryset(
            household.measures.select_related("member", "project").order_by("-year", "id")
        )
        return self.get_paginated_response(MeasureSerializer(page, many=True).data)

    @extend_schema(request=MeasureWriteSerializer, responses={201: MeasureSerializer})
    def post(self, request: AuthenticatedRequest, household_id: int) -> Response:
        household = household_get_for_user(user=request.user, household_id=household_id)
        _require_recorder(request)
        serializer = MeasureWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.get("member") is not None:
            data["member"] = member_get_for_user(user=request.user, member_id=data["member"])
        if data.get("project") is not None:
            data["project"] = selectors.measure_project_for(household, data["project"])
        measure = services.measure_create(actor=request.user, household=household, data=data)
        return Response(MeasureSerializer(measure).data, status=status.HTTP_201_CREATED)


class MeasureDetailApi(generics.GenericAPIView):
    serializer_class = MeasureSerializer

    def get(self, request: AuthenticatedRequest, measure_id: int) -> Response:
        measure = selectors.measure_get_for_user(user=request.user, measure_id=measure_id)
        return Response(MeasureSerializer(measure).data)


class MeasureStatusApi(generics.GenericAPIView):
    serializer_class = MeasureStatusSerializer

    @extend_schema(request=MeasureStatusSerializer, responses={200: MeasureSerializer})
    def post(self, request: AuthenticatedRequest, measure_id: int) -> Response:
        measure = selectors.measure_get_for_user(
            user=request.user, measure_id=measure_id, for_write=True
        )
        serializer = MeasureStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        measure = services.measure_change_status(
            actor=request.user,
            measure=measure,
            status=data["status"],
            on=data.get("on"),
            result=data.get("result", ""),
            income_effect=data.get("income_effect"),
            expected_version=data["version"],
        )
        return Response(MeasureSerializer(measure).data)


class HouseholdNeedsApi(generics.GenericAPIView):
    """What the matching rules say the household needs, met or not, and the warnings."""

    serializer_class = AssessmentSerializer

    def get(self, request: AuthenticatedRequest, household_id: int) -> Response:
        household = household_get_for_user(user=request.user, household_id=household_id)
        assessment = matching.assess_household(household, on=timezone.localdate())
        return Response(AssessmentSerializer(assessment).data)


class HouseholdVisitsApi(generics.GenericAPIView):
    serializer_class = VisitSerializer
    queryset = Visit.objects.none()  # schema only: views read through the scoped path

    @extend_schema(responses={200: VisitSerializer(many=True)})
    def get(self, request: AuthenticatedRequest, household_id: int) -> Response:
        household = household_get_for_user(user=request.user, household_id=household_id)
        page = self.paginate_queryset(household.visits.order_by("-date", "-id"))
        return self.get_paginated_response(VisitSerializer(page, many=True).data)

    @extend_schema(request=VisitWriteSerializer, responses={201: VisitSerializer})
    def post(self, request: AuthenticatedRequest, household_id: int) -> Response:
        household = household_get_for_user(user=request.user, household_id=household_id)
        _require_recorder(request)
        serializer = VisitWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        visit = services.visit_record(
            actor=request.user,
            household=household,
            date=data["date"],
            seen=data["seen"],
            done=data.get("done", ""),
            next_steps=data.get("next_steps", ""),
            answers=data.get("answers") or {},
            contact_card_given=data["contact_card_given"],
            benefit_card_given=data["benefit_card_given"],
        )
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)


class HouseholdPairingsApi(generics.GenericAPIView):
    """A household's pairing lines, newest first (few per household: not paginated)."""

    serializer_class = PairingSerializer
    pagination_class = None
    queryset = Pairing.objects.none()  # schema only: views read through the scoped path

    @extend_schema(responses={200: PairingSerializer(many=True)})
    def get(self, request: AuthenticatedRequest, household_id: int) -> Response:
        household = household_get_for_user(user=request.user, household_id=household_id)
        return Response(
            PairingSerializer(household.pairings.order_by("-start_date"), many=True).data
        )


class ProjectListApi(generics.ListAPIView):
    serializer_class = ProjectSerializer

    def get_queryset(self) -> QuerySet[Project]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return Project.objects.none()
        return selectors.project_list(user=request_user(self.request)).order_by("-year", "id")


class ProjectDetailApi(generics.GenericAPIView):
    serializer_class = ProjectSerializer

    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        return Response(ProjectSerializer(project).data)


class ProjectMovementsApi(generics.GenericAPIView):
    serializer_class = MovementSerializer
    queryset = FundMovement.objects.none()  # schema only: views read through the scoped path

    @extend_schema(responses={200: MovementSerializer(many=True)})
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        page = self.paginate_queryset(project.movements.order_by("date", "id"))
        return self.get_paginated_response(MovementSerializer(page, many=True).data)

    @extend_schema(request=MovementWriteSerializer, responses={201: MovementSerializer})
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project = selectors.project_get_for_user(
            user=request.user, project_id=project_id, for_write=True
        )
        serializer = MovementWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        household = None
        if data.get("household") is not None:
            household = household_get_for_user(user=request.user, household_id=data["household"])
        movement = services.fund_movement_record(
            actor=request.user,
            project=project,
            kind=data["kind"],
            source=data["source"],
            amount=data["amount"],
            date=data["date"],
            document_number=data.get("document_number", ""),
            voucher=data.get("voucher", ""),
            household=household,
            note=data.get("note", ""),
        )
        return Response(MovementSerializer(movement).data, status=status.HTTP_201_CREATED)


# --- offline visits (docs/offline.md) ---------------------------------------------------------


class OfflineBundleApi(generics.GenericAPIView):
    """What the offline visit page keeps on the phone: the user's households (scoped and
    masked as online, each with its version; at most `selectors.OFFLINE_LIMIT`, `capped`
    saying so) and the visit form's definition."""

    serializer_class = OfflineBundleSerializer

    def get(self, request: AuthenticatedRequest) -> Response:
        _require_recorder(request)
        households, capped = selectors.offline_households_capped(user=request.user)
        # The bundle carries the heads' ID numbers in full to the roles that see them: the
        # copy kept on the phone is a read like a page's.
        sensitive_reads.record_read(
            request,
            target="offline_bundle",
            object_id="",
            fields=["id_number"] if any(row["head_id_number"] for row in households) else [],
            via="offline",
            ids=[row["id"] for row in households],
            count=len(households),
        )
        return Response(
            {
                "user_key": selectors.offline_user_key(request.user),
                "generated_at": timezone.now(),
                "form": forms.visit_form_definition(
                    can_update_household=roles.can_write_households(request.user)
                ),
                "households": households,
                "capped": capped,
            }
        )


class OfflineVisitSyncApi(generics.GenericAPIView):
    """Apply one visit recorded offline. 201 applied; 200 a retry of an entry applied before
    (the same visit, nothing written); 409 the household changed since the phone downloaded
    it, with both versions (nothing written); 403 the household is no longer in the user's
    scope; 400 the entry is invalid."""

    serializer_class = OfflineVisitSerializer

    @extend_schema(
        request=OfflineVisitSerializer,
        responses={201: OfflineSyncSerializer, 200: OfflineSyncSerializer},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        _require_recorder(request)
        serializer = OfflineVisitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        household = (
            roles.household_scope(request.user, Household.objects.all())
            .filter(pk=data["household"])
            .first()
        )
        if household is None:
            # Not a 404: the phone knew this household; the user is told it left their scope.
            return Response(
                {
                    "code": "out_of_scope",
                    "detail": _(
                        "该户已不在您的帮扶或管辖范围内，这条走访记录不能同步；请与村里核实后删除。"
                    ),
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        updates = {k: v for k, v in data["household_updates"].items() if v is not None}
        try:
            sync, applied = services.visit_sync(
                actor=request.user,
                key=data["key"],
                household=household,
                version=data["version"],
                date=data["date"],
                seen=data["seen"],
                done=data.get("done", ""),
                next_steps=data.get("next_steps", ""),
                answers=data.get("answers"),
                contact_card_given=data["contact_card_given"],
                benefit_card_given=data["benefit_card_given"],
                household_updates=updates,
                recorded_at=data["recorded_at"],
            )
        except ConflictError as error:
            household.refresh_from_db()
            return Response(
                {
                    "code": "conflict",
                    "detail": error.messages[0],
                    "changes": [{k: _plain(v) for k, v in c.items()} for c in error.changes],
                    "mine": {"version": data["version"], "household_updates": updates},
                    "server": selectors.offline_household_state(household),
                },
                status=status.HTTP_409_CONFLICT,
            )
        household.refresh_from_db()
        return Response(
            OfflineSyncSerializer(
                {
                    "result": sync.result,
                    "replayed": not applied,
                    "version": household.version,
                    "visit": sync.visit,
                }
            ).data,
            status=status.HTTP_201_CREATED if applied else status.HTTP_200_OK,
        )


def _plain(value: object) -> object:
    """A conflict's value as JSON: booleans and None as they are, the rest as text."""
    return value if value is None or isinstance(value, bool) else str(value)


class OfflinePhotoApi(generics.GenericAPIView):
    """Upload one photo taken offline, after its entry synced (docs/offline.md "Photos taken
    offline"). 201 stored; 200 the photo key was stored before (a retried upload, nothing
    written); 409 `not_applied` when the entry has not synced yet (send it first); 404 an
    entry of another account; 403 a household no longer in the user's scope; 400 not a photo
    (the message names why) or a bad field."""

    serializer_class = OfflinePhotoSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": OfflinePhotoSerializer},
        responses={201: OfflinePhotoResultSerializer, 200: OfflinePhotoResultSerializer},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        # Those who record offline entries (visits; the clue's and the step's 入户核实 are the
        # cadre's and the county office's, who record visits too): 403 for the others.
        _require_recorder(request)
        serializer = OfflinePhotoSerializer(data=request.data)
        if not serializer.is_valid():
            # Not a photo, too large, a bomb: the guard's message, naming the file.
            return Response(
                {"code": "invalid", "errors": serializer.errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        data = serializer.validated_data
        try:
            sync = offline_photos.entry_for_user(user=request.user, entry_key=data["entry"])
        except offline_photos.NotApplied:
            return Response(
                {
                    "code": "not_applied",
                    "detail": _("这条记录还没有同步到系统，照片要在记录同步之后上传。"),
                },
                status=status.HTTP_409_CONFLICT,
            )
        if (
            sync.household_id is not None
            and not roles.household_scope(request.user, Household.objects.all())
            .filter(pk=sync.household_id)
            .exists()
        ):
            return Response(
                {
                    "code": "out_of_scope",
                    "detail": _("该户已不在您的帮扶或管辖范围内，照片不能上传。"),
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        meta = {
            "key": str(data["key"]),
            "taken_at": data["taken_at"],
            "latitude": data["latitude"],
            "longitude": data["longitude"],
        }
        (photo,) = photos_with_meta([data["photo"]], json.dumps([meta]), uploaded_at=timezone.now())
        try:
            stored, applied = offline_photos.offline_photo_store(
                actor=request.user, sync=sync, photo=photo
            )
        except ValidationError as error:
            return Response(
                {"code": "invalid", "errors": {"photo": error.messages}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(
            OfflinePhotoResultSerializer(
                {
                    "result": "applied",
                    "replayed": not applied,
                    "entry": sync.key,
                    "key": data["key"],
                    "photo": stored.pk,
                }
            ).data,
            status=status.HTTP_201_CREATED if applied else status.HTTP_200_OK,
        )
