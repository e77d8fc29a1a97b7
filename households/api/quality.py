"""The problem data API (/api/v1/problems/, issue 16): the data-quality problems of the user's
scope, the village's explanation, the township's review, and the county's check (a job).

Thin over `households.quality` and `households.services.problem_*`, as the pages
(`households.views.quality`): the village explains, the township reviews; the services say who.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from households import quality, selectors, services
from households.api.procedures import ERRORS, LIST_ERRORS, READ_ERRORS, refusal
from households.models import DataProblem
from povertyapp import forms as house
from povertyapp import jobs, roles
from povertyapp.api.filters import REGION_CODE_PATTERN, IdFilter, RegionCodeFilter
from povertyapp.api.permissions import CaseRolesOnly
from povertyapp.http import AuthenticatedRequest, request_user
from povertyapp.models import Job, User

RULE_LABELS = {rule.code: rule.label for rule in quality.RULES}


class ProblemSerializer(serializers.ModelSerializer):
    village_code = serializers.CharField(source="village.code", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    household_number = serializers.CharField(
        source="household.number", read_only=True, allow_null=True
    )
    rule_label = serializers.SerializerMethodField()
    field_label = serializers.SerializerMethodField()
    state_display = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = DataProblem
        fields = [
            "id",
            "village_code",
            "village_name",
            "household",
            "household_number",
            "member",
            "rule",
            "rule_label",
            "field",
            "field_label",
            "message",
            "state",
            "state_display",
            "first_seen",
            "last_seen",
            "fixed_at",
            "explanation",
            "explained_at",
            "reviewed_at",
            "review_note",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_rule_label(self, problem: DataProblem) -> str:
        return str(RULE_LABELS.get(problem.rule, problem.rule))

    @extend_schema_field(serializers.CharField())
    def get_field_label(self, problem: DataProblem) -> str:
        return quality.field_label(problem.rule, problem.field)


class ExplainSerializer(serializers.Serializer):
    explanation = serializers.CharField(max_length=500, allow_blank=True)


class ReviewSerializer(serializers.Serializer):
    accept = serializers.BooleanField(help_text=gettext_lazy("认可说明（false：退回村里）"))
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class CheckSerializer(serializers.Serializer):
    region = serializers.RegexField(
        REGION_CODE_PATTERN,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("要检查的区划代码（默认本人所辖区划）"),
    )


class JobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "kind", "status", "created_at", "url"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_url(self, job: Job) -> str:
        return reverse("job-detail", args=[job.pk])


class ProblemFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=DataProblem.State.choices)
    rule = django_filters.ChoiceFilter(choices=quality.RULES_UNIQUE)
    village = RegionCodeFilter(field_name="village__code", label=gettext_lazy("行政村代码"))
    household = IdFilter(field_name="household_id", label=gettext_lazy("户"))

    class Meta:
        model = DataProblem
        form = house.Form
        fields = ["state", "rule", "village", "household"]


class ProblemApi(generics.GenericAPIView):
    permission_classes = [IsAuthenticated, CaseRolesOnly]
    serializer_class: type[serializers.Serializer] = ProblemSerializer
    queryset = DataProblem.objects.none()  # the schema's path parameter only


class ProblemListApi(ProblemApi):
    """The problems of the user's scope, by village (filters: state, rule, village,
    household)."""

    filterset_class = ProblemFilter

    def get_queryset(self) -> QuerySet[DataProblem]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return DataProblem.objects.none()
        return quality.problem_list(request_user(self.request))

    @extend_schema(responses={200: ProblemSerializer(many=True), **LIST_ERRORS})
    def get(self, request: AuthenticatedRequest) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ProblemSerializer(page, many=True).data)


class ProblemDetailApi(ProblemApi):
    @extend_schema(responses={200: ProblemSerializer, **READ_ERRORS})
    def get(self, request: AuthenticatedRequest, problem_id: int) -> Response:
        problem = quality.problem_get_for_user(request.user, problem_id)
        return Response(ProblemSerializer(problem).data)


def _problem_write(
    request: AuthenticatedRequest,
    problem_id: int,
    role: str,
    refused: str,
    body: serializers.Serializer,
    action: Any,
) -> Response:
    problem = quality.problem_get_for_user(request.user, problem_id)
    if request.user.role != role:
        raise PermissionDenied(_(refused))
    body.is_valid(raise_exception=True)
    try:
        action(problem, body.validated_data)
    except ValidationError as error:
        raise refusal(error) from None
    return Response(ProblemSerializer(quality.problem_get_for_user(request.user, problem.pk)).data)


class ProblemExplainApi(ProblemApi):
    """The village explains a problem that is not an error; the township reviews it."""

    serializer_class = ExplainSerializer

    @extend_schema(request=ExplainSerializer, responses={200: ProblemSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, problem_id: int) -> Response:
        return _problem_write(
            request,
            problem_id,
            User.Role.VILLAGE_CADRE,
            gettext_noop("只有本村的村级录入员可以说明问题数据。"),
            ExplainSerializer(data=request.data),
            lambda problem, data: services.problem_explain(
                actor=request.user, problem=problem, explanation=data["explanation"]
            ),
        )


class ProblemReviewApi(ProblemApi):
    """The township accepts an explanation, or sends it back with a reason."""

    serializer_class = ReviewSerializer

    @extend_schema(request=ReviewSerializer, responses={200: ProblemSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, problem_id: int) -> Response:
        return _problem_write(
            request,
            problem_id,
            User.Role.TOWNSHIP_REVIEWER,
            gettext_noop("只有乡镇审核员可以审核情况说明。"),
            ReviewSerializer(data=request.data),
            lambda problem, data: services.problem_review(
                actor=request.user, problem=problem, accept=data["accept"], note=data["note"]
            ),
        )


class ProblemCheckApi(ProblemApi):
    """The county office runs the data-quality check of a region in its county (default its
    own) as a job: 202 with the job, whose page shows the progress and result."""

    serializer_class = CheckSerializer

    @extend_schema(request=CheckSerializer, responses={202: JobSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest) -> Response:
        if request.user.role != User.Role.COUNTY_OFFICER:
            raise PermissionDenied(_("只有县扶贫办可以通过接口发起问题数据检查。"))
        body = CheckSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        code = body.validated_data.get("region") or (
            request.user.region.code if request.user.region is not None else ""
        )
        region = selectors.region_get_for_user(user=request.user, code=code)
        if not roles.can_run_checks(request.user):
            raise PermissionDenied(_("您的角色不能发起检查。"))
        with transaction.atomic():
            job = jobs.job_enqueue(user=request.user, kind=quality.JOB_KIND, region=region)
        job.refresh_from_db()
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
