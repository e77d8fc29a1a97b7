"""Assessment API (/api/v1/inspections/): campaigns, their figures and the exit board, and the
rectification list. Read-only: the same scoped selectors as the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from inspections import figures, selectors
from inspections.api.serializers import CampaignSerializer, RectificationItemSerializer
from inspections.models import Campaign, RectificationItem
from povertyapp.http import AuthenticatedRequest, request_user


class CampaignListApi(generics.ListAPIView):
    serializer_class = CampaignSerializer

    def get_queryset(self) -> QuerySet[Campaign]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return Campaign.objects.none()
        return selectors.campaign_list(user=request_user(self.request)).order_by(
            "-visit_date", "-id"
        )


def _region(region: figures.RegionFigures) -> dict[str, Any]:
    return {
        "level": region.level,
        "region_id": region.region_id,
        "name": region.name,
        "households": region.households,
        "persons": region.persons,
        "figures": {key: line.as_dict() for key, line in region.lines.items()},
    }


class CampaignFiguresApi(APIView):
    """The campaign's figures (numerator, denominator, rate, design estimate and 95 % interval)
    for the county and every drawn township and village, and the county-exit board."""

    @extend_schema(responses={200: dict})
    def get(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=campaign_id)
        if not selectors.sample_visible(request.user, campaign):
            raise PermissionDenied(_("入户日期前，样本仅对评估组和发起人可见。"))
        if campaign.status == Campaign.Status.PLANNED:
            return Response({"status": campaign.status, "figures": None})
        result = figures.campaign_figures(campaign)
        board = figures.exit_board(campaign, result["county"])
        visible = {
            sv.village_id for sv in selectors.sample_villages(user=request.user, campaign=campaign)
        }
        return Response(
            {
                "status": campaign.status,
                "seed": campaign.seed,
                "county": _region(result["county"]),
                "townships": [_region(t) for t in result["townships"]],
                "villages": [_region(v) for v in result["villages"] if v.region_id in visible],
                "exit": {
                    "passed": board["verdict"].passed if board["verdict"] else None,
                    "failures": board["verdict"].failures if board["verdict"] else [],
                    "vetoes": [
                        {
                            "key": v.key,
                            "label": v.label,
                            "threshold": str(v.threshold),
                            "comparison": v.comparison,
                            "passed": v.passed,
                            "flip": v.flip,
                            "uncertain": v.uncertain,
                            **v.line.as_dict(),
                        }
                        for v in board["vetoes"]
                    ],
                },
            }
        )


class RectificationListApi(generics.ListAPIView):
    serializer_class = RectificationItemSerializer

    def get_queryset(self):
        filters = {
            "status": self.request.query_params.get("status", ""),
            "overdue": self.request.query_params.get("overdue") == "1",
        }
        if filters["status"] not in RectificationItem.Status.values:
            filters["status"] = ""
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return RectificationItem.objects.none()
        items = list(selectors.rectification_list(user=request_user(self.request), filters=filters))
        for item in items:
            item.is_overdue = selectors.is_overdue(item)  # type: ignore[attr-defined]  # for the serializer
        return items
