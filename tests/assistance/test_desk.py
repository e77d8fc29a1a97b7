"""The assistance desk's rules (`selectors.households_due`): a visit is due this month when the
household's last visit will be older than 90 days by the month's last day; a helper counts only
the households paired with her."""

from __future__ import annotations

import datetime

import pytest

from assistance import selectors
from assistance.desk import due_items
from assistance.models import Visit
from tests.conftest import login

pytestmark = pytest.mark.django_db
ON = datetime.date(2026, 12, 4)  # the month ends on 31 December


def _visit(household, date: datetime.date) -> Visit:
    return Visit.objects.create(household=household, date=date, visitor_name="帮扶人", seen="在家")


def test_a_visit_is_due_when_the_last_will_be_older_than_90_days_at_months_end(cast, household_a):
    assert selectors.month_end(ON) == datetime.date(2026, 12, 31)
    _visit(household_a, datetime.date(2026, 10, 2))  # 31 Dec − 90 days: due this month
    due = selectors.households_due(user=cast.helper, on=ON, due="visit")
    assert list(due) == [household_a]
    _visit(household_a, datetime.date(2026, 10, 3))  # 89 days before the month's end
    assert list(selectors.households_due(user=cast.helper, on=ON, due="visit")) == []


def test_the_due_rows_say_why_a_visit_is_due_this_month(cast, household_a):
    _visit(household_a, datetime.date(2026, 9, 15))  # 80 days ago today
    [row] = selectors.due_rows(
        list(selectors.due_households(user=cast.helper).filter(pk=household_a.pk)), on=ON
    )
    assert "本月应走访" in row["due"]
    assert "超过90天未走访" not in row["due"]


def test_a_helper_counts_only_her_households(cast, household_a, household_b):
    assert [item.count for item in due_items(cast.helper)][0] == 1
    assert selectors.due_counts(user=cast.county, on=ON)["visit"] == 2


def test_an_unknown_due_kind_lists_nothing(cast, household_a):
    assert list(selectors.households_due(user=cast.county, on=ON, due="other")) == []
    response = login(cast.helper).get("/assistance/?due=other")
    assert response.status_code == 200
    assert "rows" in response.context and "page" not in response.context
