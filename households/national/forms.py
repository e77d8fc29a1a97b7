"""The exchange page's forms: the 录入国家系统 mark (one household, or in bulk for a region),
and the upload of a national export for reconciliation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from povertyapp import forms as house
from povertyapp import roles, uploads
from povertyapp.models import Region, User


class NationalMarkForm(house.Form):
    entered_on = forms.DateField(label=_("录入国家系统日期"), widget=house.DateInput())


def _region_choices(user: User) -> list[tuple[str, str]]:
    regions = (
        roles.region_scope(user)
        .filter(level__in=[Region.Level.COUNTY, Region.Level.TOWNSHIP, Region.Level.VILLAGE])
        .order_by("path")
        .values_list("code", "name", "level")
    )
    indent: dict[str, str] = {
        Region.Level.COUNTY: "",
        Region.Level.TOWNSHIP: "　",
        Region.Level.VILLAGE: "　　",
    }
    return [(code, f"{indent.get(level, '')}{name}") for code, name, level in regions]


class RegionForm(house.Form):
    """A region of the user's scope (its code): the county, a township or a village."""

    region = forms.ChoiceField(label=_("区划"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field = self.fields["region"]
        assert isinstance(region_field, forms.ChoiceField)
        region_field.choices = _region_choices(user)

    def chosen_region(self) -> Region | None:
        code = self.cleaned_data.get("region") or ""
        return Region.objects.filter(code=code).first() if code else None


class NationalExportForm(RegionForm):
    """The exports in the national layouts: a region and the 导出事由 the ledger service asks
    for (`povertyapp.ledgers.services.export_reason_required`); it answers on this page."""

    ids = "export_%s"
    reason = forms.CharField(
        label=_("导出事由"),
        max_length=200,
        required=False,
        help_text=_("导出全县范围或超过规定行数的未脱敏数据时必填，记入审计日志。"),
    )


class NationalBulkMarkForm(RegionForm):
    ids = "mark_%s"  # the national page holds four forms with a region
    entered_on = forms.DateField(label=_("录入国家系统日期"), widget=house.DateInput())


class NationalReconcileForm(RegionForm):
    ids = "reconcile_%s"
    workbook = uploads.SpreadsheetField(label=_("国家系统导出文件（.xlsx）"), inline=False)
