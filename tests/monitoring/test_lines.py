"""The monitoring line (monitoring.lines): an amount or k × 低保, the nearest area wins, a year
without a line is refused, never guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from monitoring.lines import monitoring_line
from monitoring.models import DibaoStandard, MonitoringLine


def test_a_fixed_amount_of_the_province_applies_to_its_villages(county):
    MonitoringLine.objects.create(
        region=county.province, year=2025, kind="amount", amount=Decimal("8700")
    )
    assert monitoring_line(county.village_a, 2025) == Decimal("8700")


def test_a_multiple_of_the_dibao_standard_of_the_nearest_area(county):
    MonitoringLine.objects.create(
        region=county.county, year=2025, kind="dibao_multiple", multiple=Decimal("2")
    )
    DibaoStandard.objects.create(region=county.province, year=2025, amount=Decimal("5400"))
    assert monitoring_line(county.village_a, 2025) == Decimal("10800.00")
    # The county's own 低保 standard comes before the province's.
    DibaoStandard.objects.create(region=county.county, year=2025, amount=Decimal("4815.50"))
    assert monitoring_line(county.village_a, 2025) == Decimal("9631.00")


def test_the_county_line_overrides_the_province_line(county):
    MonitoringLine.objects.create(
        region=county.province, year=2025, kind="amount", amount=Decimal("8700")
    )
    MonitoringLine.objects.create(
        region=county.county, year=2025, kind="amount", amount=Decimal("9000")
    )
    assert monitoring_line(county.village_a, 2025) == Decimal("9000")
    assert monitoring_line(county.province, 2025) == Decimal("8700")


def test_a_year_without_a_line_is_refused_in_chinese(county):
    MonitoringLine.objects.create(
        region=county.province, year=2024, kind="amount", amount=Decimal("8700")
    )
    with pytest.raises(ValidationError) as caught:
        monitoring_line(county.village_a, 2025)
    assert caught.value.code == "monitoring_line_missing"
    assert "2025年度未设定防返贫监测标准" in caught.value.messages[0]


def test_a_multiple_without_a_dibao_standard_that_year_is_refused(county):
    MonitoringLine.objects.create(
        region=county.province, year=2025, kind="dibao_multiple", multiple=Decimal("1.5")
    )
    DibaoStandard.objects.create(region=county.province, year=2024, amount=Decimal("5000"))
    with pytest.raises(ValidationError) as caught:
        monitoring_line(county.village_a, 2025)
    assert caught.value.code == "dibao_standard_missing"
    assert "2025年度未设定防返贫监测标准" in caught.value.messages[0]
