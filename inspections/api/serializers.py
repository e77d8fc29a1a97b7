from __future__ import annotations

from rest_framework import serializers

from inspections import selectors
from inspections.models import Campaign, RectificationItem


class CampaignSerializer(serializers.ModelSerializer):
    county = serializers.CharField(source="county.code")
    # The seed reproduces the sample: shown only to those who may see the sample.
    seed = serializers.SerializerMethodField()

    def get_seed(self, campaign: Campaign) -> int | None:
        user = self.context["request"].user
        return campaign.seed if selectors.sample_visible(user, campaign) else None

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "kind",
            "year",
            "county",
            "visit_date",
            "end_date",
            "status",
            "seed",
            "townships_to_draw",
            "villages_per_township",
            "households_per_village",
            "inside_share",
            "registered_kinds",
        ]


class RectificationItemSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.code")
    region_name = serializers.CharField(source="region.name")
    overdue = serializers.BooleanField(source="is_overdue")

    class Meta:
        model = RectificationItem
        fields = [
            "id",
            "region",
            "region_name",
            "campaign",
            "source",
            "problem",
            "category",
            "responsible_unit",
            "responsible_person",
            "deadline",
            "measures",
            "status",
            "done_at",
            "closed_at",
            "overdue",
            "version",
        ]
