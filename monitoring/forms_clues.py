"""Forms of the 风险线索 inbox: the farmer's own 4-field declaration (and the cadre's entry of a
hotline call or a 基层干部排查), 入户核实, 不纳入, attaching a registered household, and the
inbox's filters. Shape only: the rules (matching, clocks, dates) are the services'."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from households.identity import check_id_number
from households.services import common
from monitoring.models import Clue, RiskType
from povertyapp import forms as house
from povertyapp import uploads
from povertyapp.models import Region, User

MOBILE = re.compile(r"1[3-9]\d{9}")


def village_choices(villages: QuerySet[Region]) -> list[tuple[Any, Any]]:
    """The villages grouped under their township (an `<optgroup>` each): township → village."""
    grouped: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for village in villages.select_related("parent").order_by("parent__code", "code"):
        township = village.parent.name if village.parent else ""
        grouped[township].append((village.pk, village.name))
    return [("", _("请选择乡镇和村")), *grouped.items()]


def declarable_villages(user: User | None = None) -> QuerySet[Region]:
    """The villages a declaration may name: every village of the system (the county's) for the
    public page, the user's own area for a cadre."""
    villages = Region.objects.filter(level=Region.Level.VILLAGE)
    if user is not None and user.region is not None:
        villages = villages.filter(path__startswith=user.region.path)
    return villages


class DeclarationForm(house.Form):
    """农户自主申报: 户主姓名, 手机号, 身份证号, 家庭困难情况, plus the village and the risk
    type."""

    name = forms.CharField(label=_("户主姓名"), max_length=32)
    phone = forms.CharField(
        label=_("手机号"),
        max_length=11,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-id-number": "1"}),
    )
    difficulty = forms.CharField(
        label=_("家庭困难情况"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    village = forms.TypedChoiceField(label=_("所在乡镇和村"), coerce=int)
    risk_type = forms.ChoiceField(label=_("风险类型"), choices=RiskType.choices)

    def __init__(
        self,
        *args: Any,
        villages: QuerySet[Region],
        offered: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """`offered`: the villages the select lists, when the page asks for the 县 and 乡镇
        first (the public page: povertyapp/regions.py; a province has 26,000 villages);
        `villages` stays what a declaration may name."""
        super().__init__(*args, **kwargs)
        self.villages = villages
        village_field: Any = self.fields["village"]
        if offered is None:
            village_field.choices = village_choices(villages)
        else:
            village_field.choices = [("", _("请选择乡镇和村")), *offered]
            # A village not offered under the 县/乡镇 chosen: the same words as a missing one.
            village_field.error_messages["invalid_choice"] = _("请选择所在村。")

    def clean_name(self) -> str:
        return str(self.cleaned_data["name"]).strip()

    def clean_phone(self) -> str:
        phone = str(self.cleaned_data["phone"]).strip()
        if not MOBILE.fullmatch(phone):
            raise ValidationError(_("请填写11位手机号码。"), code="phone")
        return phone

    def clean_id_number(self) -> str:
        return check_id_number(self.cleaned_data["id_number"], today=common.today()).number

    def clean_village(self) -> Region:
        village = self.villages.filter(pk=self.cleaned_data["village"]).first()
        if village is None:
            raise ValidationError(_("请选择所在村。"), code="village")
        return village


class ClueAddForm(DeclarationForm):
    """A cadre's entry: a hotline caller's declaration (热线代录) or a 基层干部排查 finding."""

    HOTLINE = "hotline"
    CADRE_CHECK = "cadre_check"

    source = forms.ChoiceField(
        label=_("线索来源"),
        choices=[(HOTLINE, _("农户自主申报（热线代录）")), (CADRE_CHECK, _("基层干部排查"))],
    )
    received_on = forms.DateField(label=_("线索日期"), widget=house.DateInput())

    field_order = ["source", "received_on"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A cadre's check may find a person without a mobile phone.
        self.fields["phone"].required = False

    def clean_phone(self) -> str:
        phone = str(self.cleaned_data.get("phone") or "").strip()
        if phone and not MOBILE.fullmatch(phone):
            raise ValidationError(_("请填写11位手机号码。"), code="phone")
        return phone

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("source") == self.HOTLINE and not cleaned.get("phone"):
            self.add_error("phone", ValidationError(_("热线代录请填写来电手机号。"), code="phone"))
        return cleaned


class VerifyForm(house.Form):
    """入户核实, with the 承诺授权 the household signs at the visit: its scan and date."""

    verified_on = forms.DateField(label=_("入户核实日期"), widget=house.DateInput())
    note = forms.CharField(
        label=_("核实情况"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    # Required by the service (which names what is missing): a browser never re-sends a file.
    consent = uploads.EvidenceField(
        label=_("承诺授权书（农户签字的扫描件：jpg、png、pdf）"),
        accept=uploads.IMAGES_AND_PDF,
        required=False,
        help_text=_("入户核实必须上传。"),
    )
    consent_signed_on = forms.DateField(
        label=_("承诺授权签署日期"), widget=house.DateInput(), required=False
    )
    photos = uploads.PhotoField(
        label=_("现场照片"),
        help_text=_("可拍摄或选择多张照片（JPG或PNG），手机上会先缩小再上传。"),
    )
    # What the phone's script says of each photo (time taken, location if allowed, key).
    photo_meta = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20000)
    version = forms.IntegerField(widget=forms.HiddenInput())


class NotIncludeForm(house.Form):
    reason = forms.CharField(
        label=_("不纳入原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput())


class AttachForm(house.Form):
    household = forms.TypedChoiceField(label=_("新登记的农户"), coerce=int)
    version = forms.IntegerField(widget=forms.HiddenInput())

    def __init__(self, *args: Any, households: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        household_field: Any = self.fields["household"]
        household_field.choices = [("", _("请选择"))] + [
            (household.pk, f"{household.number} {household.village.name}")
            for household in households
        ]


class RegisterFromClueForm(house.Form):
    """The clue's version beside the registry's form on 登记新户 (保存冲突 if it moved)."""

    clue_version = forms.IntegerField(widget=forms.HiddenInput())


class ClueFilterForm(house.Form):
    """The inbox's filters (GET)."""

    channel = forms.ChoiceField(
        label=_("线索来源"), choices=[("", _("全部"))] + Clue.Channel.choices, required=False
    )
    department = forms.ChoiceField(
        label=_("推送部门"),
        choices=[("", _("全部"))] + User.Department.choices,
        required=False,
    )
    state = forms.ChoiceField(
        label=_("状态"),
        choices=[("", _("未办结")), ("all", _("全部"))] + Clue.State.choices,
        required=False,
    )
    risk_type = forms.ChoiceField(
        label=_("风险类型"), choices=[("", _("全部"))] + RiskType.choices, required=False
    )
    overdue = forms.BooleanField(label=_("只看逾期"), required=False)
