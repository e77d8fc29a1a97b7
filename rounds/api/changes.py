"""The rounds and their 四类名单 in the API (/api/v1/rounds/, /api/v1/round-changes/, issue 16).

Thin over `rounds.services`, as the round pages (`rounds.views`): the village proposes a line,
the township reviews it, the county decides (approval applies it to the registry); the village
may withdraw its line before the review. Rounds and lines are read through the user's area scope
(404 outside it); a role that may not do the action gets 403 before its body is read; a line
handled by someone else meanwhile answers 409 with its current state.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from households import selectors
from households.api.procedures import (
    ERRORS,
    LIST_ERRORS,
    READ_ERRORS,
    CaseMoved,
    conflict_response,
    refusal,
)
from povertyapp import forms as house
from povertyapp import roles
from povertyapp.api.filters import IdFilter, RegionCodeFilter
from povertyapp.api.permissions import CaseRolesOnly
from povertyapp.http import AuthenticatedRequest, request_user
from povertyapp.models import User
from rounds import services as rounds
from rounds.models import AdjustmentRound, RoundChange

# A line already handled (reviewed, decided, withdrawn) by someone else: 409, not 400.
HANDLED_CODES = frozenset({"bad_state"})


class RoundSerializer(serializers.ModelSerializer):
    county_code = serializers.CharField(source="county.code", read_only=True)
    county_name = serializers.CharField(source="county.name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = AdjustmentRound
        fields = [
            "id",
            "county_code",
            "county_name",
            "year",
            "name",
            "status",
            "status_display",
            "opened_at",
            "closed_at",
        ]
        read_only_fields = fields


class ListCountSerializer(serializers.Serializer):
    households = serializers.IntegerField()
    persons = serializers.IntegerField()
    pending_households = serializers.IntegerField()
    pending_persons = serializers.IntegerField()


class RoundDetailSerializer(RoundSerializer):
    lists = serializers.SerializerMethodField()

    class Meta(RoundSerializer.Meta):
        fields = [*RoundSerializer.Meta.fields, "lists"]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=ListCountSerializer()))
    def get_lists(self, round: AdjustmentRound) -> dict[str, Any]:
        """The user's area's lines per list (done and pending), as on the round page."""
        user = request_user(self.context["request"])
        return rounds.list_counts(user=user, round=round)["total"]


class ChangeSerializer(serializers.ModelSerializer):
    """One line of the round's lists, where it stands."""

    household_number = serializers.CharField(source="household.number", read_only=True)
    village_code = serializers.CharField(source="village.code", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = RoundChange
        fields = [
            "id",
            "round",
            "household",
            "household_number",
            "village_code",
            "village_name",
            "kind",
            "kind_display",
            "persons",
            "head_name",
            "reason",
            "ground",
            "state",
            "state_display",
            "source",
            "proposed_at",
            "reviewed_at",
            "review_opinion",
            "decided_at",
            "decision_opinion",
            "event",
        ]
        read_only_fields = fields


class ChangeProposeSerializer(serializers.Serializer):
    household = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    kind = serializers.ChoiceField(
        choices=[(kind.value, kind.label) for kind in RoundChange.STATUS_KINDS]
    )
    persons = serializers.IntegerField(min_value=0, max_value=32767)
    head_name = serializers.CharField(max_length=32, allow_blank=True)
    reason = serializers.CharField(max_length=500, allow_blank=True)
    ground = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("剔除理由（代码表一项；默认取理由的开头）"),
    )


class DecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text=gettext_lazy("通过（false：退回，须填意见）"))
    opinion = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RoundApi(generics.GenericAPIView):
    permission_classes = [IsAuthenticated, CaseRolesOnly]
    queryset: QuerySet[Any] = AdjustmentRound.objects.none()  # the schema's path parameter only


class RoundListApi(RoundApi):
    """The rounds of the counties the user works in."""

    serializer_class = RoundSerializer

    def get_queryset(self) -> QuerySet[AdjustmentRound]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return AdjustmentRound.objects.none()
        return rounds.round_list(user=request_user(self.request))

    @extend_schema(responses={200: RoundSerializer(many=True), **LIST_ERRORS})
    def get(self, request: AuthenticatedRequest) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(RoundSerializer(page, many=True).data)


class RoundDetailApi(RoundApi):
    serializer_class = RoundDetailSerializer

    @extend_schema(responses={200: RoundDetailSerializer, **READ_ERRORS})
    def get(self, request: AuthenticatedRequest, round_id: int) -> Response:
        round = rounds.round_get_for_user(user=request.user, round_id=round_id)
        return Response(RoundDetailSerializer(round, context={"request": request}).data)


class ChangeFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=RoundChange.Kind.choices)
    state = django_filters.ChoiceFilter(choices=RoundChange.State.choices)
    village = RegionCodeFilter(field_name="village__code", label=gettext_lazy("行政村代码"))
    household = IdFilter(field_name="household_id", label=gettext_lazy("户"))

    class Meta:
        model = RoundChange
        form = house.Form
        fields = ["kind", "state", "village", "household"]


class RoundChangeListApi(RoundApi):
    """GET: the round's lines in the user's area (filters: kind, state, village, household).
    POST: a village proposes one line of the 四类名单 (新识别纳入, 剔除, 返贫, 标注脱贫; the first
    and last open their procedure)."""

    serializer_class = ChangeSerializer
    filterset_class = ChangeFilter

    queryset = RoundChange.objects.none()  # the filters' model; get() reads the round's lines

    @extend_schema(responses={200: ChangeSerializer(many=True), **LIST_ERRORS, 404: ERRORS[404]})
    def get(self, request: AuthenticatedRequest, round_id: int) -> Response:
        round = rounds.round_get_for_user(user=request.user, round_id=round_id)
        changes = self.filter_queryset(rounds.change_list(user=request.user, round=round))
        page = self.paginate_queryset(changes)
        return self.get_paginated_response(ChangeSerializer(page, many=True).data)

    @extend_schema(request=ChangeProposeSerializer, responses={201: ChangeSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, round_id: int) -> Response:
        round = rounds.round_get_for_user(user=request.user, round_id=round_id)
        if not roles.can_write_households(request.user):
            raise PermissionDenied(_("您的角色不能提出动态调整名单。"))
        body = ChangeProposeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        household = selectors.household_get_for_user(
            user=request.user, household_id=data.pop("household")
        )
        try:
            change = rounds.change_propose(
                actor=request.user, round=round, household=household, **data
            )
        except ValidationError as error:
            raise refusal(error) from None
        change = rounds.change_get_for_user(user=request.user, change_id=change.pk)
        return Response(ChangeSerializer(change).data, status=status.HTTP_201_CREATED)


class ChangeApi(RoundApi):
    serializer_class: type[serializers.Serializer] = ChangeSerializer
    queryset = RoundChange.objects.none()  # the schema's path parameter only


class ChangeDetailApi(ChangeApi):
    @extend_schema(responses={200: ChangeSerializer, **READ_ERRORS})
    def get(self, request: AuthenticatedRequest, change_id: int) -> Response:
        change = rounds.change_get_for_user(user=request.user, change_id=change_id)
        return Response(ChangeSerializer(change).data)


def _change_act(
    request: AuthenticatedRequest, change_id: int, allowed: bool, refused: str, action: Any
) -> Response:
    change = rounds.change_get_for_user(user=request.user, change_id=change_id)
    if not allowed:
        raise PermissionDenied(_(refused))
    try:
        action(change)
    except ValidationError as error:
        problem = refusal(error, moved=HANDLED_CODES)
        if isinstance(problem, CaseMoved):
            current = RoundChange.objects.get(pk=change.pk)
            return conflict_response(str(problem), state=current.state)
        raise problem from None
    change = rounds.change_get_for_user(user=request.user, change_id=change.pk)
    return Response(ChangeSerializer(change).data)


def _decision(request: AuthenticatedRequest) -> dict[str, Any]:
    body = DecisionSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


class ChangeReviewApi(ChangeApi):
    """The township (or the county) reviews a proposed line: passes it on, or returns it."""

    serializer_class = DecisionSerializer

    @extend_schema(request=DecisionSerializer, responses={200: ChangeSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, change_id: int) -> Response:
        return _change_act(
            request,
            change_id,
            roles.can_review(request.user),
            gettext_noop("只有乡镇审核员或县扶贫办可以审核本辖区的名单。"),
            lambda change: rounds.change_review(
                actor=request.user, change=change, **_decision(request)
            ),
        )


class ChangeDecideApi(ChangeApi):
    """The county decides on a reviewed line: approval applies it to the registry."""

    serializer_class = DecisionSerializer

    @extend_schema(request=DecisionSerializer, responses={200: ChangeSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, change_id: int) -> Response:
        return _change_act(
            request,
            change_id,
            request.user.role == User.Role.COUNTY_OFFICER,
            gettext_noop("只有县扶贫办可以审定名单。"),
            lambda change: rounds.change_decide(
                actor=request.user, change=change, **_decision(request)
            ),
        )


class ChangeWithdrawApi(ChangeApi):
    """The village withdraws its own line before the township has reviewed it."""

    @extend_schema(request=None, responses={200: ChangeSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, change_id: int) -> Response:
        return _change_act(
            request,
            change_id,
            roles.can_write_households(request.user),
            gettext_noop("您不能撤回该名单。"),
            lambda change: rounds.change_withdraw(actor=request.user, change=change),
        )
