"""The year-end sign-off over the API (/api/v1/years/signoff/<year>/...): its state in the
user's county, and submit, sign, return, reopen. The rules are `years.signoff`'s; a refusal is
a 400 with the message (a write to a locked year too: `YearLockedError`), 403 for a role that
may not act, 404 outside the scope."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from households.selectors import region_get_for_user
from povertyapp import yearlock
from povertyapp.http import AuthenticatedRequest
from povertyapp.models import Region, User
from years import signoff
from years.models import SignOff


def _year(year: int) -> int:
    if not 2010 <= year <= 2100:
        raise Http404(_("年度无效。"))
    return year


class RegionStateSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()
    state = serializers.ChoiceField(choices=SignOff.State.choices)
    acted_by = serializers.CharField(allow_null=True)
    acted_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(help_text=gettext_lazy("退回或重新开启理由"))
    explanation = serializers.CharField(help_text=gettext_lazy("未清事项说明"))


class OpenItemsSerializer(serializers.Serializer):
    procedures = serializers.IntegerField(
        help_text=gettext_lazy("未办结的识别、退出程序（阻止签署）")
    )
    missing_incomes = serializers.IntegerField(
        help_text=gettext_lazy("未录入本年度收入的建档立卡户（阻止签署）")
    )
    round_open = serializers.BooleanField(
        help_text=gettext_lazy("动态调整批次未关闭或指标未定稿（县级，阻止签署）")
    )
    problems = serializers.IntegerField(help_text=gettext_lazy("待处理的问题数据（需说明）"))
    monitoring = serializers.IntegerField(help_text=gettext_lazy("未办结的监测程序（需说明）"))


class SignOffStateSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    locked = serializers.BooleanField(help_text=gettext_lazy("县级已签署封账，本年度数据只读"))
    county = RegionStateSerializer()
    townships = RegionStateSerializer(many=True)
    villages = RegionStateSerializer(many=True)
    open_items = OpenItemsSerializer(help_text=gettext_lazy("本账号所在区划的未清事项"))


class SignSerializer(serializers.Serializer):
    explanation = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ReturnSerializer(serializers.Serializer):
    region = serializers.CharField(
        max_length=15, help_text=gettext_lazy("被退回的村或乡镇的区划代码")
    )
    reason = serializers.CharField(max_length=500)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


def _row(region: Region, row: SignOff | None) -> dict[str, Any]:
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "state": row.state if row else SignOff.State.PENDING,
        "acted_by": str(row.acted_by) if row and row.acted_by else None,
        "acted_at": row.acted_at if row else None,
        "reason": row.reason if row else "",
        "explanation": row.explanation if row else "",
    }


def _state(user: User, year: int) -> dict[str, Any]:
    area = signoff.area_sign_offs(user=user, year=year)
    assert user.region is not None  # area_sign_offs refuses a user without one
    return {
        "year": year,
        "locked": yearlock.is_locked(area["county"], year),
        "county": _row(area["county"], area["sign_off"]),
        "townships": [_row(t["region"], t["sign_off"]) for t in area["townships"]],
        "villages": [_row(v, r) for t in area["townships"] for v, r in t["villages"]],
        "open_items": signoff.open_items(region=user.region, year=year).as_dict(),
    }


ERRORS = {
    400: OpenApiResponse(description="不符合签署条件（含年度已封账），附原因"),
    403: OpenApiResponse(description="该角色不能办理"),
    404: OpenApiResponse(description="区划不在管辖范围内，或年度无效"),
}


class SignOffStateApi(APIView):
    """The sign-off state of a year in the user's county."""

    @extend_schema(responses={200: SignOffStateSerializer, **ERRORS})
    def get(self, request: AuthenticatedRequest, year: int) -> Response:
        return Response(SignOffStateSerializer(_state(request.user, _year(year))).data)


class SignOffSubmitApi(APIView):
    """The village cadre submits the village's year."""

    @extend_schema(request=SignSerializer, responses={200: SignOffStateSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, year: int) -> Response:
        year = _year(year)
        region = signoff.user_region(request.user)
        data = SignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signoff.signoff_submit(
            actor=request.user,
            village=region,
            year=year,
            explanation=data.validated_data.get("explanation", ""),
        )
        return Response(SignOffStateSerializer(_state(request.user, year)).data)


class SignOffSignApi(APIView):
    """The township reviewer signs the township; the county office signs the county."""

    @extend_schema(request=SignSerializer, responses={200: SignOffStateSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, year: int) -> Response:
        year = _year(year)
        region = signoff.user_region(request.user)
        signoff.require_may_sign(request.user)
        data = SignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signoff.signoff_sign(
            actor=request.user,
            region=region,
            year=year,
            explanation=data.validated_data.get("explanation", ""),
        )
        return Response(SignOffStateSerializer(_state(request.user, year)).data)


class SignOffReturnApi(APIView):
    """Return a village's submission (township) or a township's signature (county)."""

    @extend_schema(request=ReturnSerializer, responses={200: SignOffStateSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, year: int) -> Response:
        year = _year(year)
        signoff.user_region(request.user)
        signoff.require_may_sign(request.user)
        data = ReturnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        region = region_get_for_user(user=request.user, code=data.validated_data["region"])
        signoff.signoff_return(
            actor=request.user, region=region, year=year, reason=data.validated_data["reason"]
        )
        return Response(SignOffStateSerializer(_state(request.user, year)).data)


class SignOffReopenApi(APIView):
    """The county office reopens its signed year, with a reason."""

    @extend_schema(request=ReasonSerializer, responses={200: SignOffStateSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, year: int) -> Response:
        year = _year(year)
        region = signoff.user_region(request.user)
        signoff.require_may_reopen(request.user)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signoff.signoff_reopen(
            actor=request.user, county=region, year=year, reason=data.validated_data["reason"]
        )
        return Response(SignOffStateSerializer(_state(request.user, year)).data)
