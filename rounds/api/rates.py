"""GET /api/v1/regions/<code>/rates/?round=<id>: the stored figures of a region and round;
for a city or a province (issue 16) ``?year=<year>``: its roll-up of the counties' figures."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from povertyapp.http import AuthenticatedRequest
from rounds import dashboards


class FigureSerializer(serializers.Serializer):
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    rate = serializers.DecimalField(
        max_digits=12,
        decimal_places=8,
        allow_null=True,
        help_text=gettext_lazy("分子÷分母（小数，8位；分母为0时为null）"),
    )


class FiguresSerializer(serializers.Serializer):
    wrongful_inclusion = FigureSerializer(help_text=gettext_lazy("错评率"))
    omission = FigureSerializer(help_text=gettext_lazy("漏评率"))
    wrongful_exit = FigureSerializer(help_text=gettext_lazy("错退率"))
    incidence = FigureSerializer(help_text=gettext_lazy("贫困发生率"))


class CountiesSerializer(serializers.Serializer):
    included = serializers.IntegerField(help_text=gettext_lazy("已汇总县数"))
    expected = serializers.IntegerField(help_text=gettext_lazy("所辖县数"))
    missing = serializers.ListField(
        child=serializers.CharField(), help_text=gettext_lazy("尚无该年度指标的县（区划代码）")
    )


class RegionRatesSerializer(serializers.Serializer):
    region = serializers.DictField()
    round = serializers.DictField(
        allow_null=True, help_text=gettext_lazy("县、乡、村：批次；市、省：null")
    )
    year = serializers.IntegerField(help_text=gettext_lazy("年度"))
    counties = CountiesSerializer(
        allow_null=True, help_text=gettext_lazy("市、省：汇总了哪些县；县及以下：null")
    )
    computed_at = serializers.DateTimeField()
    source = serializers.DictField()  # type: ignore[assignment]  # a declared field, popped by DRF's metaclass: not Field.source
    figures = FiguresSerializer()
    baseline_incidence = FigureSerializer()
    completeness = FigureSerializer(help_text=gettext_lazy("信息录入率"))
    status_counts = serializers.DictField()
    baseline_status_counts = serializers.DictField()
    cause_counts = serializers.DictField(help_text=gettext_lazy("致贫原因构成（未脱贫户）"))
    list_counts = serializers.DictField(help_text=gettext_lazy("四类名单户数、人数"))
    thresholds = serializers.DictField(help_text=gettext_lazy("退出标准"))


class RegionRatesApi(APIView):
    """The stored snapshot of a region's figures for a round (default: the latest computed); of
    a city or a province, its roll-up for a year (default: the latest): sums of its counties'
    numerators and denominators. Read by the case roles and the city's and province's offices
    within their regions."""

    @extend_schema(
        parameters=[
            OpenApiParameter("round", int, description="动态调整批次编号（县、乡、村）"),
            OpenApiParameter("year", int, description="年度（市、省的汇总指标）"),
        ],
        responses={
            200: RegionRatesSerializer,
            404: OpenApiResponse(description="区域不在管辖范围内，或尚未计算"),
        },
    )
    def get(self, request: AuthenticatedRequest, code: str) -> Response:
        region = dashboards.region_get_for_figures(user=request.user, code=code)
        if dashboards.is_rollup_region(region):
            rollup = dashboards.rollup_for(
                region=region,
                year=request.query_params.get("year"),
                trend=dashboards.rollup_trend(region),
            )
            return Response(RegionRatesSerializer(dashboards.rollup_payload(rollup)).data)
        round = dashboards.round_for_region(
            user=request.user, region=region, round_id=request.query_params.get("round")
        )
        snapshot = dashboards.snapshot_for(region=region, round=round)
        return Response(RegionRatesSerializer(dashboards.snapshot_payload(snapshot)).data)
