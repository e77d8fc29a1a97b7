"""The sweeps API (/api/v1/monitoring/sweeps/, issue 15), read-only: the county's 集中排查 with
its progress per township and village, and the sweep's households (排查 records).

Everything comes through the sweep selectors of `monitoring.sweeps`, the same as the pages: the
sweeps of the user's county (404 for another county's), the progress and households of the
user's area only (a village cadre: the village). Helpers, department accounts and the
administrators are refused (403), as on the sweep pages. A household's row carries its number,
village, team and 排查 state, never a person: no name, ID number or answers.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, permissions, serializers
from rest_framework.response import Response

from monitoring import sweeps
from monitoring.api.views import DETAIL_ERRORS, LIST_ERRORS
from monitoring.models import PriorityGroup, RiskType, Sweep, SweepHousehold
from povertyapp import forms as house
from povertyapp import roles
from povertyapp.api.filters import IdFilter, RegionCodeFilter, YearFilter
from povertyapp.http import request_user
from povertyapp.models import Region, User


class SweepViewers(permissions.BasePermission):
    """The sweep pages' rule (`sweeps.can_see_sweeps`): case roles with a region, but helpers."""

    message = _("您的账号不查看集中排查。")

    def has_permission(self, request: Any, view: Any) -> bool:
        return sweeps.can_see_sweeps(request_user(request))


# --- shapes -------------------------------------------------------------------------------------


class ProgressSerializer(serializers.Serializer):
    """排查进度: households of the sweep, visited, not visited with the reason, pending, and
    those where a risk was found."""

    households = serializers.IntegerField()
    visited = serializers.IntegerField()
    skipped = serializers.IntegerField()
    pending = serializers.IntegerField()
    risks = serializers.IntegerField()


class VillageProgressSerializer(ProgressSerializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class TownshipProgressSerializer(ProgressSerializer):
    code = serializers.CharField()
    name = serializers.CharField()
    villages = VillageProgressSerializer(many=True)


PROGRESS_KEYS = ("households", "visited", "skipped", "pending", "risks")


def _known(values: Any, choices: Any) -> list[str]:
    """The stored JSON list's values that the choices know (the schema lists no others)."""
    known = {value for value, _label in choices}
    return [value for value in values or [] if value in known]


class SweepSerializer(serializers.ModelSerializer):
    """A sweep: dates, year, line, priority groups, state, and its progress in the user's area."""

    county_code = serializers.CharField(source="county.code", read_only=True)
    county_name = serializers.CharField(source="county.name", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    priority_groups = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Sweep
        fields = [
            "id",
            "name",
            "county_code",
            "county_name",
            "year",
            "start_date",
            "end_date",
            "line",
            "priority_groups",
            "state",
            "state_display",
            "created_at",
            "closed_at",
            "version",
            "progress",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=PriorityGroup.choices))
    )
    def get_priority_groups(self, sweep: Sweep) -> list[str]:
        return _known(sweep.priority_groups, PriorityGroup.choices)

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, sweep: Any) -> dict[str, int]:
        # The counts the list annotates (`_with_progress`).
        return {key: getattr(sweep, f"area_{key}") for key in PROGRESS_KEYS}


class SweepDetailSerializer(SweepSerializer):
    """A sweep with its progress per township and village of the user's area."""

    townships = serializers.SerializerMethodField()

    class Meta(SweepSerializer.Meta):
        fields = [*SweepSerializer.Meta.fields, "townships"]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, sweep: Any) -> dict[str, int]:
        rows = self.context["progress_rows"]
        return {key: sum(getattr(row, key) for row in rows) for key in PROGRESS_KEYS}

    @extend_schema_field(TownshipProgressSerializer(many=True))
    def get_townships(self, sweep: Sweep) -> list[dict[str, Any]]:
        townships: dict[str, dict[str, Any]] = {}
        for row in self.context["progress_rows"]:
            township = townships.setdefault(
                row.township_code,
                {"code": row.township_code, "name": row.township, "villages": []}
                | dict.fromkeys(PROGRESS_KEYS, 0),
            )
            counts = {key: getattr(row, key) for key in PROGRESS_KEYS}
            township["villages"].append(
                {"id": row.village_id, "code": row.village_code, "name": row.village, **counts}
            )
            for key, count in counts.items():
                township[key] += count
        return list(townships.values())


class SweepHouseholdSerializer(serializers.ModelSerializer):
    """A household of the sweep (排查户): its number, village, priority groups, team, whether it
    was visited (and when) or why not, and whether a risk was found."""

    household_number = serializers.CharField(source="household.number", read_only=True)
    village_code = serializers.CharField(source="village.code", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    township_name = serializers.SerializerMethodField()
    team_name = serializers.SerializerMethodField()
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    groups = serializers.SerializerMethodField()
    risk_types = serializers.SerializerMethodField()

    class Meta:
        model = SweepHousehold
        fields = [
            "id",
            "sweep",
            "household",
            "household_number",
            "village_code",
            "village_name",
            "township_name",
            "groups",
            "team",
            "team_name",
            "state",
            "state_display",
            "visited_on",
            "skip_reason",
            "risk_found",
            "risk_types",
            "clue",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_township_name(self, row: SweepHousehold) -> str:
        parent = row.village.parent
        return parent.name if parent else ""

    @extend_schema_field(serializers.CharField())
    def get_team_name(self, row: SweepHousehold) -> str:
        return row.team.name if row.team else ""

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=PriorityGroup.choices))
    )
    def get_groups(self, row: SweepHousehold) -> list[str]:
        return _known(row.groups, PriorityGroup.choices)

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=RiskType.choices))
    )
    def get_risk_types(self, row: SweepHousehold) -> list[str]:
        return _known(row.risk_types, RiskType.choices)


# --- filters ------------------------------------------------------------------------------------


class SweepFilter(django_filters.FilterSet):
    year = YearFilter(field_name="year", label=_("年度"))
    state = django_filters.ChoiceFilter(choices=Sweep.State.choices, label=_("状态"))

    class Meta:
        model = Sweep
        form = house.Form
        fields = ["year", "state"]


class SweepHouseholdFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=SweepHousehold.State.choices, label=_("排查状态"))
    group = django_filters.ChoiceFilter(
        choices=PriorityGroup.choices, method="filter_group", label=_("重点群体")
    )
    region = RegionCodeFilter(method="filter_region", label=_("区划代码"))
    village = RegionCodeFilter(field_name="village__code", label=_("村"))
    team = IdFilter(field_name="team_id", label=_("排查小组"))
    risk_found = django_filters.BooleanFilter(label=_("发现风险"))

    class Meta:
        model = SweepHousehold
        form = house.Form
        fields = ["state", "group", "region", "village", "team", "risk_found"]

    def filter_group(
        self, queryset: QuerySet[SweepHousehold], name: str, value: str
    ) -> QuerySet[SweepHousehold]:
        return sweeps.with_group(queryset, value) if value else queryset

    def filter_region(
        self, queryset: QuerySet[SweepHousehold], name: str, value: str
    ) -> QuerySet[SweepHousehold]:
        """The households under a region (township or village) of the user's scope, by code."""
        if not value:
            return queryset
        region = roles.region_scope(request_user(self.request)).filter(code=value).first()
        if region is None:
            return queryset.none()
        return queryset.filter(village__path__startswith=region.path)


# --- views --------------------------------------------------------------------------------------


def _with_progress(queryset: QuerySet[Sweep], user: User) -> QuerySet[Sweep]:
    """The sweeps with their progress counted over the households of the user's area."""
    region: Region | None = user.region
    area = Q(households__village__path__startswith=region.path if region else "-")
    state = SweepHousehold.State
    return queryset.annotate(
        area_households=Count("households", filter=area),
        area_visited=Count("households", filter=area & Q(households__state=state.VISITED)),
        area_skipped=Count("households", filter=area & Q(households__state=state.SKIPPED)),
        area_pending=Count("households", filter=area & Q(households__state=state.PENDING)),
        area_risks=Count("households", filter=area & Q(households__risk_found=True)),
    )


@extend_schema(responses={200: SweepSerializer(many=True), **LIST_ERRORS})
class SweepListApi(generics.ListAPIView):
    """集中排查 of the user's county, newest first, each with its progress in the user's area;
    filters: year, state."""

    serializer_class = SweepSerializer
    filterset_class = SweepFilter
    permission_classes = [permissions.IsAuthenticated, SweepViewers]

    def get_queryset(self) -> QuerySet[Sweep]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return Sweep.objects.none()
        user = request_user(self.request)
        return _with_progress(sweeps.sweeps_for_user(user=user), user).order_by(
            "-year", "-start_date", "-id"
        )


@extend_schema(responses={200: SweepDetailSerializer, **DETAIL_ERRORS})
class SweepDetailApi(generics.RetrieveAPIView):
    """One sweep with its progress per township and village of the user's area (404 for a
    sweep of another county)."""

    serializer_class = SweepDetailSerializer
    permission_classes = [permissions.IsAuthenticated, SweepViewers]
    queryset = Sweep.objects.none()  # schema only: the view reads through the access helper

    def retrieve(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        user = request_user(request)
        sweep = sweeps.sweep_get_for_user(user=user, sweep_id=self.kwargs["sweep_id"])
        context = {
            **self.get_serializer_context(),
            "progress_rows": sweeps.sweep_progress(user=user, sweep=sweep),
        }
        return Response(SweepDetailSerializer(sweep, context=context).data)


@extend_schema(
    responses={
        200: SweepHouseholdSerializer(many=True),
        **LIST_ERRORS,
        404: OpenApiResponse(description=_("集中排查不存在或不在管辖范围内，或页码超出范围")),
    }
)
class SweepHouseholdListApi(generics.ListAPIView):
    """The sweep's households in the user's area (a village cadre: the village), by village and
    household number; filters: state, group, region (a township's or village's code), village
    (code), team, risk_found."""

    serializer_class = SweepHouseholdSerializer
    filterset_class = SweepHouseholdFilter
    permission_classes = [permissions.IsAuthenticated, SweepViewers]

    def get_queryset(self) -> QuerySet[SweepHousehold]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return SweepHousehold.objects.none()
        user = request_user(self.request)
        sweep = sweeps.sweep_get_for_user(user=user, sweep_id=self.kwargs["sweep_id"])
        return (
            sweeps.sweep_households_for_user(user=user, sweep=sweep)
            .select_related("household", "village", "village__parent", "team")
            .order_by("village__path", "household__number", "pk")
        )
