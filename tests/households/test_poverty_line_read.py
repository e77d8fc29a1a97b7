"""`standards.poverty_line_expression`, the poverty line as a correlated subquery (the household
page reads each income year's line with the incomes), gives what `standards.poverty_line` gives,
for every standard, year and village, and NULL where `poverty_line` raises."""

from __future__ import annotations

import datetime
import itertools
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import OuterRef, Value
from django.test.utils import CaptureQueriesContext

from households import standards
from households.models import Household, PovertyLine, Standard
from households.national import marks
from povertyapp.models import Region
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines(county):
    """A national line in 2024 and 2025; provincial lines at the province (2024, 2025) and at
    the county (2025: nearer, it wins there); a municipal line at the city (2025); a provincial
    line of another county (never an ancestor of the villages here); nothing in 2026."""
    other_county = factories.region("522623000000", "施秉县", Region.Level.COUNTY, county.city)
    rows = [
        (2024, Standard.NATIONAL, None, "4000"),
        (2025, Standard.NATIONAL, None, "4100"),
        (2024, Standard.PROVINCIAL, county.province, "4500"),
        (2025, Standard.PROVINCIAL, county.province, "4600"),
        (2025, Standard.PROVINCIAL, county.county, "4700"),
        (2025, Standard.MUNICIPAL, county.city, "4800"),
        (2024, Standard.MUNICIPAL, other_county, "9999"),
    ]
    for year, standard, region, amount in rows:
        PovertyLine.objects.create(year=year, standard=standard, region=region, amount=amount)


def expected(year: int, standard: str, village: Region) -> Decimal | None:
    try:
        return standards.poverty_line(year=year, standard=standard, region=village)
    except standards.PovertyLineMissing:
        return None


def test_the_subquery_gives_what_poverty_line_gives(cast, county, lines):
    villages = [county.village_a, county.village_b]
    households = [factories.household(actor=cast.county, village=village) for village in villages]
    seen = set()
    for year, standard in itertools.product((2023, 2024, 2025, 2026), Standard.values):
        read = dict(
            Household.objects.filter(pk__in=[household.pk for household in households])
            .annotate(
                line=standards.poverty_line_expression(
                    year=year, standard=Value(standard), village_path=OuterRef("village__path")
                )
            )
            .values_list("pk", "line")
        )
        for household in households:
            want = expected(year, standard, household.village)
            assert read[household.pk] == want, (year, standard, household.village.name)
            seen.add(want)
    # Every kind of answer was met: none, national, provincial (province's and the nearer
    # county's) and municipal.
    assert {
        None,
        Decimal("4000"),
        Decimal("4100"),
        Decimal("4500"),
        Decimal("4700"),
        Decimal("4800"),
    } <= seen


def test_the_household_page_reads_each_income_years_line(cast, client_for, county, lines):
    household = factories.household(actor=cast.county, village=county.village_a)
    Household.objects.filter(pk=household.pk).update(identification_standard=Standard.PROVINCIAL)
    for year in (2024, 2025, 2026):
        household.incomes.create(year=year, wage=Decimal("30000"))
    response = client_for(cast.county).get(f"/households/{household.pk}/?tab=income")
    assert response.status_code == 200
    page = response.content.decode()
    cells = re.findall(r'当年扶贫标准</th><td class="num">([^<]*)<', page)
    # Latest first: 2026 none set, 2025 the county's (nearer than the province's), 2024 the
    # province's.
    assert [cell.split()[0] if cell.strip() else "" for cell in cells] == ["", "4700.00", "4500.00"]
    assert str(standards.PovertyLineMissing(2026, Standard.PROVINCIAL)) in page


def test_an_exited_households_page_reads_no_line_or_mark_of_its_own(
    cast, client_for, county, lines
):
    """The exit test's warning needs the latest income year's line, the page the household's
    and its members' 录入国家系统 marks: all come with the household, its incomes and its
    members, on every tab."""
    household = factories.household(actor=cast.county, village=county.village_a)
    Household.objects.filter(pk=household.pk).update(status=Household.Status.EXITED, exit_year=2025)
    household.incomes.create(year=2025, wage=Decimal("1000"))
    marks.national_mark_household(
        user=cast.county, household=household, entered_on=datetime.date(2026, 3, 1)
    )
    client = client_for(cast.county)
    for tab in ("basic", "members", "income"):
        client.get(f"/households/{household.pk}/?tab={tab}")
        with CaptureQueriesContext(connection) as captured:
            page = client.get(f"/households/{household.pk}/?tab={tab}").content.decode()
        own_reads = [
            query["sql"]
            for query in captured.captured_queries
            if query["sql"].startswith(
                ('SELECT "households_povertyline"', 'SELECT "households_nationalentry"')
            )
        ]
        assert own_reads == [], tab
        if tab == "basic":
            # The exit test ran on the line read with the incomes: 1000 ÷ persons ≤ 4100.
            assert "已脱贫户不符合退出标准" in page and "2025年标准4100" in page
            assert "2026-03-01" in page and f"标记人：{cast.county.display_name}" in page
        if tab == "members":
            assert page.count("2026-03-01") == len(factories.active_members(household))
