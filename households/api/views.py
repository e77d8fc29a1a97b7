"""The registry's REST API (/api/v1/): regions, households, members.

Every view starts from the scoped selectors and writes through the services, so the API obeys
exactly the rules of the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from households import selectors, sensitive_reads, services
from households.api.serializers import (
    HouseholdCreateSerializer,
    HouseholdDetailSerializer,
    HouseholdEventSerializer,
    HouseholdSearchSerializer,
    HouseholdSerializer,
    HouseholdUpdateSerializer,
    MemberCreateSerializer,
    MemberLeaveSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    RegionSerializer,
)
from households.filters import HouseholdFilter
from households.models import Household, HouseholdEvent, Member
from povertyapp import roles
from povertyapp.api.pagination import CappedPaginator, StandardPagination
from povertyapp.api.throttles import ApiThrottle, SearchThrottle
from povertyapp.http import AuthenticatedRequest, request_user
from povertyapp.models import Region
from povertyapp.privacy import mask_text

ERRORS = {
    400: OpenApiResponse(description=gettext_lazy("输入有误：字段错误信息")),
    403: OpenApiResponse(description=gettext_lazy("无权操作")),
    404: OpenApiResponse(description=gettext_lazy("不存在或不在管辖范围内")),
    409: OpenApiResponse(description=gettext_lazy("保存冲突：记录已被他人修改")),
}


def _log_sensitive_view(
    request: AuthenticatedRequest,
    target: str,
    object_id: Any,
    fields: list[str],
    ids: list[int] | None = None,
) -> None:
    """Audit a read that returned unmasked ID numbers, bank accounts or health details (only
    roles that may see them get them unmasked), naming the `fields` it returned with a value
    (`sensitive_reads`). A list page is one row naming the ids shown."""
    detail: dict[str, Any] = {"via": "api"}
    if ids is not None:
        detail.update(ids=ids, count=len(ids), query=mask_text(request.GET.urlencode()))
    sensitive_reads.record_read(
        request, target=target, object_id=object_id, fields=fields, **detail
    )


def _required_version(data: dict[str, Any]) -> int:
    """A PATCH is partial, but the version it was based on is always required (optimistic
    locking): without it the update is refused with 400, never guessed."""
    if "version" not in data:
        message = _("请提供记录的版本号（version），以免覆盖他人的修改。")
        raise ValidationError({"version": [message]})
    return data.pop("version")


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """Regions in the user's scope, by statistical code."""

    serializer_class = RegionSerializer
    lookup_field = "code"
    lookup_value_regex = r"\d{12}|\d{15}"
    filterset_fields = {"level": ["exact"], "parent__code": ["exact"]}

    def get_queryset(self) -> QuerySet[Region]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return Region.objects.none()
        return selectors.region_list(user=request_user(self.request)).order_by("code")

    def get_serializer_context(self) -> dict[str, Any]:
        # 西部地区 is inherited from ancestors: the few flagged regions are read once.
        return {
            **super().get_serializer_context(),
            "western_paths": list(
                Region.objects.filter(is_western=True).values_list("path", flat=True)
            ),
        }


class HouseholdListFilter(HouseholdFilter):
    """The list's filters in a URL: all but the free-text search, which may hold an ID number
    and is posted to HouseholdSearchApi instead (issue 14: no ID numbers in URLs)."""

    q = None


def _counted_already(matched: int) -> Callable[[int], int]:
    """The paginator's count of a list counted already: `matched` rows, at most the limit."""
    return lambda limit: min(matched, limit)


def _household_page(
    view: generics.GenericAPIView,
    queryset: QuerySet[Household],
    found: list[int] | None = None,
) -> Response:
    # The id last breaks ties; the page is cut on the ids and its rows read by id, as on the
    # list page (households.views.registry.household_list_view: an OFFSET would compute the head
    # and person-count subqueries of every skipped row). `found`: the ids a name search's
    # count read already, in the list's order, cut here instead of reading the matches again.
    queryset = queryset.order_by(*queryset.query.order_by, "pk")
    ids = view.paginate_queryset(
        found if found is not None else queryset.values_list("pk", flat=True)
    )
    rows = {household.pk: household for household in queryset.order_by().filter(pk__in=ids or [])}
    page = [rows[pk] for pk in ids or [] if pk in rows]
    if page:
        request = cast(AuthenticatedRequest, view.request)  # the list requires sign-in
        _log_sensitive_view(
            request,
            "household_list",
            "",
            [field for household in page for field in sensitive_reads.household_fields(household)],
            ids=[h.pk for h in page],
        )
    serializer = HouseholdSerializer(page, many=True, context={"request": view.request})
    return view.get_paginated_response(serializer.data)


class HouseholdListCreateApi(generics.GenericAPIView):
    filterset_class = HouseholdListFilter
    serializer_class = HouseholdSerializer

    def get_queryset(self) -> QuerySet[Household]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return Household.objects.none()
        return selectors.household_list(user=request_user(self.request))

    @extend_schema(responses={200: HouseholdSerializer(many=True)})
    def get(self, request: AuthenticatedRequest) -> Response:
        return _household_page(self, self.filter_queryset(self.get_queryset()))

    @extend_schema(
        request=HouseholdCreateSerializer, responses={201: HouseholdDetailSerializer, **ERRORS}
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        if not roles.can_write_households(request.user):
            raise PermissionDenied(_("您的角色只能查看，不能修改农户信息。"))
        serializer = HouseholdCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        members = data.pop("members")
        household = services.household_create(actor=request.user, data=data, members=members)
        household = selectors.household_get_for_user(user=request.user, household_id=household.pk)
        return Response(
            HouseholdDetailSerializer(household, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class HouseholdSearchApi(generics.GenericAPIView):
    """POST /api/v1/households/search/: the household list searched by name, full ID number or
    户编号, the terms in the body (never in a URL, where web servers log them). Scoped like the
    list; counted against RATE_LIMIT_SEARCH as well as RATE_LIMIT_API."""

    serializer_class = HouseholdSerializer
    throttle_classes = [ApiThrottle, SearchThrottle]

    def get_queryset(self) -> QuerySet[Household]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return Household.objects.none()
        return selectors.household_list(user=request_user(self.request))

    @extend_schema(
        request=HouseholdSearchSerializer,
        parameters=[
            OpenApiParameter("page", int, description=_("页码")),
            OpenApiParameter("page_size", int, description=_("每页条数（最多500）")),
        ],
        responses={200: HouseholdSerializer(many=True), 400: ERRORS[400]},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        body = HouseholdSearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = QueryDict(mutable=True)
        for name, value in body.validated_data.items():
            data[name] = str(value)
        household_filter = HouseholdFilter(data, queryset=self.get_queryset(), user=request.user)
        if not household_filter.is_valid():
            raise ValidationError(household_filter.errors)
        found = None
        count_rows = selectors.name_search_counter(household_filter, request.user)
        if count_rows is not None and not body.validated_data.get("ordering"):
            # In the list's order the page is cut from the ids the count found (all of them
            # under the cap, the first `SEARCH_COUNT_CAP` found past it, as on the list page):
            # reading a page of the matches in 户编号 order in SQL takes every match again.
            counts = selectors.household_list_counts(
                user=request.user,
                household_filter=household_filter,
                cap=selectors.search_count_cap(),
            )
            if counts.ids is not None:
                found = counts.ids
                count_rows = _counted_already(counts.total + counts.capped)
        if count_rows is not None and isinstance(self.paginator, StandardPagination):
            # counted from the matching members, up to the cap
            self.paginator.django_paginator_class = partial(  # type: ignore[assignment]  # a partial builds the same class
                CappedPaginator, count_rows=count_rows, cap=selectors.search_count_cap()
            )
        return _household_page(self, household_filter.qs, found)


def _household_answer(request: AuthenticatedRequest, household: Household) -> Response:
    """The household with its active members (`HouseholdDetailSerializer`), its full values
    logged as a read."""
    members = list(household.members.filter(is_active=True).select_related("household"))
    _log_sensitive_view(
        request,
        "household",
        household.pk,
        sensitive_reads.household_fields(household) + sensitive_reads.member_fields(members),
    )
    context = {"request": request, "active_members": members}
    return Response(HouseholdDetailSerializer(household, context=context).data)


class HouseholdDetailApi(generics.GenericAPIView):
    serializer_class = HouseholdDetailSerializer

    @extend_schema(responses={200: HouseholdDetailSerializer, 404: ERRORS[404]})
    def get(self, request: AuthenticatedRequest, household_id: int) -> Response:
        household = selectors.household_get_for_user(user=request.user, household_id=household_id)
        return _household_answer(request, household)

    @extend_schema(
        request=HouseholdUpdateSerializer, responses={200: HouseholdDetailSerializer, **ERRORS}
    )
    def patch(self, request: AuthenticatedRequest, household_id: int) -> Response:
        household = selectors.household_get_for_user(
            user=request.user, household_id=household_id, for_write=True
        )
        serializer = HouseholdUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = _required_version(data)
        services.household_update(
            actor=request.user, household=household, data=data, expected_version=version
        )
        household = selectors.household_get_for_user(user=request.user, household_id=household_id)
        # The answer carries the stored household with its members, whatever the body changed:
        # a read like the GET's (an answer to a create echoes what the user sent, and is not).
        return _household_answer(request, household)


class HouseholdEventListApi(generics.GenericAPIView):
    serializer_class = HouseholdEventSerializer
    # For the schema's path parameter only: get() reads through the scoped selectors.
    queryset = HouseholdEvent.objects.none()

    @extend_schema(responses={200: HouseholdEventSerializer(many=True), 404: ERRORS[404]})
    def get(self, request: AuthenticatedRequest, household_id: int) -> Response:
        household = selectors.household_get_for_user(user=request.user, household_id=household_id)
        page = self.paginate_queryset(selectors.household_events(household))
        return self.get_paginated_response(HouseholdEventSerializer(page, many=True).data)


class MemberListCreateApi(generics.GenericAPIView):
    serializer_class = MemberSerializer
    filterset_fields = {"household": ["exact"], "is_active": ["exact"]}

    def get_queryset(self) -> QuerySet[Member]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return Member.objects.none()
        return selectors.member_list(user=request_user(self.request), include_inactive=True)

    @extend_schema(responses={200: MemberSerializer(many=True)})
    def get(self, request: AuthenticatedRequest) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        if page:
            _log_sensitive_view(
                request,
                "member_list",
                "",
                sensitive_reads.member_fields(page),
                ids=[m.pk for m in page],
            )
        return self.get_paginated_response(
            MemberSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(request=MemberCreateSerializer, responses={201: MemberSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest) -> Response:
        # Who may not write is refused before the body is read (403, not the body's 400).
        if not roles.can_write_households(request.user):
            raise PermissionDenied(_("您的角色只能查看，不能修改农户信息。"))
        serializer = MemberCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        household = selectors.household_get_for_user(
            user=request.user, household_id=data.pop("household"), for_write=True
        )
        reason = data.pop("reason", "")
        member = services.member_add(
            actor=request.user, household=household, data=data, reason=reason
        )
        return Response(
            MemberSerializer(member, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class MemberDetailApi(generics.GenericAPIView):
    serializer_class = MemberSerializer

    @extend_schema(responses={200: MemberSerializer, 404: ERRORS[404]})
    def get(self, request: AuthenticatedRequest, member_id: int) -> Response:
        member = selectors.member_get_for_user(user=request.user, member_id=member_id)
        _log_sensitive_view(request, "member", member.pk, sensitive_reads.member_fields([member]))
        return Response(MemberSerializer(member, context={"request": request}).data)

    @extend_schema(request=MemberUpdateSerializer, responses={200: MemberSerializer, **ERRORS})
    def patch(self, request: AuthenticatedRequest, member_id: int) -> Response:
        member = selectors.member_get_for_user(
            user=request.user, member_id=member_id, for_write=True
        )
        serializer = MemberUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = _required_version(data)
        member = services.member_update(
            actor=request.user, member=member, data=data, expected_version=version
        )
        _log_sensitive_view(request, "member", member.pk, sensitive_reads.member_fields([member]))
        return Response(MemberSerializer(member, context={"request": request}).data)


class MemberLeaveApi(generics.GenericAPIView):
    """自然增减（减员）: the member leaves the household with a reason; never deleted."""

    serializer_class = MemberLeaveSerializer

    @extend_schema(request=MemberLeaveSerializer, responses={200: MemberSerializer, **ERRORS})
    def post(self, request: AuthenticatedRequest, member_id: int) -> Response:
        member = selectors.member_get_for_user(
            user=request.user, member_id=member_id, for_write=True
        )
        serializer = MemberLeaveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.member_remove(
            actor=request.user, member=member, **serializer.validated_data
        )
        _log_sensitive_view(request, "member", member.pk, sensitive_reads.member_fields([member]))
        return Response(MemberSerializer(member, context={"request": request}).data)
