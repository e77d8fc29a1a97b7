"""The province bench's URLconf: every production URL, the bare view, and plain Django generic
views over the same tables with the same filters and page size as the application's pages: the
reference bench/province.py measures the pages against, in the same run. Bench-only: never in
the application's URLs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import include, path
from django.views.generic import DetailView, ListView

from bench.pages_urls import bare, bare_signed_in
from households.models import Household, Member
from povertyapp.models import Region
from rounds.models import RollupSnapshot


class PlainHouseholdList(LoginRequiredMixin, ListView):
    """The household list as a plain ListView: the user's region's households, the same `q`
    (a member's name contains it) and `status` filters, ordered by number, 20 a page, the
    head's name read per row."""

    paginate_by = 20
    template_name = "bench/plain_household_list.html"

    def get_queryset(self) -> QuerySet[Household]:
        queryset = Household.objects.filter(
            village__path__startswith=self.request.user.region.path
        ).select_related("village")
        text = self.request.GET.get("q", "").strip()
        if text:
            queryset = queryset.filter(
                Exists(Member.objects.filter(household=OuterRef("pk"), name__contains=text))
            )
        if self.request.GET.get("status"):
            queryset = queryset.filter(status=self.request.GET["status"])
        return queryset.order_by("number", "pk")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        heads = {
            member.household_id: member
            for member in Member.objects.filter(
                household__in=[row.pk for row in context["object_list"]],
                relation="户主",
                is_active=True,
            )
        }
        for row in context["object_list"]:
            row.head = heads.get(row.pk)
        return context


class PlainHouseholdDetail(LoginRequiredMixin, DetailView):
    """The household page as a plain DetailView: the household in the user's region, its
    members and incomes."""

    template_name = "bench/plain_household_detail.html"
    pk_url_kwarg = "household_id"

    def get_queryset(self) -> QuerySet[Household]:
        return Household.objects.filter(
            village__path__startswith=self.request.user.region.path
        ).select_related("village", "village__parent")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["members"] = self.object.members.order_by("-is_active", "id")
        context["incomes"] = self.object.incomes.order_by("-year")
        return context


class PlainDashboard(LoginRequiredMixin, ListView):
    """The dashboard as a plain ListView: the region's roll-up row and its children's, latest
    year first, every summed numerator and denominator."""

    template_name = "bench/plain_dashboard.html"

    def get_queryset(self) -> QuerySet[RollupSnapshot]:
        region = get_object_or_404(Region, code=self.kwargs["code"])
        self.region = region
        return (
            RollupSnapshot.objects.filter(Q(region=region) | Q(region__parent=region))
            .select_related("region")
            .order_by("-year", "region__code")
        )


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/bare-signed-in/", bare_signed_in),
    path("bench/plain/households/", PlainHouseholdList.as_view()),
    path("bench/plain/households/<int:household_id>/", PlainHouseholdDetail.as_view()),
    path("bench/plain/dashboard/<str:code>/", PlainDashboard.as_view()),
    path("", include("povertyapp.urls")),
]
