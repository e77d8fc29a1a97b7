"""The 防返贫监测标准 (monitoring line) of a region and year (DOMAIN §7; issue 15): data the
province (sometimes the county) sets each year, never guessed.

The nearest `MonitoringLine` up the region tree wins (a county's line overrides its
province's). It is either a fixed amount (e.g. 8,700 元 in Yunnan 2024–2025) or a multiple of
the 农村低保标准 (e.g. 2 × in Fujian counties): then the 低保 standard is the nearest
`DibaoStandard` of the same year up the tree from the region asked about (a county's own
standard before its province's), times the multiple, to the cent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from monitoring.models import DibaoStandard, MonitoringLine
from povertyapp.models import Region

CENT = Decimal("0.01")


def _nearest(model: Any, region: Region, year: int) -> Any:
    chain = [node.pk for node in reversed(region.ancestors(include_self=True))]
    found = {row.region_id: row for row in model.objects.filter(region_id__in=chain, year=year)}
    for pk in chain:
        if pk in found:
            return found[pk]
    return None


def line_for(region: Region, year: int) -> MonitoringLine:
    """The `MonitoringLine` row that applies (nearest first); a ValidationError without one."""
    line = _nearest(MonitoringLine, region, year)
    if line is None:
        raise ValidationError(
            _("%(region)s %(year)s年度未设定防返贫监测标准，请县乡村振兴部门先录入。"),
            code="monitoring_line_missing",
            params={"region": region.name, "year": year},
        )
    return line


def dibao_standard(region: Region, year: int) -> Decimal:
    """The 农村低保标准 of the nearest area with one that year; a ValidationError without one."""
    standard = _nearest(DibaoStandard, region, year)
    if standard is None:
        raise ValidationError(
            _(
                "%(region)s %(year)s年度未设定农村低保标准，无法按低保标准倍数计算防返贫监测标准"
                "（%(year)s年度未设定防返贫监测标准）。"
            ),
            code="dibao_standard_missing",
            params={"region": region.name, "year": year},
        )
    return Decimal(standard.amount)


def monitoring_line(region: Region, year: int) -> Decimal:
    """防返贫监测标准 (yuan per person per year) of `region` in `year`:
    the amount of the nearest line, or `multiple × 农村低保标准` (rounded to the cent)."""
    line = line_for(region, year)
    if line.kind == MonitoringLine.Kind.AMOUNT:
        return Decimal(str(line.amount))
    standard = dibao_standard(region, year)
    return (Decimal(str(line.multiple)) * standard).quantize(CENT, rounding=ROUND_HALF_UP)
