"""The forms of the monitoring object pages (shape only: the rules are the services')."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.income import COMPONENTS
from monitoring.models import EliminationWay, MonitoringObject, ObjectType, RiskType
from povertyapp import forms as house
from povertyapp import uploads


class ObjectFilterForm(house.Form):
    """The list's filters: choices only (a GET form holds no free text)."""

    object_type = forms.ChoiceField(
        label=_("监测对象类型"), required=False, choices=[("", _("全部")), *ObjectType.choices]
    )
    risk_type = forms.ChoiceField(
        label=_("风险类型"), required=False, choices=[("", _("全部")), *RiskType.choices]
    )
    state = forms.ChoiceField(
        label=_("监测状态"),
        required=False,
        choices=[("", _("全部")), *MonitoringObject.State.choices],
    )
    # The region is chosen a step at a time (县, 乡镇, 行政村) outside this form: the page's
    # cascade (povertyapp/regions.py) gives the view the region.


class IdentifyForm(house.Form):
    object_type = forms.ChoiceField(label=_("监测对象类型"), choices=ObjectType.choices)
    risk_types = forms.MultipleChoiceField(
        label=_("风险类型（可多选）"),
        choices=RiskType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    clue_date = forms.DateField(label=_("首次发现风险日期"), widget=house.DateInput())
    # Required by the service (which names the field): a browser never re-sends a file.
    consent = uploads.EvidenceField(
        label=_("承诺授权书（农户签字的扫描件：jpg、png、pdf）"),
        accept=uploads.IMAGES_AND_PDF,
        required=False,
    )
    consent_signed_on = forms.DateField(label=_("承诺授权签署日期"), widget=house.DateInput())
    green_channel = forms.BooleanField(
        label=_("启用绿色通道（因自然灾害、因意外事故：先帮扶后认定）"), required=False
    )
    green_channel_reason = forms.CharField(label=_("绿色通道说明"), max_length=200, required=False)
    opinion = forms.CharField(
        label=_("情况说明"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, consent_on_file: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if consent_on_file:
            # Signed and uploaded at the clue's 入户核实: the object takes that scan over.
            del self.fields["consent"]
            del self.fields["consent_signed_on"]


class IncomeForm(house.Form):
    period_end = forms.DateField(label=_("核算截止日期（申报或排查日）"), widget=house.DateInput())
    wage = forms.DecimalField(
        label=COMPONENTS["wage"], min_value=0, max_digits=12, decimal_places=2
    )
    production = forms.DecimalField(
        label=COMPONENTS["production"], min_value=0, max_digits=12, decimal_places=2
    )
    property_income = forms.DecimalField(
        label=COMPONENTS["property_income"], min_value=0, max_digits=12, decimal_places=2
    )
    transfer = forms.DecimalField(
        label=COMPONENTS["transfer"], min_value=0, max_digits=12, decimal_places=2
    )
    production_cost = forms.DecimalField(
        label=COMPONENTS["production_cost"], min_value=0, max_digits=12, decimal_places=2
    )
    compliant_out_of_pocket = forms.DecimalField(
        label=COMPONENTS["compliant_out_of_pocket"], min_value=0, max_digits=12, decimal_places=2
    )
    insurance_payouts = forms.DecimalField(
        label=COMPONENTS["insurance_payouts"], min_value=0, max_digits=12, decimal_places=2
    )
    co_residents = forms.CharField(
        label=_("共同生活的非户籍人员（姓名，用顿号分隔）"), max_length=200, required=False
    )

    def co_resident_names(self) -> list[str]:
        text = self.cleaned_data.get("co_residents") or ""
        return [name.strip() for name in text.replace(",", "、").split("、") if name.strip()]


class EliminateForm(house.Form):
    way = forms.ChoiceField(label=_("风险消除方式"), choices=EliminationWay.choices)
    basis = forms.CharField(
        label=_("风险消除依据"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class RiskResolveForm(house.Form):
    """风险解除 of one risk of a monitoring object (one small form per open risk on the
    object's page, each with its own prefix). `version` is the object's (保存冲突)."""

    resolved_on = forms.DateField(label=_("风险解除日期"), widget=house.DateInput())
    version = forms.IntegerField(widget=forms.HiddenInput())
