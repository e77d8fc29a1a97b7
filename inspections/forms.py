"""Forms validate shape; the rules live in `inspections.services`."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inspections.models import (
    REGISTERED_KINDS,
    Campaign,
    Finding,
    RectificationItem,
)
from povertyapp import forms as house
from povertyapp import uploads
from povertyapp.models import Region, User

YES_NO_UNKNOWN = [("", _("未核查")), ("yes", _("是")), ("no", _("否"))]


class TriStateField(forms.TypedChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=YES_NO_UNKNOWN,
            coerce=lambda value: {"yes": True, "no": False}.get(value),
            empty_value=None,
            required=False,
            widget=forms.RadioSelect,
            **kwargs,
        )


class AssessorField(forms.ModelMultipleChoiceField):
    """Auditors shown with their unit, so that two of the same name can be told apart."""

    def label_from_instance(self, obj: User) -> str:
        return _("%(name)s（%(unit)s）") % {
            "name": obj.display_name,
            "unit": obj.unit or obj.username,
        }


class RegionField(forms.ModelChoiceField):
    """Regions shown with their level (乡镇 / 行政村 ...) before the name."""

    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.get_level_display()} {obj.name}"


class CampaignForm(house.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=Campaign.Kind.choices)
    year = forms.IntegerField(label=_("评估年度"), min_value=2010, max_value=2100)
    visit_date = forms.DateField(label=_("入户日期"), widget=house.DateInput())
    end_date = forms.DateField(label=_("结束日期"), widget=house.DateInput())
    assessors = AssessorField(
        label=_("评估人员"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    townships_to_draw = forms.IntegerField(
        label=_("抽取乡镇数"), initial=3, min_value=1, max_value=50
    )
    villages_per_township = forms.IntegerField(
        label=_("每乡镇抽取村数"), initial=3, min_value=1, max_value=20
    )
    households_per_village = forms.IntegerField(
        label=_("每村抽取户数"), initial=43, min_value=5, max_value=500
    )
    inside_share = forms.DecimalField(
        label=_("建档立卡户占比"),
        initial=Decimal("0.50"),
        min_value=Decimal("0.10"),
        max_value=Decimal("0.90"),
        decimal_places=2,
    )
    registered_kinds = forms.MultipleChoiceField(
        label=_("覆盖的建档立卡户类型"),
        choices=[(k.value, k.label) for k in REGISTERED_KINDS],
        initial=[k.value for k in REGISTERED_KINDS],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, county: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assessors = cast("AssessorField", self.fields["assessors"])
        assessors.queryset = User.objects.filter(role=User.Role.AUDITOR, is_active=True).order_by(
            "username"
        )
        today = timezone.localdate()
        self.fields["year"].initial = today.year - 1
        self.fields["visit_date"].initial = today + datetime.timedelta(days=14)
        self.fields["end_date"].initial = today + datetime.timedelta(days=21)


class DrawForm(house.Form):
    seed = forms.IntegerField(
        label=_("随机种子"),
        required=False,
        min_value=0,
        max_value=2**62,
        help_text=_("留空则随机生成并记录；填写已记录的种子可复现同一样本。"),
    )


class FindingForm(house.ModelForm):
    food_secure = TriStateField(label=_("不愁吃"))
    clothing_secure = TriStateField(label=_("不愁穿"))
    education_secure = TriStateField(label=_("义务教育有保障"))
    medical_secure = TriStateField(label=_("基本医疗有保障"))
    housing_secure = TriStateField(label=_("住房安全有保障"))
    water_secure = TriStateField(label=_("饮水安全有保障"))
    eligible = TriStateField(label=_("符合建档立卡标准"))

    class Meta:
        model = Finding
        fields = [
            "stated_per_capita_income",
            "verified_per_capita_income",
            "food_secure",
            "clothing_secure",
            "education_secure",
            "medical_secure",
            "housing_secure",
            "water_secure",
            "eligible",
            "result",
            "omission_scope",
            "error_persons",
            "approval",
            "disapproval_reason",
            "notes",
        ]
        widgets = {
            "result": forms.RadioSelect,
            "omission_scope": forms.RadioSelect,
            "approval": forms.RadioSelect,
            "notes": forms.Textarea(attrs={"rows": 3}),
            "stated_per_capita_income": forms.NumberInput(attrs={"inputmode": "decimal"}),
            "verified_per_capita_income": forms.NumberInput(attrs={"inputmode": "decimal"}),
            "error_persons": forms.NumberInput(attrs={"inputmode": "numeric"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("result", "omission_scope", "approval"):
            choice_field = cast(forms.ChoiceField, self.fields[name])
            choice_field.required = False
            # A model field's choices: a list of (value, label) pairs, the blank one first.
            pairs = cast("list[tuple[str, str]]", choice_field.choices)
            choice_field.choices = [choice for choice in pairs if choice[0] != ""]
        self.fields["error_persons"].required = False
        # The tri-state radios carry "yes"/"no"/"": show the stored booleans as such.
        for name, field in self.fields.items():
            if isinstance(field, TriStateField):
                value = self.initial.get(name)
                tri_state: dict[Any, str] = {True: "yes", False: "no"}
                self.initial[name] = tri_state.get(value, "")

    def clean_error_persons(self) -> int:
        return self.cleaned_data.get("error_persons") or 0


class OnSiteHouseholdForm(house.Form):
    head_name = forms.CharField(label=_("户主姓名"), max_length=32)
    persons = forms.IntegerField(label=_("家庭人口"), min_value=1, max_value=30)
    address = forms.CharField(label=_("住址"), max_length=100, required=False)


class FindingsUploadForm(house.Form):
    workbook = uploads.SpreadsheetField(label=_("入户核查表（xlsx）"))


class RectificationForm(house.ModelForm):
    class Meta:
        model = RectificationItem
        fields = [
            "problem",
            "category",
            "responsible_unit",
            "responsible_person",
            "deadline",
            "measures",
        ]
        widgets = {
            "problem": forms.Textarea(attrs={"rows": 3}),
            "measures": forms.Textarea(attrs={"rows": 3}),
            "deadline": house.DateInput(),
        }


class RectificationCreateForm(RectificationForm):
    region = RegionField(
        label=_("所在区域"), queryset=Region.objects.none()
    )  # the user's regions, set per form
    source = forms.ChoiceField(
        label=_("问题来源"),
        choices=[
            (RectificationItem.Source.COUNTY.value, RectificationItem.Source.COUNTY.label),
            (
                RectificationItem.Source.SUPERVISION.value,
                RectificationItem.Source.SUPERVISION.label,
            ),
        ],
    )

    class Meta(RectificationForm.Meta):
        fields = ["region", "source", *RectificationForm.Meta.fields]

    def __init__(self, *args: Any, regions: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("RegionField", self.fields["region"]).queryset = regions


class TransitionForm(house.Form):
    to_status = forms.ChoiceField(choices=RectificationItem.Status.choices)
    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("说明"), max_length=500, required=False)


class EvidenceForm(house.Form):
    file = uploads.EvidenceField(label=_("佐证材料"))


class ResolveTaskForm(house.Form):
    note = forms.CharField(label=_("处理说明"), max_length=200, required=False)
    household_number = forms.CharField(
        label=_("新建档案户编号"),
        max_length=32,
        required=False,
        help_text=_("现场发现的漏评户，填写村里为其新建档案的户编号。"),
    )
