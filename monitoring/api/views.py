"""The monitoring API (/api/v1/monitoring/, issue 15), read-only: monitoring objects, the
villages' verification tasks, and the 监测对象识别 / 风险消除 procedures.

Scoped like the rest (`roles.household_scope_q`, `roles.region_scope`): a row outside the
user's scope is 404; department accounts and the administrators are refused (403) — a
department reads its own clues through the clue API only. ID numbers and phones are masked for
roles without `can_view_sensitive`; an unmasked page is recorded in the access log.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from households.models import CaseWorkflow, Member
from households.services import common
from monitoring.api.serializers import (
    MonitoringObjectSerializer,
    ProcedureSerializer,
    VerificationTaskSerializer,
)
from monitoring.models import Clue, MonitoringObject, ObjectType, RiskType
from povertyapp import forms as house
from povertyapp import roles
from povertyapp.http import request_user
from povertyapp.privacy import access_log_record, mask_text

# The refusals the schema names beside each 200 (the bodies carry `detail` or field errors).
LIST_ERRORS = {
    400: OpenApiResponse(description=_("输入有误：字段错误信息")),
    403: OpenApiResponse(description=_("无权操作")),
    404: OpenApiResponse(description=_("页码超出范围")),
}
DETAIL_ERRORS = {
    403: OpenApiResponse(description=_("无权操作")),
    404: OpenApiResponse(description=_("不存在或不在管辖范围内")),
}


def _documented(serializer: Any) -> Any:
    """A read-only viewset's list and detail, with their refusals in the schema."""
    return extend_schema_view(
        list=extend_schema(responses={200: serializer(many=True), **LIST_ERRORS}),
        retrieve=extend_schema(responses={200: serializer, **DETAIL_ERRORS}),
    )


TASK_STATES = (Clue.State.PENDING, Clue.State.VERIFIED, Clue.State.UNREGISTERED)
PROCEDURE_KINDS = (CaseWorkflow.Kind.MONITORING, CaseWorkflow.Kind.RISK_ELIMINATION)


class CaseRolesOnly(permissions.BasePermission):
    """Case roles only: department accounts and the administrators get 403."""

    message = _("您的账号不能查看防返贫监测数据。")

    def has_permission(self, request: Request, view: Any) -> bool:
        return roles.has_case_access(request_user(request))


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [permissions.IsAuthenticated, CaseRolesOnly]
    audit_target = ""
    # The values the answer shows in full to the roles that may see them: the access-log
    # field's name, and the row's attribute that holds it.
    audit_fields: dict[str, str] = {}
    lookup_value_regex = r"\d+"

    def _audit(self, rows: list[Any]) -> None:
        """An unmasked read (roles that may see ID numbers) is recorded: one row per page,
        naming the fields that held a value in any of its rows (none, no row)."""
        user = request_user(self.request)
        fields = [
            name
            for name, attribute in self.audit_fields.items()
            if any(getattr(row, attribute, None) for row in rows)
        ]
        if fields and roles.can_view_sensitive(user):
            access_log_record(
                user=user,
                action="view_sensitive",
                target=self.audit_target,
                object_id="" if len(rows) > 1 else rows[0].pk,
                fields=fields,
                detail={
                    "via": "api",
                    "ids": [row.pk for row in rows],
                    "query": mask_text(self.request.GET.urlencode()),
                },
                request=self.request,
            )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        self._audit(rows)
        serializer = self.get_serializer(rows, many=True)
        if page is not None:
            return self.get_paginated_response(serializer.data)
        return Response(serializer.data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        self._audit([instance])
        return Response(self.get_serializer(instance).data)


class MonitoringObjectFilter(django_filters.FilterSet):
    object_type = django_filters.ChoiceFilter(choices=ObjectType.choices)
    state = django_filters.ChoiceFilter(choices=MonitoringObject.State.choices)
    risk = django_filters.ChoiceFilter(
        choices=RiskType.choices, field_name="risks__risk_type", distinct=True
    )
    village = django_filters.CharFilter(field_name="household__village__code", max_length=15)

    class Meta:
        model = MonitoringObject
        form = house.Form
        fields = ["object_type", "state", "risk", "village"]


@_documented(MonitoringObjectSerializer)
class MonitoringObjectViewSet(ScopedReadOnlyViewSet):
    """监测对象 in the user's scope; filters: object_type, state, risk, village (code)."""

    serializer_class = MonitoringObjectSerializer
    filterset_class = MonitoringObjectFilter
    audit_target = "monitoring_object"
    audit_fields = {"id_number": "head_id_number"}

    def get_queryset(self) -> QuerySet[MonitoringObject]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return MonitoringObject.objects.none()
        head = Member.objects.filter(
            household=OuterRef("household_id"), is_active=True, relation="户主"
        ).order_by()
        return (
            MonitoringObject.objects.filter(roles.household_scope_q(request_user(self.request)))
            .select_related("household__village")
            .prefetch_related("risks")
            .annotate(
                head_name=Subquery(head.values("name")[:1]),
                head_id_number=Subquery(head.values("id_number")[:1]),
            )
            .order_by("-clue_date", "-id")
        )


class TaskFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=[(state.value, state.label) for state in TASK_STATES]
    )
    channel = django_filters.ChoiceFilter(choices=Clue.Channel.choices)

    class Meta:
        model = Clue
        form = house.Form
        fields = ["state", "channel"]


@_documented(VerificationTaskSerializer)
class VerificationTaskViewSet(ScopedReadOnlyViewSet):
    """The verification tasks of the user's villages: clues 待核实, 已核实 and 待登记 (register
    this household), with their clocks and overdue flags."""

    serializer_class = VerificationTaskSerializer
    filterset_class = TaskFilter
    audit_target = "monitoring_task"
    audit_fields = {"id_number": "id_number", "phone": "phone"}

    def get_queryset(self) -> QuerySet[Clue]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return Clue.objects.none()
        user = request_user(self.request)
        clues = Clue.objects.filter(state__in=TASK_STATES)
        if user.role == roles.Role.HELPER:
            clues = clues.filter(roles.household_scope_q(user))
        else:
            clues = clues.filter(region__in=roles.region_scope(user))
        return clues.select_related("region").order_by("verify_due", "id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": common.today()}


class ProcedureFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        choices=[(kind.value, kind.label) for kind in PROCEDURE_KINDS]
    )
    state = django_filters.ChoiceFilter(choices=CaseWorkflow.State.choices)

    class Meta:
        model = CaseWorkflow
        form = house.Form
        fields = ["kind", "state"]


@_documented(ProcedureSerializer)
class ProcedureViewSet(ScopedReadOnlyViewSet):
    """监测对象识别 and 风险消除 procedures of the households in the user's scope."""

    serializer_class = ProcedureSerializer
    filterset_class = ProcedureFilter

    def get_queryset(self) -> QuerySet[CaseWorkflow]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return CaseWorkflow.objects.none()
        return (
            CaseWorkflow.objects.filter(kind__in=PROCEDURE_KINDS)
            .filter(roles.household_scope_q(request_user(self.request)))
            .select_related("household")
            .order_by("-started_at", "-id")
        )
