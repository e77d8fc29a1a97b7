"""The offline page's monitoring APIs (docs/offline.md, issue 17).

GET  /api/v1/monitoring/offline/bundle/        the clues waiting for 入户核实, the 集中排查
                                                households waiting and the cases at a 入户核实
                                                step, with the forms' definitions
POST /api/v1/monitoring/offline/clue-verify/   one clue's 入户核实 recorded offline (multipart:
                                                the 承诺授权 scan travels as the `consent` file)
POST /api/v1/monitoring/offline/sweep/         one 排查表 recorded offline
POST /api/v1/monitoring/offline/step/          one procedure's 入户核实 step recorded offline
                                                (识别, 退出, 监测对象识别)

Each sync answers like the visit's (assistance.api.views.OfflineVisitSyncApi): 201 applied,
200 a retried key (nothing written again), 409 the record changed since the download (both
sides, nothing written), 403 `out_of_scope` for a record the user can no longer reach (or a
role that does not do the form), 400 the online form's or service's errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from assistance.selectors import offline_user_key
from households.forms import StepForm
from households.models import CaseWorkflow
from monitoring import inbox, offline, sweeps
from monitoring.forms_clues import VerifyForm
from monitoring.forms_sweeps import SweepVisitForm
from monitoring.models import Clue, SweepHousehold
from povertyapp import roles
from povertyapp.conflicts import ConflictError
from povertyapp.http import AuthenticatedRequest


class OfflineEntrySerializer(serializers.Serializer):
    """What every offline entry carries besides the form's fields: its idempotency key, the
    record it is for, the record's version when downloaded and when it was typed."""

    key = serializers.UUIDField()
    record = serializers.IntegerField(min_value=1)
    version = serializers.IntegerField(min_value=1)
    recorded_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class OfflineResultSerializer(serializers.Serializer):
    result = serializers.CharField()
    replayed = serializers.BooleanField()
    version = serializers.IntegerField()
    record = serializers.IntegerField()


class MonitoringBundleSerializer(serializers.Serializer):
    user_key = serializers.CharField()
    generated_at = serializers.DateTimeField()
    clues = serializers.ListField(child=serializers.DictField())
    sweep_households = serializers.ListField(child=serializers.DictField())
    steps = serializers.ListField(child=serializers.DictField())
    forms = serializers.DictField()
    capped = serializers.DictField()


def _out_of_scope(message: str) -> Response:
    return Response({"code": "out_of_scope", "detail": message}, status=status.HTTP_403_FORBIDDEN)


def _form_errors(form: Any) -> Response:
    return Response(
        {name: [str(m) for m in messages] for name, messages in form.errors.items()},
        status=status.HTTP_400_BAD_REQUEST,
    )


def _entry(request: AuthenticatedRequest) -> dict[str, Any]:
    serializer = OfflineEntrySerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _answered(sync: Any, applied: bool) -> Response:
    return Response(
        OfflineResultSerializer(
            {
                "result": sync.result,
                "replayed": not applied,
                "version": sync.answer.get("version", 0),
                "record": sync.target,
            }
        ).data,
        status=status.HTTP_201_CREATED if applied else status.HTTP_200_OK,
    )


class MonitoringOfflineBundleApi(generics.GenericAPIView):
    """The monitoring part of what the offline page keeps on the phone (scoped and masked as
    online; each list capped at `offline.LIMIT` with `capped` saying so)."""

    serializer_class = MonitoringBundleSerializer

    def get(self, request: AuthenticatedRequest) -> Response:
        if not offline.can_work_offline(request.user):
            raise PermissionDenied(_("您的角色不做入户核实或集中排查。"))
        return Response(
            {
                "user_key": offline_user_key(request.user),
                "generated_at": timezone.now(),
                **offline.offline_bundle(user=request.user),
            }
        )


class OfflineClueVerifyApi(generics.GenericAPIView):
    """Apply one clue's 入户核实 recorded offline (see the module's docstring)."""

    serializer_class = OfflineEntrySerializer

    @extend_schema(request=OfflineEntrySerializer, responses={201: OfflineResultSerializer})
    def post(self, request: AuthenticatedRequest) -> Response:
        if not offline.can_verify_offline(request.user):
            raise PermissionDenied(_("您的角色只能查看，不能处理风险线索。"))
        entry = _entry(request)
        clue = inbox.clues_for_user(request.user).filter(pk=entry["record"]).first()
        if clue is None:
            return _out_of_scope(
                _("该线索已不在您负责的区域内，这条入户核实不能同步；请与乡镇核实后删除。")
            )
        form = VerifyForm(cast("Mapping[str, Any]", request.data), request.FILES)
        if not form.is_valid():
            return _form_errors(form)
        try:
            sync, applied = offline.clue_verify_sync(
                actor=request.user,
                key=entry["key"],
                clue=clue,
                version=entry["version"],
                data=form.cleaned_data,
                recorded_at=entry["recorded_at"],
            )
        except ConflictError as error:
            clue = Clue.objects.select_related("verified_by").get(pk=clue.pk)
            return _conflict(error, entry, form.cleaned_data, offline.clue_state(clue))
        return _answered(sync, applied)


class OfflineSweepApi(generics.GenericAPIView):
    """Apply one 排查表 recorded offline (see the module's docstring)."""

    serializer_class = OfflineEntrySerializer

    @extend_schema(request=OfflineEntrySerializer, responses={201: OfflineResultSerializer})
    def post(self, request: AuthenticatedRequest) -> Response:
        if not offline.can_sweep_offline(request.user):
            raise PermissionDenied(_("您的角色只能查看，不能录入排查表。"))
        entry = _entry(request)
        assert request.user.region is not None  # can_sweep_offline: a region
        row = (
            SweepHousehold.objects.filter(
                pk=entry["record"], village__path__startswith=request.user.region.path
            )
            .select_related("sweep")
            .first()
        )
        if row is None or not sweeps.sweeps_for_user(user=request.user).filter(pk=row.sweep_id):
            return _out_of_scope(
                _("该户已不在您负责的区域内，这份排查表不能同步；请与乡镇核实后删除。")
            )
        form = SweepVisitForm(cast("Mapping[str, Any]", request.data))
        if not form.is_valid():
            return _form_errors(form)
        try:
            sync, applied = offline.sweep_visit_sync(
                actor=request.user,
                key=entry["key"],
                row=row,
                version=entry["version"],
                data=form.cleaned_data,
                recorded_at=entry["recorded_at"],
            )
        except ConflictError as error:
            row = SweepHousehold.objects.select_related("recorded_by").get(pk=row.pk)
            return _conflict(error, entry, form.cleaned_data, offline.sweep_state(row))
        return _answered(sync, applied)


class OfflineStepEntrySerializer(OfflineEntrySerializer):
    step = serializers.CharField(max_length=32)


class OfflineStepApi(generics.GenericAPIView):
    """Apply one procedure's 入户核实 step recorded offline (see the module's docstring): the
    online step form's opinion and date, done by `workflow_step_complete` at the step the
    phone downloaded."""

    serializer_class = OfflineStepEntrySerializer

    @extend_schema(request=OfflineStepEntrySerializer, responses={201: OfflineResultSerializer})
    def post(self, request: AuthenticatedRequest) -> Response:
        if not offline.can_step_offline(request.user):
            raise PermissionDenied(_("入户核实环节由村级办理，您无权办理。"))
        serializer = OfflineStepEntrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = dict(serializer.validated_data)
        if entry["step"] not in {step for _kind, step in offline.HOME_VISIT_STEPS}:
            return Response(
                {"step": [_("该环节不能离线办理。")]}, status=status.HTTP_400_BAD_REQUEST
            )
        workflow = (
            CaseWorkflow.objects.filter(roles.household_scope_q(request.user))
            .filter(pk=entry["record"])
            .select_related("household")
            .first()
        )
        if workflow is None:
            return _out_of_scope(
                _("该户已不在您负责的区域内，这条入户核实不能同步；请与乡镇核实后删除。")
            )
        form = StepForm(cast("Mapping[str, Any]", request.data))
        if not form.is_valid():
            return _form_errors(form)
        data = {name: form.cleaned_data.get(name) for name in offline.STEP_FIELDS}
        try:
            sync, applied = offline.step_sync(
                actor=request.user,
                key=entry["key"],
                workflow=workflow,
                step=entry["step"],
                version=entry["version"],
                data=data,
                recorded_at=entry["recorded_at"],
            )
        except ConflictError as error:
            workflow.refresh_from_db()
            return _conflict(error, entry, data, offline.case_state(workflow))
        return _answered(sync, applied)


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | int | str | list):
        return value
    return str(value)


def _conflict(
    error: ConflictError, entry: dict[str, Any], mine: dict[str, Any], server: dict[str, Any]
) -> Response:
    return Response(
        {
            "code": "conflict",
            "detail": str(
                _("冲突：该记录在您下载之后已被%(who)s修改，请核对两边后决定。")
                % {"who": server["who"] or _("他人")}
            ),
            "changes": [{"who": server["who"]}],
            "mine": {
                "version": entry["version"],
                "fields": {
                    k: _plain(v) for k, v in mine.items() if k not in ("version", "consent")
                },
            },
            "server": server,
        },
        status=status.HTTP_409_CONFLICT,
    )
