"""Shapes of the monitoring API (read-only): ID numbers and phones as the user may see them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from households.models import CaseWorkflow
from monitoring.models import Clue, MonitoringObject, ObjectRisk
from povertyapp.privacy import shown


class ObjectRiskSerializer(serializers.ModelSerializer):
    risk_type_display = serializers.CharField(source="get_risk_type_display", read_only=True)

    class Meta:
        model = ObjectRisk
        fields = ["risk_type", "risk_type_display", "note", "resolved_on"]
        read_only_fields = fields


class MonitoringObjectSerializer(serializers.ModelSerializer):
    """A monitoring object: its household, type, risks, state and 风险消除."""

    household_number = serializers.CharField(source="household.number", read_only=True)
    village_code = serializers.CharField(source="household.village.code", read_only=True)
    village_name = serializers.CharField(source="household.village.name", read_only=True)
    head_name = serializers.SerializerMethodField()
    head_id_number = serializers.SerializerMethodField()
    object_type_display = serializers.CharField(source="get_object_type_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    risks = ObjectRiskSerializer(many=True, read_only=True)

    class Meta:
        model = MonitoringObject
        fields = [
            "id",
            "household",
            "household_number",
            "village_code",
            "village_name",
            "head_name",
            "head_id_number",
            "object_type",
            "object_type_display",
            "state",
            "state_display",
            "clue_date",
            "identified_on",
            "identification",
            "risks",
            "green_channel",
            "no_labour_capacity",
            "elimination_way",
            "eliminated_on",
            "elimination_basis",
            "elimination",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_head_name(self, item: MonitoringObject) -> str | None:
        return getattr(item, "head_name", None)

    @extend_schema_field(serializers.CharField())
    def get_head_id_number(self, item: MonitoringObject) -> str:
        return shown(self.context["request"].user, getattr(item, "head_id_number", None))


class VerificationTaskSerializer(serializers.ModelSerializer):
    """A clue as the village's verification task (待核实 / 已核实 / 待登记) with its clocks."""

    region_code = serializers.CharField(source="region.code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    id_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    verify_overdue = serializers.SerializerMethodField()
    decide_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Clue
        fields = [
            "id",
            "channel",
            "channel_display",
            "via_hotline",
            "department",
            "region_code",
            "region_name",
            "household",
            "name",
            "id_number",
            "phone",
            "risk_type",
            "difficulty",
            "received_on",
            "accepted_on",
            "verify_due",
            "decide_due",
            "state",
            "state_display",
            "verified_on",
            "verify_overdue",
            "decide_overdue",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_id_number(self, clue: Clue) -> str:
        return shown(self.context["request"].user, clue.id_number)

    @extend_schema_field(serializers.CharField())
    def get_phone(self, clue: Clue) -> str:
        return shown(self.context["request"].user, clue.phone)

    @extend_schema_field(serializers.BooleanField())
    def get_verify_overdue(self, clue: Clue) -> bool:
        return bool(clue.state == Clue.State.PENDING and clue.verify_due < self.context["today"])

    @extend_schema_field(serializers.BooleanField())
    def get_decide_overdue(self, clue: Clue) -> bool:
        return bool(
            clue.state in (Clue.State.PENDING, Clue.State.VERIFIED)
            and clue.decide_due < self.context["today"]
        )


class ProcedureSerializer(serializers.ModelSerializer):
    """A 监测对象识别 or 风险消除 procedure (the registry's procedure machine)."""

    household_number = serializers.CharField(source="household.number", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = CaseWorkflow
        fields = [
            "id",
            "household",
            "household_number",
            "kind",
            "kind_display",
            "state",
            "state_display",
            "step",
            "year",
            "opened_on",
            "started_at",
            "step_since",
            "deadline",
            "finished_at",
            "version",
        ]
        read_only_fields = fields
