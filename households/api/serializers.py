"""API shapes. Serializers validate shape only; the services own the rules."""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from households.filters import MAX_ID
from households.models import Household, HouseholdEvent, Member
from households.sensitive_reads import HEALTH_FIELDS
from households.services import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from povertyapp import roles
from povertyapp.models import Region
from povertyapp.privacy import shown, shown_health


class RegionSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(
        source="parent.code", read_only=True, allow_null=True, default=None
    )
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    # The standard that applies (set on the province, inherited below), not the stored flag.
    is_western = serializers.SerializerMethodField()

    class Meta:
        model = Region
        fields = ["code", "name", "level", "level_display", "parent_code", "is_western"]

    def get_is_western(self, region: Region) -> bool:
        """From the paths of the western regions the view read once (no query per region of a
        list), else from the region's ancestors."""
        paths = self.context.get("western_paths")
        if paths is None:
            return region.western
        return any(region.path.startswith(path) for path in paths)


class MemberSerializer(serializers.ModelSerializer):
    """A member as the requesting user may see it (sensitive fields masked without the right)."""

    household_number = serializers.CharField(source="household.number", read_only=True)
    id_number = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = [
            "id",
            "household",
            "household_number",
            *MEMBER_FIELDS,
            "is_active",
            "joined_on",
            "left_on",
            "left_reason",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_id_number(self, member: Member) -> str:
        return shown(self.context["request"].user, member.id_number)

    def to_representation(self, instance: Member) -> dict[str, Any]:
        data = super().to_representation(instance)
        user = self.context["request"].user
        if not roles.can_view_sensitive(user):
            for field in HEALTH_FIELDS:
                data[field] = shown_health(user, data[field])
        return data


class MemberWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=32)
    id_type = serializers.CharField(max_length=16, required=False, default="居民身份证")
    id_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    sex = serializers.ChoiceField(choices=Member.Sex.choices, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    relation = serializers.CharField(max_length=8)
    ethnicity = serializers.CharField(max_length=16, required=False, allow_blank=True)
    political_status = serializers.CharField(max_length=16, required=False, allow_blank=True)
    education = serializers.CharField(max_length=16, required=False, allow_blank=True)
    school_status = serializers.CharField(max_length=16, required=False, allow_blank=True)
    health = serializers.CharField(max_length=64, required=False, allow_blank=True)
    illness_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    disability_certificate = serializers.CharField(max_length=32, required=False, allow_blank=True)
    disability_grade = serializers.CharField(max_length=8, required=False, allow_blank=True)
    labour_skill = serializers.CharField(max_length=16, required=False, allow_blank=True)
    work_status = serializers.CharField(max_length=8, required=False, allow_blank=True)
    work_months = serializers.IntegerField(min_value=0, max_value=12, required=False, default=0)
    is_active_soldier = serializers.BooleanField(required=False, default=False)
    has_medical_insurance = serializers.BooleanField(required=False, default=False)
    has_critical_illness_insurance = serializers.BooleanField(required=False, default=False)
    has_pension_insurance = serializers.BooleanField(required=False, default=False)
    receives_dibao = serializers.BooleanField(required=False, default=False)
    is_tekun = serializers.BooleanField(required=False, default=False)
    living_status = serializers.CharField(max_length=8, required=False, default="正常")
    compulsory_education_exemption = serializers.CharField(
        max_length=16, required=False, allow_blank=True
    )
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)


class MemberCreateSerializer(MemberWriteSerializer):
    household = serializers.IntegerField(min_value=1, max_value=2**62)
    reason = serializers.CharField(max_length=64, required=False, allow_blank=True)


class MemberUpdateSerializer(MemberWriteSerializer):
    """PATCH: only the fields sent change; `version` is the version the client loaded."""

    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "version":
                field.required = False
                field.default = serializers.empty


class MemberLeaveSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=16, help_text=_("减员原因：死亡、婚出、分户、迁出…"))
    effective_date = serializers.DateField(required=False)


class HouseholdSerializer(serializers.ModelSerializer):
    village_code = serializers.CharField(source="village.code", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    group_code = serializers.CharField(
        source="group.code", read_only=True, allow_null=True, default=None
    )
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    head_name = serializers.CharField(read_only=True, allow_null=True)
    person_count = serializers.IntegerField(read_only=True)
    bank_account = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = [
            "id",
            "number",
            "village_code",
            "village_name",
            "group_code",
            "status",
            "status_display",
            "exit_year",
            "exit_policy",
            "head_name",
            "person_count",
            *[f for f in HOUSEHOLD_FIELDS if f not in ("village", "group")],
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_bank_account(self, household: Household) -> str:
        return shown(self.context["request"].user, household.bank_account)


class HouseholdDetailSerializer(HouseholdSerializer):
    members = serializers.SerializerMethodField()

    class Meta(HouseholdSerializer.Meta):
        fields = [*HouseholdSerializer.Meta.fields, "members"]
        read_only_fields = fields

    @extend_schema_field(MemberSerializer(many=True))
    def get_members(self, household: Household) -> list[dict[str, Any]]:
        # The view may have read them already (`active_members`: to log what the answer shows).
        members = self.context.get("active_members")
        if members is None:
            members = household.members.filter(is_active=True).select_related("household")
        # many=True builds a ListSerializer, whose data is a list; the stubs see a ReturnDict.
        return MemberSerializer(members, many=True, context=self.context).data  # type: ignore[return-value]  # a ListSerializer's data is a list


def _region_field(level: str, required: bool) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="code",
        queryset=Region.objects.filter(level=level),
        required=required,
        allow_null=not required,
    )


class HouseholdWriteSerializer(serializers.Serializer):
    village = _region_field(Region.Level.VILLAGE, True)
    group = _region_field(Region.Level.GROUP, False)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    bank_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    bank_account = serializers.RegexField(
        r"^\d{0,32}$", max_length=32, required=False, allow_blank=True
    )
    identification_standard = serializers.ChoiceField(
        choices=cast(
            "list[tuple[str, str]]", Household._meta.get_field("identification_standard").choices
        ),
        required=False,
    )
    poverty_attribute = serializers.CharField(max_length=16, required=False, allow_blank=True)
    main_cause = serializers.CharField(max_length=32, required=False, allow_blank=True)
    other_cause_1 = serializers.CharField(max_length=32, required=False, allow_blank=True)
    other_cause_2 = serializers.CharField(max_length=32, required=False, allow_blank=True)
    cause_note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    first_identified_year = serializers.IntegerField(
        min_value=2010, max_value=2100, required=False, allow_null=True
    )
    planned_exit_year = serializers.IntegerField(
        min_value=2010, max_value=2100, required=False, allow_null=True
    )
    is_military_family = serializers.BooleanField(required=False)
    in_cooperative = serializers.BooleanField(required=False)
    has_production_power = serializers.BooleanField(required=False)
    has_household_power = serializers.BooleanField(required=False)
    has_broadcast_tv = serializers.BooleanField(required=False)
    road_type = serializers.CharField(max_length=8, required=False, allow_blank=True)
    house_grade = serializers.CharField(max_length=2, required=False, allow_blank=True)
    house_renovated = serializers.BooleanField(required=False)
    water_safe = serializers.BooleanField(required=False, allow_null=True)
    water_difficult = serializers.BooleanField(required=False, allow_null=True)
    fuel_type = serializers.CharField(max_length=8, required=False, allow_blank=True)
    has_sanitary_toilet = serializers.BooleanField(required=False, allow_null=True)
    relocated = serializers.BooleanField(required=False)
    relocation_mode = serializers.CharField(max_length=16, required=False, allow_blank=True)
    relocation_place = serializers.CharField(max_length=128, required=False, allow_blank=True)
    food_secure = serializers.BooleanField(required=False, allow_null=True)
    clothing_secure = serializers.BooleanField(required=False, allow_null=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area: dict[str, Any] = {
            "max_digits": 10,
            "decimal_places": 2,
            "min_value": 0,
            "required": False,
        }
        for name in (
            "cultivated_land",
            "irrigated_land",
            "forest_land",
            "returned_farmland",
            "orchard_land",
            "pasture_land",
            "water_surface",
        ):
            self.fields[name] = serializers.DecimalField(**area)
        self.fields["distance_to_road_km"] = serializers.DecimalField(
            max_digits=6, decimal_places=2, min_value=0, required=False
        )
        self.fields["housing_area"] = serializers.DecimalField(
            max_digits=8, decimal_places=2, min_value=0, required=False, allow_null=True
        )


class HouseholdCreateSerializer(HouseholdWriteSerializer):
    # many=True passes max_length on to the ListSerializer; the stubs do not know that kwarg.
    members = MemberWriteSerializer(many=True, allow_empty=False, max_length=30)  # type: ignore[call-arg]  # ListSerializer's kwarg, unknown to the stubs


class HouseholdUpdateSerializer(HouseholdWriteSerializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"].required = False


class HouseholdEventSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    round_name = serializers.CharField(
        source="round.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = HouseholdEvent
        fields = [
            "id",
            "kind",
            "kind_display",
            "from_status",
            "to_status",
            "effective_date",
            "round",
            "round_name",
            "reason",
            "ground",
            "persons",
            "created_at",
        ]
        read_only_fields = fields


class HouseholdSearchSerializer(serializers.Serializer):
    """The body of POST /api/v1/households/search/: the household list's filters, with the
    free-text search that may hold an ID number (never in a URL: issue 14). Every field is
    optional; the page is chosen with `?page=` and `?page_size=` as on the list."""

    q = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text=_("姓名、完整身份证号码或户编号（开头）"),
    )
    region = serializers.RegexField(
        r"^(\d{12}|\d{15})$", required=False, help_text=_("区划代码（12位或15位）")
    )
    village = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    group = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    status = serializers.ChoiceField(choices=Household.Status.choices, required=False)
    cause = serializers.CharField(max_length=32, required=False, allow_blank=True)
    attribute = serializers.CharField(max_length=16, required=False, allow_blank=True)
    year = serializers.IntegerField(required=False, min_value=2010, max_value=2100)
    exit_year = serializers.IntegerField(required=False, min_value=2010, max_value=2100)
    ordering = serializers.ChoiceField(
        choices=[
            prefix + name
            for name in ("number", "head", "persons", "status", "cause", "year", "updated")
            for prefix in ("", "-")
        ],
        required=False,
    )
