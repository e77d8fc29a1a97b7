"""The procedures' API (/api/v1/cases/, /api/v1/notices/, issue 16): the identification and
exit cases (and monitoring's, the same machine) with their steps, 公示 and objections.

Thin over `households.services` (workflow_start, workflow_step_complete, workflow_return,
notice_start, notice_objection_record), exactly as the pages (`households.views.procedures`):
who does which step, the legal order of the dates, the deadlines and the evidence guard are the
services' and `households.workflows`'. Every case is read through the household scope (404
outside it); a role that may not do the current step gets 403 before its body is read. A write
names the `version` of the case it was based on: a case that moved on meanwhile answers 409
with its current version and step, never a silent overwrite.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from households import selectors, services, workflows
from households.models import CaseWorkflow, NoticeObjection, PublicNotice, WorkflowStep
from households.services import common
from povertyapp import files, roles
from povertyapp import forms as house
from povertyapp.api.fields import EvidenceUploadField
from povertyapp.api.filters import IdFilter, RegionCodeFilter
from povertyapp.api.permissions import CaseRolesOnly
from povertyapp.http import AuthenticatedRequest, request_user
from povertyapp.models import User

ERRORS = {
    400: OpenApiResponse(description=gettext_lazy("输入有误：字段错误信息")),
    403: OpenApiResponse(description=gettext_lazy("无权操作")),
    404: OpenApiResponse(description=gettext_lazy("不存在或不在管辖范围内")),
    409: OpenApiResponse(description=gettext_lazy("保存冲突：案件已被他人办理（附当前版本）")),
}
LIST_ERRORS = {
    400: ERRORS[400],
    403: ERRORS[403],
    404: OpenApiResponse(description=gettext_lazy("页码超出范围")),
}
READ_ERRORS = {403: ERRORS[403], 404: ERRORS[404]}
# A step's level and type as the schema names them (ENUM_NAME_OVERRIDES in the settings).
LEVEL_CHOICES = [(level, level) for level in workflows.LEVEL_LABELS]
STEP_TYPE_CHOICES = [(workflows.ACTION, "action"), (workflows.NOTICE, "notice")]

# The services' refusals that are a question of who acts (403) and of a case that moved on (409).
FORBIDDEN_CODES = frozenset({"not_step_owner", "not_allowed", "not_case_owner"})
MOVED_CODES = frozenset({"workflow_moved"})


class CaseMoved(Exception):
    """The case moved on after the client read it (its version, or its step under the lock)."""


def refusal(error: ValidationError, moved: frozenset[str] = MOVED_CODES) -> Exception:
    """A service's refusal as the API answers it: 403 for the wrong person, `CaseMoved` for
    a record handled meanwhile, else the error itself (400 with its messages)."""
    code = None if hasattr(error, "error_dict") else getattr(error, "code", None)
    if code is None and not hasattr(error, "error_dict") and len(error.error_list) == 1:
        code = error.error_list[0].code
    if code in FORBIDDEN_CODES:
        return PermissionDenied(_("；").join(error.messages))
    if code in moved:
        return CaseMoved(_("；").join(error.messages))
    return error


def conflict_response(message: str, **current: Any) -> Response:
    """409 in the shape of the API's other conflicts, with the record's current state."""
    return Response(
        {"non_field_errors": [message], "code": "conflict", "changes": [], **current},
        status=status.HTTP_409_CONFLICT,
    )


# --- reads ------------------------------------------------------------------------------------


def case_queryset(user: User) -> QuerySet[CaseWorkflow]:
    return (
        CaseWorkflow.objects.filter(roles.household_scope_q(user))
        .select_related("household", "household__village")
        .order_by("-started_at", "-id")
    )


def case_get_for_user(user: User, workflow_id: int) -> CaseWorkflow:
    """The scoped access path of a case (the page's): through its household's scope."""
    workflow = case_queryset(user).filter(pk=workflow_id).first()
    if workflow is None:
        raise Http404(_("未找到该案件，或您无权查看。"))
    return workflow


def notice_queryset(user: User) -> QuerySet[PublicNotice]:
    return (
        PublicNotice.objects.filter(
            workflow__in=CaseWorkflow.objects.filter(roles.household_scope_q(user))
        )
        .select_related("workflow", "workflow__household", "workflow__household__village")
        .prefetch_related("objections")
        .order_by("-start_date", "-id")
    )


def notice_get_for_user(user: User, notice_id: int) -> PublicNotice:
    notice = notice_queryset(user).filter(pk=notice_id).first()
    if notice is None:
        raise Http404(_("未找到该公示，或您无权查看。"))
    return notice


# --- shapes -----------------------------------------------------------------------------------


class StepDefinitionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, popped by DRF's metaclass: not Field.label
    level = serializers.ChoiceField(choices=LEVEL_CHOICES)
    type = serializers.ChoiceField(choices=STEP_TYPE_CHOICES)
    needs_evidence = serializers.BooleanField()
    needs_attendance = serializers.BooleanField()


class StepRecordSerializer(serializers.ModelSerializer):
    """A step done, returned, withdrawn, or a 公示 started or objected to."""

    decision_display = serializers.CharField(source="get_decision_display", read_only=True)
    actor_name = serializers.SerializerMethodField()
    evidence_url = serializers.SerializerMethodField()

    class Meta:
        model = WorkflowStep
        fields = [
            "id",
            "step",
            "label",
            "role",
            "decision",
            "decision_display",
            "opinion",
            "attendance",
            "acted_on",
            "actor_name",
            "evidence_url",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_actor_name(self, record: WorkflowStep) -> str:
        actor = record.actor
        return (actor.get_full_name() or actor.username) if actor is not None else ""

    @extend_schema_field(serializers.CharField(allow_blank=True))
    def get_evidence_url(self, record: WorkflowStep) -> str:
        """The file door's signed link for this user (empty: no evidence)."""
        if not record.evidence:
            return ""
        user = self.context["request"].user
        return files.download_url(user=user, kind="workflow_evidence", obj=record)


class ObjectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = NoticeObjection
        fields = ["id", "notice", "received_on", "objector", "content", "created_at"]
        read_only_fields = fields


class NoticeSerializer(serializers.ModelSerializer):
    """A 公示 of one case: its term, phone and objections."""

    workflow = serializers.IntegerField(source="workflow_id", read_only=True)
    kind = serializers.ChoiceField(
        source="workflow.kind", choices=CaseWorkflow.Kind.choices, read_only=True
    )
    household = serializers.IntegerField(source="workflow.household_id", read_only=True)
    household_number = serializers.CharField(source="workflow.household.number", read_only=True)
    village_code = serializers.CharField(source="workflow.household.village.code", read_only=True)
    step_label = serializers.SerializerMethodField()
    end_date = serializers.DateField(read_only=True)
    objections = ObjectionSerializer(many=True, read_only=True)

    class Meta:
        model = PublicNotice
        fields = [
            "id",
            "workflow",
            "kind",
            "household",
            "household_number",
            "village_code",
            "step",
            "step_label",
            "start_date",
            "days",
            "end_date",
            "phone",
            "place",
            "is_open",
            "created_at",
            "objections",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_step_label(self, notice: PublicNotice) -> str:
        return str(workflows.procedure(notice.workflow.kind).step(notice.step).label)


class CaseSerializer(serializers.ModelSerializer):
    """A case in a list: where it stands, whose turn it is, its deadline."""

    household_number = serializers.CharField(source="household.number", read_only=True)
    village_code = serializers.CharField(source="household.village.code", read_only=True)
    village_name = serializers.CharField(source="household.village.name", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    step_label = serializers.SerializerMethodField()
    step_level = serializers.SerializerMethodField()
    step_type = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = CaseWorkflow
        fields = [
            "id",
            "household",
            "household_number",
            "village_code",
            "village_name",
            "kind",
            "kind_display",
            "state",
            "state_display",
            "step",
            "step_label",
            "step_level",
            "step_type",
            "year",
            "round",
            "batch",
            "opened_on",
            "started_at",
            "step_since",
            "deadline",
            "finished_at",
            "overdue",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_step_label(self, workflow: CaseWorkflow) -> str:
        return str(workflows.current_step(workflow).label)

    @extend_schema_field(serializers.ChoiceField(choices=LEVEL_CHOICES))
    def get_step_level(self, workflow: CaseWorkflow) -> str:
        return workflows.current_step(workflow).level

    @extend_schema_field(serializers.ChoiceField(choices=STEP_TYPE_CHOICES))
    def get_step_type(self, workflow: CaseWorkflow) -> str:
        return workflows.current_step(workflow).type

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, workflow: CaseWorkflow) -> bool:
        return workflows.is_overdue(workflow, common.today())


class CaseDetailSerializer(CaseSerializer):
    """A case with its procedure's steps, its records and 公示, and what this user may do."""

    steps = serializers.SerializerMethodField()
    records = serializers.SerializerMethodField()
    notices = NoticeSerializer(many=True, read_only=True)
    open_notice = serializers.SerializerMethodField()
    return_targets = serializers.SerializerMethodField()
    can_act = serializers.SerializerMethodField()
    can_object = serializers.SerializerMethodField()
    can_withdraw = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields,
            "steps",
            "records",
            "notices",
            "open_notice",
            "return_targets",
            "can_act",
            "can_object",
            "can_withdraw",
        ]
        read_only_fields = fields

    def _user(self) -> User:
        return request_user(self.context["request"])

    @extend_schema_field(StepDefinitionSerializer(many=True))
    def get_steps(self, workflow: CaseWorkflow) -> list[dict[str, Any]]:
        return [
            {
                "key": step.key,
                "label": str(step.label),
                "level": step.level,
                "type": step.type,
                "needs_evidence": step.needs_evidence,
                "needs_attendance": step.needs_attendance,
            }
            for step in workflows.procedure(workflow.kind).steps
        ]

    @extend_schema_field(StepRecordSerializer(many=True))
    def get_records(self, workflow: CaseWorkflow) -> Any:
        records = workflow.steps.select_related("actor").order_by("created_at", "id")
        return StepRecordSerializer(records, many=True, context=self.context).data

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_open_notice(self, workflow: CaseWorkflow) -> int | None:
        notice = workflow.notices.filter(step=workflow.step, is_open=True).first()
        return notice.pk if notice is not None else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_return_targets(self, workflow: CaseWorkflow) -> list[str]:
        if workflow.state != CaseWorkflow.State.OPEN:
            return []
        return [step.key for step in workflows.return_targets(workflow)]

    @extend_schema_field(serializers.BooleanField())
    def get_can_act(self, workflow: CaseWorkflow) -> bool:
        return workflows.can_act(self._user(), workflow)

    @extend_schema_field(serializers.BooleanField())
    def get_can_object(self, workflow: CaseWorkflow) -> bool:
        user = self._user()
        return (
            self.get_open_notice(workflow) is not None
            and (roles.can_write_households(user) or roles.can_review(user))
            and roles.region_in_scope(user, workflow.household.village)
        )

    @extend_schema_field(serializers.BooleanField())
    def get_can_withdraw(self, workflow: CaseWorkflow) -> bool:
        return workflows.can_withdraw(self._user(), workflow)


# --- bodies -----------------------------------------------------------------------------------

VERSION_HELP = gettext_lazy("读取案件时的版本号（version）：案件已被他人办理时返回409")


class CaseStartSerializer(serializers.Serializer):
    household = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    kind = serializers.ChoiceField(choices=CaseWorkflow.Kind.choices)
    opinion = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    effective_date = serializers.DateField(
        required=False, allow_null=True, help_text=gettext_lazy("受理日期（默认今天）")
    )
    evidence = EvidenceUploadField(
        required=False, allow_null=True, help_text=gettext_lazy("申请书等（PDF或图片）")
    )


class CaseVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text=VERSION_HELP)


class StepCompleteSerializer(CaseVersionSerializer):
    opinion = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    attendance = serializers.IntegerField(
        min_value=1, max_value=5000, required=False, allow_null=True
    )
    acted_on = serializers.DateField(
        required=False, allow_null=True, help_text=gettext_lazy("办理日期（默认今天）")
    )
    evidence = EvidenceUploadField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("佐证材料（会议记录、照片或扫描件：PDF或图片）"),
    )


class StepReturnSerializer(CaseVersionSerializer):
    opinion = serializers.CharField(max_length=2000, allow_blank=True)
    to_step = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("退回到的环节（默认按程序规定）"),
    )


class NoticeStartSerializer(CaseVersionSerializer):
    start_date = serializers.DateField()
    days = serializers.IntegerField(min_value=1, max_value=30, default=7)
    phone = serializers.CharField(max_length=20, allow_blank=True)
    place = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")


class ObjectionCreateSerializer(serializers.Serializer):
    content = serializers.CharField(max_length=2000, allow_blank=True)
    objector = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    received_on = serializers.DateField(
        required=False, allow_null=True, help_text=gettext_lazy("受理日期（默认今天）")
    )


# --- views ------------------------------------------------------------------------------------


class CaseFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=CaseWorkflow.Kind.choices)
    state = django_filters.ChoiceFilter(choices=CaseWorkflow.State.choices)
    village = RegionCodeFilter(
        field_name="household__village__code", label=gettext_lazy("行政村代码")
    )
    household = IdFilter(field_name="household_id", label=gettext_lazy("户"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=gettext_lazy("已超期"))

    class Meta:
        model = CaseWorkflow
        form = house.Form
        fields = ["kind", "state", "village", "household", "overdue"]

    def filter_overdue(
        self, queryset: QuerySet[CaseWorkflow], name: str, value: bool | None
    ) -> QuerySet[CaseWorkflow]:
        if value is None:
            return queryset
        late = Q(state=CaseWorkflow.State.OPEN, deadline__lt=common.today())
        return queryset.filter(late) if value else queryset.exclude(late)


class CaseApiView(generics.GenericAPIView):
    permission_classes = [IsAuthenticated, CaseRolesOnly]
    # For the schema's path parameter only: every view reads through the scoped helpers.
    queryset = CaseWorkflow.objects.none()


def _detail(request: AuthenticatedRequest, workflow_id: int, **kwargs: Any) -> Response:
    workflow = case_get_for_user(request.user, workflow_id)
    return Response(CaseDetailSerializer(workflow, context={"request": request}).data, **kwargs)


class CaseListCreateApi(CaseApiView):
    """GET: the cases of the households in the user's scope, newest first (filters: kind,
    state, village, household, overdue). POST: a village cadre opens a procedure for a
    household of the village (identification starts with the 农户申请 recorded)."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    # The application may come with its scan (EvidenceUploadField: through the upload guard).
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[CaseWorkflow]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return CaseWorkflow.objects.none()
        return case_queryset(request_user(self.request))

    @extend_schema(responses={200: CaseSerializer(many=True), **LIST_ERRORS})
    def get(self, request: AuthenticatedRequest) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            CaseSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(request=CaseStartSerializer, responses={201: CaseDetailSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest) -> Response:
        if not roles.can_write_households(request.user):
            raise PermissionDenied(_("您的角色只能查看，不能发起程序。"))
        body = CaseStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        household = selectors.household_get_for_user(
            user=request.user, household_id=data["household"], for_write=True
        )
        try:
            workflow = services.workflow_start(
                actor=request.user,
                household=household,
                kind=data["kind"],
                opinion=data.get("opinion") or "",
                evidence=data.get("evidence"),
                effective_date=data.get("effective_date"),
            )
        except ValidationError as error:
            raise refusal(error) from None
        return _detail(request, workflow.pk, status=status.HTTP_201_CREATED)


class CaseDetailApi(CaseApiView):
    serializer_class = CaseDetailSerializer

    @extend_schema(responses={200: CaseDetailSerializer, **READ_ERRORS})
    def get(self, request: AuthenticatedRequest, workflow_id: int) -> Response:
        return _detail(request, workflow_id)


class CaseActionApi(CaseApiView):
    """A write on the case's current step: the owning level only (403 for anyone else, before
    the body is read), on the version the client read (409 when the case moved on)."""

    serializer_class: type[serializers.Serializer] = CaseVersionSerializer

    def act(self, workflow: CaseWorkflow, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: AuthenticatedRequest, workflow_id: int) -> Response:
        workflow = case_get_for_user(request.user, workflow_id)
        if workflow.state == CaseWorkflow.State.OPEN and not workflows.can_act(
            request.user, workflow
        ):
            step = workflows.current_step(workflow)
            raise PermissionDenied(
                _("“%(step)s”环节由%(level)s办理，您无权办理。")
                % {"step": step.label, "level": workflows.LEVEL_LABELS[step.level]}
            )
        if workflow.state != CaseWorkflow.State.OPEN and not (
            roles.can_write_households(request.user) or roles.can_review(request.user)
        ):
            raise PermissionDenied(_("您的角色只能查看，不能办理案件。"))
        body = self.serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        try:
            if data.pop("version") != workflow.version:
                raise CaseMoved(_("该案件已被他人办理，请按当前版本重新提交。"))
            try:
                self.act(workflow, data)
            except ValidationError as error:
                raise refusal(error) from None
        except CaseMoved as moved:
            current = CaseWorkflow.objects.get(pk=workflow.pk)
            return conflict_response(str(moved), version=current.version, step=current.step)
        return _detail(request, workflow.pk)


class CaseCompleteApi(CaseActionApi):
    """Do the current step: an action with its opinion (and evidence, attendance, date where
    the step needs them); a 公示 step once its notice has run its term without objection. The
    last step changes the household's status (公告)."""

    serializer_class = StepCompleteSerializer
    # A step's evidence (EvidenceUploadField: through the upload guard).
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=StepCompleteSerializer, responses={200: CaseDetailSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, workflow_id: int) -> Response:
        return super().post(request, workflow_id)

    def act(self, workflow: CaseWorkflow, data: dict[str, Any]) -> None:
        services.workflow_step_complete(
            actor=request_user(self.request),
            workflow=workflow,
            expected_step=workflow.step,
            opinion=data.get("opinion") or "",
            evidence=data.get("evidence"),
            attendance=data.get("attendance"),
            acted_on=data.get("acted_on"),
        )


class CaseReturnApi(CaseActionApi):
    """Send the case back to an earlier step, with the reason (the steps the definition
    allows: `return_targets` of the case)."""

    serializer_class = StepReturnSerializer

    @extend_schema(request=StepReturnSerializer, responses={200: CaseDetailSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, workflow_id: int) -> Response:
        return super().post(request, workflow_id)

    def act(self, workflow: CaseWorkflow, data: dict[str, Any]) -> None:
        services.workflow_return(
            actor=request_user(self.request),
            workflow=workflow,
            expected_step=workflow.step,
            opinion=data["opinion"],
            to_step=data.get("to_step") or None,
        )


class CaseNoticeApi(CaseActionApi):
    """Publish the 公示 of the current notice step (start date, days, the phone that takes
    objections)."""

    serializer_class = NoticeStartSerializer

    @extend_schema(request=NoticeStartSerializer, responses={200: CaseDetailSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, workflow_id: int) -> Response:
        return super().post(request, workflow_id)

    def act(self, workflow: CaseWorkflow, data: dict[str, Any]) -> None:
        services.notice_start(
            actor=request_user(self.request),
            workflow=workflow,
            expected_step=workflow.step,
            start_date=data["start_date"],
            days=data["days"],
            phone=data["phone"],
            place=data.get("place") or "",
        )


class NoticeFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        field_name="workflow__kind", choices=CaseWorkflow.Kind.choices
    )
    is_open = django_filters.BooleanFilter(label=gettext_lazy("公示中"))
    village = RegionCodeFilter(
        field_name="workflow__household__village__code", label=gettext_lazy("行政村代码")
    )
    workflow = IdFilter(field_name="workflow_id", label=gettext_lazy("案件"))

    class Meta:
        model = PublicNotice
        form = house.Form
        fields = ["kind", "is_open", "village", "workflow"]


class NoticeListApi(generics.GenericAPIView):
    """The 公示 of the cases in the user's scope, newest first (filters: kind, is_open,
    village, workflow). A 公示 is started on its case (POST /cases/{id}/notice/)."""

    permission_classes = [IsAuthenticated, CaseRolesOnly]
    serializer_class = NoticeSerializer
    filterset_class = NoticeFilter

    def get_queryset(self) -> QuerySet[PublicNotice]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return PublicNotice.objects.none()
        return notice_queryset(request_user(self.request))

    @extend_schema(responses={200: NoticeSerializer(many=True), **LIST_ERRORS})
    def get(self, request: AuthenticatedRequest) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(NoticeSerializer(page, many=True).data)


class NoticeDetailApi(generics.GenericAPIView):
    permission_classes = [IsAuthenticated, CaseRolesOnly]
    serializer_class = NoticeSerializer
    queryset = PublicNotice.objects.none()  # the schema's path parameter only

    @extend_schema(responses={200: NoticeSerializer, **READ_ERRORS})
    def get(self, request: AuthenticatedRequest, notice_id: int) -> Response:
        return Response(NoticeSerializer(notice_get_for_user(request.user, notice_id)).data)


class NoticeObjectionApi(generics.GenericAPIView):
    """Record an objection received during the 公示: the case goes back to the step the
    procedure names, with the objection as the reason (any writer or reviewer in scope)."""

    permission_classes = [IsAuthenticated, CaseRolesOnly]
    serializer_class = ObjectionCreateSerializer
    queryset = PublicNotice.objects.none()  # the schema's path parameter only

    @extend_schema(
        request=ObjectionCreateSerializer, responses={201: ObjectionSerializer, **ERRORS}
    )
    def post(self, request: AuthenticatedRequest, notice_id: int) -> Response:
        notice = notice_get_for_user(request.user, notice_id)
        if not (roles.can_write_households(request.user) or roles.can_review(request.user)):
            raise PermissionDenied(_("您无权登记该公示的异议。"))
        body = ObjectionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            objection = services.notice_objection_record(
                actor=request.user,
                notice=notice,
                content=data["content"],
                objector=data.get("objector") or "",
                received_on=data.get("received_on"),
            )
        except ValidationError as error:
            problem = refusal(error)
            if isinstance(problem, CaseMoved):
                workflow = CaseWorkflow.objects.get(pk=notice.workflow_id)
                return conflict_response(str(problem), version=workflow.version, step=workflow.step)
            raise problem from None
        return Response(ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)
