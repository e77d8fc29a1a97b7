"""Serializers of the assistance API: shape only; rules live in the services."""

from __future__ import annotations

from rest_framework import serializers

from assistance.models import FundMovement, FundSource, Measure, Pairing, Project, Visit
from povertyapp.api.fields import PhotoUploadField


class MeasureSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    member_name = serializers.CharField(source="member.name", read_only=True, default="")
    project_name = serializers.CharField(source="project.name", read_only=True, default="")

    class Meta:
        model = Measure
        fields = [
            "id",
            "household",
            "member",
            "member_name",
            "year",
            "category",
            "content",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "responsible",
            "amount",
            "fund_source",
            "project",
            "project_name",
            "status",
            "status_display",
            "result",
            "income_effect",
            "version",
        ]
        read_only_fields = fields


class MeasureWriteSerializer(serializers.Serializer):
    member = serializers.IntegerField(required=False, allow_null=True)
    year = serializers.IntegerField()
    category = serializers.CharField(max_length=32)
    content = serializers.CharField(max_length=500)
    planned_start = serializers.DateField(required=False, allow_null=True)
    planned_end = serializers.DateField(required=False, allow_null=True)
    responsible = serializers.CharField(max_length=32, required=False, allow_blank=True)
    # Amounts travel as strings ("1200.50") so no float ever touches them.
    amount = serializers.CharField(max_length=20, required=False, allow_blank=True)
    fund_source = serializers.ChoiceField(
        choices=FundSource.choices, required=False, allow_blank=True
    )
    # A project of the household's village, township or county (not closed); anything else is
    # refused on this field, a project of another county as one that does not exist.
    project = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class MeasureStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Measure.Status.choices)
    on = serializers.DateField(required=False)
    result = serializers.CharField(max_length=500, required=False, allow_blank=True)
    income_effect = serializers.CharField(max_length=20, required=False, allow_blank=True)
    version = serializers.IntegerField()


class NeedSerializer(serializers.Serializer):
    rule = serializers.CharField(source="rule.code")
    label = serializers.CharField(source="rule.label")  # type: ignore[assignment]  # a declared field, popped by DRF's metaclass: not Field.label
    kind = serializers.CharField(source="rule.kind")
    member = serializers.IntegerField(source="member.pk", default=None, allow_null=True)
    member_name = serializers.CharField(source="member.name", default="")
    fulfilled = serializers.BooleanField()


class AssessmentSerializer(serializers.Serializer):
    measure_count = serializers.IntegerField()
    min_measures = serializers.IntegerField()
    too_few = serializers.BooleanField()
    mismatched = serializers.BooleanField()
    needs = NeedSerializer(many=True)
    wrongful = NeedSerializer(many=True)


class VisitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Visit
        fields = [
            "id",
            "household",
            "date",
            "visitor_name",
            "seen",
            "done",
            "next_steps",
            "questionnaire",
            "contact_card_given",
            "benefit_card_given",
            "created_at",
        ]
        read_only_fields = fields


class VisitWriteSerializer(serializers.Serializer):
    date = serializers.DateField()
    seen = serializers.CharField()
    done = serializers.CharField(required=False, allow_blank=True)
    next_steps = serializers.CharField(required=False, allow_blank=True)
    answers = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    contact_card_given = serializers.BooleanField(required=False, default=False)
    benefit_card_given = serializers.BooleanField(required=False, default=False)


class OfflineVisitSerializer(VisitWriteSerializer):
    """A visit recorded offline (docs/offline.md): the visit, the household it is for, the
    household's version when the phone downloaded it and the entry's idempotency key."""

    key = serializers.UUIDField()
    household = serializers.IntegerField(min_value=1)
    version = serializers.IntegerField(min_value=1)
    recorded_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    household_updates = serializers.DictField(
        child=serializers.BooleanField(allow_null=True), required=False, default=dict
    )


class OfflineSyncSerializer(serializers.Serializer):
    result = serializers.CharField()
    replayed = serializers.BooleanField()
    version = serializers.IntegerField()
    visit = VisitSerializer()


class OfflinePhotoSerializer(serializers.Serializer):
    """One photo taken offline (multipart): the entry it belongs to, its own key, the file,
    when it was taken (the camera file's time) and where (only if the user ticked 记录位置)."""

    entry = serializers.UUIDField()
    key = serializers.UUIDField()
    photo = PhotoUploadField()
    taken_at = serializers.CharField(required=False, allow_blank=True, default="")
    latitude = serializers.CharField(required=False, allow_blank=True, default="")
    longitude = serializers.CharField(required=False, allow_blank=True, default="")


class OfflinePhotoResultSerializer(serializers.Serializer):
    result = serializers.CharField()
    replayed = serializers.BooleanField()
    entry = serializers.UUIDField()
    key = serializers.UUIDField()
    photo = serializers.IntegerField()


class OfflineBundleSerializer(serializers.Serializer):
    user_key = serializers.CharField()
    generated_at = serializers.DateTimeField()
    form = serializers.ListField(child=serializers.DictField())
    households = serializers.ListField(child=serializers.DictField())
    capped = serializers.DictField(allow_null=True)


class PairingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pairing
        fields = [
            "id",
            "household",
            "helper",
            "name",
            "unit",
            "post",
            "phone",
            "start_date",
            "end_date",
        ]
        read_only_fields = fields


class ProjectSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    reimbursement_rate = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "category",
            "region",
            "region_name",
            "year",
            "responsible_unit",
            "status",
            "status_display",
            "approval",
            "approved_on",
            "publicity_start",
            "publicity_end",
            "progress_percent",
            "budget_total",
            "allocated_total",
            "arrived_total",
            "spent_total",
            "reimbursed_total",
            "reimbursement_rate",
            "accepted_on",
            "settled_amount",
            "version",
        ]
        read_only_fields = fields

    def get_reimbursement_rate(self, project: Project) -> str | None:
        from assistance.selectors import rate

        value = rate(project.reimbursed_total, project.allocated_total)
        return None if value is None else str(value)


class MovementSerializer(serializers.ModelSerializer):
    class Meta:
        model = FundMovement
        fields = [
            "id",
            "project",
            "kind",
            "source",
            "amount",
            "date",
            "document_number",
            "voucher",
            "household",
            "note",
            "created_at",
        ]
        read_only_fields = fields


class MovementWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FundMovement.Kind.choices)
    source = serializers.ChoiceField(choices=FundSource.choices)  # type: ignore[assignment]  # a declared field, popped by DRF's metaclass: not Field.source
    amount = serializers.CharField(max_length=20)
    date = serializers.DateField()
    document_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    voucher = serializers.CharField(max_length=64, required=False, allow_blank=True)
    household = serializers.IntegerField(required=False, allow_null=True)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)
