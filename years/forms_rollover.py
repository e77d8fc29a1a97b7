"""The rollover page's form: the year and the officer's choice for each line the year lacks.

Shape only (STYLE 8): whether a choice fits the year (a line to carry, a line required) is the
rollover service's rule, its errors put beside these fields (`add_service_errors`)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from povertyapp.forms import Form, MoneyInput
from years.rollover import Choice, LineDecision

LINE_CHOICES = [(Choice.CARRY.value, Choice.CARRY.label), (Choice.ENTER.value, Choice.ENTER.label)]
OPTIONAL_CHOICES = [*LINE_CHOICES, (Choice.SKIP.value, Choice.SKIP.label)]
REGIONAL_CHOICES = [
    (Choice.CARRY.value, _("沿用上年的省定/市定扶贫标准")),
    (Choice.SKIP.value, _("本年不再执行")),
]


def year_bounds() -> tuple[int, int]:
    """The years a rollover may open: last year (late), this year, next year (early)."""
    this_year = timezone.localdate().year
    return this_year - 1, this_year + 1


class RolloverForm(Form):
    year = forms.IntegerField(label=_("年度"), widget=forms.HiddenInput)
    poverty_line = forms.ChoiceField(
        label=_("国家扶贫标准"), choices=LINE_CHOICES, required=False, widget=forms.RadioSelect
    )
    poverty_line_amount = forms.DecimalField(
        label=_("本年国家扶贫标准（元/人·年）"),
        required=False,
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("1"),
        widget=MoneyInput,
    )
    regional_lines = forms.ChoiceField(
        label=_("省定/市定扶贫标准"),
        choices=REGIONAL_CHOICES,
        required=False,
        widget=forms.RadioSelect,
    )
    monitoring_line = forms.ChoiceField(
        label=_("防返贫监测标准"), choices=LINE_CHOICES, required=False, widget=forms.RadioSelect
    )
    monitoring_line_amount = forms.DecimalField(
        label=_("本年防返贫监测标准（元/人·年）"),
        required=False,
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("1"),
        widget=MoneyInput,
    )
    dibao_standard = forms.ChoiceField(
        label=_("农村低保标准"), choices=OPTIONAL_CHOICES, required=False, widget=forms.RadioSelect
    )
    dibao_standard_amount = forms.DecimalField(
        label=_("本年农村低保标准（元/人·年）"),
        required=False,
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("1"),
        widget=MoneyInput,
    )

    def clean_year(self) -> int:
        year: int = self.cleaned_data["year"]
        first, last = year_bounds()
        if not first <= year <= last:
            raise forms.ValidationError(
                _("只能办理%(first)s年至%(last)s年的年度切换。"),
                code="year_out_of_range",
                params={"first": first, "last": last},
            )
        return year

    def decisions(self) -> dict[str, LineDecision]:
        data = self.cleaned_data
        return {
            name: LineDecision(choice=data.get(name) or "", amount=data.get(f"{name}_amount"))
            for name in ("poverty_line", "regional_lines", "monitoring_line", "dibao_standard")
        }
