"""The clues API (/api/v1/monitoring/clues/, issue 15).

GET lists the clues the caller may see: a case role its region's (masked ID numbers), a
department account its own department's clues with only the result fields (row, name, masked
ID, 匹配结果, 处理结果, reason, date: nothing else of the household). POST creates one clue
through the one door (`monitoring.clues.clue_create`): a department account's warning row
(部门筛查预警) or a cadre's entry (hotline, 基层干部排查); a bad request answers 400 with the
Chinese field errors.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from households.identity import check_id_number
from households.services import common
from monitoring import clues as clue_door
from monitoring import inbox
from monitoring.api.views import LIST_ERRORS
from monitoring.models import Clue, RiskType
from povertyapp import forms as house
from povertyapp import roles
from povertyapp.api.filters import IdFilter
from povertyapp.http import AuthenticatedRequest
from povertyapp.models import Region
from povertyapp.privacy import mask


class ClueSerializer(serializers.ModelSerializer):
    """A clue as a case role reads it in a list: the ID number and phone masked."""

    id_number = serializers.SerializerMethodField()
    village = serializers.CharField(source="region.name", read_only=True)
    reference = serializers.SerializerMethodField()

    class Meta:
        model = Clue
        fields = [
            "id",
            "reference",
            "channel",
            "via_hotline",
            "department",
            "source_list",
            "source_row",
            "region",
            "village",
            "household",
            "name",
            "id_number",
            "risk_type",
            "state",
            "received_on",
            "accepted_on",
            "verify_due",
            "decide_due",
            "verified_on",
            "decided_on",
            "result_reason",
            "version",
        ]
        read_only_fields = fields

    def get_id_number(self, clue: Clue) -> str:
        return mask(clue.id_number)

    def get_reference(self, clue: Clue) -> str:
        return clue_door.reference(clue)


class ClueResultSerializer(serializers.Serializer):
    """What the sending department reads of a clue: its result, nothing of the household."""

    id = serializers.IntegerField(source="pk")
    source_list = serializers.IntegerField(source="source_list_id", allow_null=True)
    source_row = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    id_number = serializers.SerializerMethodField()
    village = serializers.CharField(source="region.name")
    received_on = serializers.DateField()
    match = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()
    result_label = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    decided_on = serializers.SerializerMethodField()

    def get_id_number(self, clue: Clue) -> str:
        return mask(clue.id_number)

    def get_match(self, clue: Clue) -> str:
        return inbox.match_label(clue)

    def get_result(self, clue: Clue) -> str:
        return inbox.result_of(clue)

    def get_result_label(self, clue: Clue) -> str:
        return inbox.result_label(inbox.result_of(clue))

    def get_reason(self, clue: Clue) -> str:
        if clue.state == Clue.State.DUPLICATE and clue.duplicate_of is not None:
            return clue.duplicate_of.result_reason or clue.result_reason
        return clue.result_reason

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_decided_on(self, clue: Clue) -> Any:
        date = inbox.result_date(clue)
        return date.isoformat() if date else None


class ClueCreateSerializer(serializers.Serializer):
    """One clue: a department's warning row or a cadre's entry. `village` (a region id) is
    required of a cadre; a department row's village comes from the matched household."""

    CADRE_CHANNELS = (Clue.Channel.SELF_DECLARATION, Clue.Channel.CADRE_CHECK)

    name = serializers.CharField(max_length=32)
    id_number = serializers.CharField(max_length=32)
    risk_type = serializers.ChoiceField(choices=RiskType.choices)
    received_on = serializers.DateField(required=False)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    difficulty = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, min_value=0
    )
    village = serializers.IntegerField(required=False, allow_null=True)
    channel = serializers.ChoiceField(
        choices=[(value, label) for value, label in Clue.Channel.choices], required=False
    )
    via_hotline = serializers.BooleanField(required=False, default=False)

    def validate_id_number(self, value: str) -> str:
        try:
            return check_id_number(value, today=common.today()).number
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


def _clue_or_result(*, many: bool = False) -> PolymorphicProxySerializer:
    """What the clue API answers: a clue to a case role, its result to the sending department."""
    return PolymorphicProxySerializer(
        component_name="ClueOrResult",
        serializers=[ClueSerializer, ClueResultSerializer],
        resource_type_field_name=None,
        many=many,
    )


class ClueApiFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Clue.State.choices, label=gettext_lazy("状态"))
    source_list = IdFilter(field_name="source_list_id", label=gettext_lazy("部门名单"))

    class Meta:
        model = Clue
        form = house.Form
        fields = ["state", "source_list"]


def _visible(request: AuthenticatedRequest) -> QuerySet[Clue]:
    return inbox.clues_for_user(request.user).select_related("duplicate_of")


class ClueListApi(generics.GenericAPIView):
    serializer_class = ClueSerializer
    queryset = Clue.objects.none()  # schema only: the view reads through the scoped selector
    filterset_class = ClueApiFilter  # state, source_list: an unknown value is a 400

    @extend_schema(responses={200: _clue_or_result(many=True), **LIST_ERRORS})
    def get(self, request: AuthenticatedRequest) -> Response:
        user = request.user
        if not (roles.is_department(user) or inbox.can_read_inbox(user)):
            raise PermissionDenied(_("您的账号不处理风险线索。"))
        queryset = self.filter_queryset(_visible(request).order_by("-received_on", "-id"))
        page = self.paginate_queryset(queryset)
        if roles.is_department(user):
            return self.get_paginated_response(ClueResultSerializer(page, many=True).data)
        return self.get_paginated_response(ClueSerializer(page, many=True).data)

    @extend_schema(
        request=ClueCreateSerializer,
        responses={
            201: _clue_or_result(),
            400: LIST_ERRORS[400],
            403: LIST_ERRORS[403],
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        user = request.user
        department = roles.is_department(user)
        if not (department and user.department) and not inbox.can_work_inbox(user):
            raise PermissionDenied(_("您的角色不能登记风险线索。"))
        serializer = ClueCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        region = self._village(user, data.get("village"), required=not department)
        if department:
            channel = Clue.Channel.DEPARTMENT
            # An unmatched row with no village goes to the department's county.
            region = region or user.region
        else:
            channel = data.get("channel") or Clue.Channel.CADRE_CHECK
            if channel not in ClueCreateSerializer.CADRE_CHANNELS:
                raise serializers.ValidationError(
                    {"channel": [_("干部只能登记农户自主申报（热线代录）或基层干部排查线索。")]}
                )
        clue = clue_door.clue_create(
            channel=channel,
            via_hotline=bool(data.get("via_hotline")) and not department,
            department=user.department if department else "",
            name=data["name"],
            id_number=data["id_number"],
            risk_type=data["risk_type"],
            received_on=data.get("received_on") or common.today(),
            phone=data.get("phone") or "",
            difficulty=data.get("difficulty") or "",
            amount=data.get("amount"),
            region=region,
            actor=user,
        )
        answer = ClueResultSerializer(clue) if department else ClueSerializer(clue)
        return Response(answer.data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _village(user: Any, village_id: int | None, *, required: bool) -> Region | None:
        if village_id is None:
            if required:
                raise serializers.ValidationError({"village": [_("请选择所在村。")]})
            return None
        village = Region.objects.filter(pk=village_id, level=Region.Level.VILLAGE).first()
        if village is None or (
            user.region is not None and not village.path.startswith(user.region.path)
        ):
            raise serializers.ValidationError({"village": [_("所选村不存在或不在您的区域内。")]})
        return village
