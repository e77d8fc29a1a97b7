"""Forms of the 集中排查 pages: they validate shape; `monitoring.sweeps` validates the rules
(one sweep per county and year, the visit date inside the sweep, both surveyors' names …)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.models import PriorityGroup, RiskType, SweepHousehold, SweepTeam
from monitoring.sweeps import INCOME_CHANGES, YES_NO_QUESTIONS
from povertyapp import forms as house
from povertyapp.models import Region

DATE = house.DateInput()
YES_NO = [("yes", _("是")), ("no", _("否"))]


class SweepOpenForm(house.Form):
    name = forms.CharField(label=_("排查名称"), max_length=100)
    year = forms.IntegerField(label=_("年度"), min_value=2021, max_value=2100)
    start_date = forms.DateField(label=_("开始日期"), widget=DATE)
    end_date = forms.DateField(label=_("结束日期"), widget=DATE)
    line = forms.DecimalField(
        label=_("当年监测标准（元/人·年）"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("1"),
        help_text=_("默认取本县当年的防返贫监测标准，可核对后修改。"),
    )
    groups = forms.MultipleChoiceField(
        label=_("重点群体"),
        choices=PriorityGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class VillageChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.parent.name if obj.parent else ''} {obj.name}"


class SweepTeamForm(house.Form):
    name = forms.CharField(label=_("小组名称"), max_length=64)
    first_member = forms.CharField(label=_("排查人员一"), max_length=32)
    second_member = forms.CharField(label=_("排查人员二"), max_length=32)
    villages = VillageChoiceField(
        label=_("负责村"),
        queryset=Region.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, county: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["villages"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = (
            Region.objects.filter(level=Region.Level.VILLAGE, path__startswith=county.path)
            .select_related("parent")
            .order_by("path")
        )


class SweepVisitForm(house.Form):
    """The 排查表 of one household, one column for a phone: visited (the date, both surveyors,
    the questions, the finding) or not visited with the reason."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    visited = forms.ChoiceField(
        label=_("是否入户"),
        choices=[("yes", _("已入户排查")), ("no", _("未入户"))],
        widget=forms.RadioSelect,
    )
    visited_on = forms.DateField(label=_("排查日期"), widget=DATE, required=False)
    first_surveyor = forms.CharField(label=_("排查人员一"), max_length=32, required=False)
    second_surveyor = forms.CharField(label=_("排查人员二"), max_length=32, required=False)
    income_change = forms.ChoiceField(
        label=_("收入变化情况"),
        choices=INCOME_CHANGES,
        widget=forms.RadioSelect,
        required=False,
    )
    per_capita_income = forms.DecimalField(
        label=_("人均纯收入（估，元）"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal"}),
    )
    hardship = forms.CharField(
        label=_("家庭困难情况"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    risk_found = forms.BooleanField(label=_("发现返贫致贫风险"), required=False)
    risk_types = forms.MultipleChoiceField(
        label=_("风险类型"),
        choices=RiskType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("情况说明"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    skip_reason = forms.CharField(label=_("未入户原因"), max_length=200, required=False)

    QUESTION_NAMES = tuple(key for key, _label in YES_NO_QUESTIONS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label in YES_NO_QUESTIONS:
            self.fields[key] = forms.ChoiceField(
                label=label, choices=YES_NO, widget=forms.RadioSelect, required=False
            )
        order = [
            "version",
            "visited",
            "visited_on",
            "first_surveyor",
            "second_surveyor",
            *self.QUESTION_NAMES,
            "income_change",
            "per_capita_income",
            "hardship",
            "risk_found",
            "risk_types",
            "note",
            "skip_reason",
        ]
        self.order_fields(order)

    def question_fields(self) -> list[Any]:
        return [self[name] for name in self.QUESTION_NAMES]


def visit_initial(row: SweepHousehold, team: SweepTeam | None) -> dict[str, Any]:
    """The 排查表 as stored, or a new one prefilled with the team's two names."""
    if row.state == SweepHousehold.State.PENDING:
        return {
            "version": row.version,
            "visited": "yes",
            "first_surveyor": team.first_member if team else "",
            "second_surveyor": team.second_member if team else "",
        }
    answers = row.answers or {}
    initial: dict[str, Any] = {
        "version": row.version,
        "visited": "yes" if row.state == SweepHousehold.State.VISITED else "no",
        "visited_on": row.visited_on,
        "first_surveyor": row.first_surveyor,
        "second_surveyor": row.second_surveyor,
        "income_change": answers.get("income_change", ""),
        "per_capita_income": row.per_capita_income,
        "hardship": answers.get("hardship", ""),
        "risk_found": row.risk_found,
        "risk_types": list(row.risk_types or []),
        "note": row.note,
        "skip_reason": row.skip_reason,
    }
    for key, _label in YES_NO_QUESTIONS:
        value = answers.get(key)
        initial[key] = "" if value is None else ("yes" if value else "no")
    return initial
