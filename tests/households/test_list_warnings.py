"""The household list's one line of warnings per household (issue 17): what a cadre acts on —
an overdue procedure step, a visit, a measure or a plan due (the work desk's rules, one place:
`assistance.selectors.due_conditions`, `households.workflows.overdue_cases`), a monitoring
object whose risk is not eliminated, open problem data — computed for the page in a fixed
number of statements, shown on the phone's card and in the desktop's 提示 column."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from assistance import selectors as assistance
from assistance.models import HouseholdPlan, Measure, Visit
from households import detail_tabs, selectors, services
from households.models import CaseWorkflow, DataProblem, Household
from monitoring.models import MonitoringObject
from tests import factories

pytestmark = pytest.mark.django_db


def _visit(household, date) -> None:
    Visit.objects.create(household=household, date=date, visitor_name="帮扶人", seen="在家")


def _plan(household, year) -> None:
    HouseholdPlan.objects.create(
        household=household, year=year, goals="务工增收", expected_income=Decimal("9000")
    )


@pytest.fixture
def five(cast, county):
    """Village A: a poor household due a visit and a plan; an exited one with an overdue
    measure; one with an overdue identification step; a monitored one; a poor one with nothing
    due (visited yesterday, this year's plan made)."""
    today = timezone.localdate()
    make = lambda status: factories.household(  # noqa: E731
        actor=cast.county, village=county.village_a, status=status
    )
    due = make(Household.Status.POOR)
    measured = make(Household.Status.EXITED)
    _visit(measured, today)
    Measure.objects.create(
        household=measured,
        year=today.year,
        category="产业帮扶",
        content="养牛",
        amount=Decimal("0"),
        planned_end=today - datetime.timedelta(days=3),
        status=Measure.Status.IN_PROGRESS,
    )
    late = make(Household.Status.NON_REGISTERED)
    workflow = services.workflow_start(
        actor=cast.cadre, household=late, kind=CaseWorkflow.Kind.IDENTIFICATION
    )
    CaseWorkflow.objects.filter(pk=workflow.pk).update(deadline=today - datetime.timedelta(days=2))
    monitored = make(Household.Status.NON_REGISTERED)
    MonitoringObject.objects.create(
        household=monitored, object_type="sudden", state="monitored", clue_date=today
    )
    fine = make(Household.Status.POOR)
    _visit(fine, today - datetime.timedelta(days=1))
    _plan(fine, today.year)
    return {"due": due, "measured": measured, "late": late, "monitored": monitored, "fine": fine}


def _rows(client, **params):
    response = client.get("/households/", {"page_size": 50, **params})
    assert response.status_code == 200
    return {row["pk"]: row for row in response.context["page"].object_list}, response


def test_each_household_shows_what_is_due(cast, five, client_for):
    rows, response = _rows(client_for(cast.cadre))
    year = timezone.localdate().year
    assert rows[five["due"].pk]["warnings"] == ["本月应走访", f"未制定{year}年一户一策"]
    assert rows[five["measured"].pk]["warnings"] == ["措施逾期"]
    assert rows[five["late"].pk]["warnings"] == ["程序逾期"]
    assert rows[five["monitored"].pk]["warnings"] == ["监测对象，风险未消除"]
    assert rows[five["fine"].pk]["warnings"] == []
    page = response.content.decode()
    assert page.count('class="warning-line"') == 4
    assert "⚠ 本月应走访 · 未制定" in page


def test_the_list_uses_the_desks_rule(cast, five, client_for):
    """As many households warned of a visit due as the work desk counts (one rule)."""
    rows, _response = _rows(client_for(cast.county))
    today = timezone.localdate()
    counts = assistance.due_counts(user=cast.county, on=today)
    for kind, label in (("visit", "本月应走访"), ("measure", "措施逾期")):
        shown = sum(1 for row in rows.values() if label in row["warnings"])
        assert shown == counts[kind]


def test_the_warnings_and_problem_data_share_the_line(cast, five, client_for):
    DataProblem.objects.create(
        household=five["due"],
        village=five["due"].village,
        rule="member_required",
        field="ethnicity",
        message="民族未填写",
        message_source={"msgid": "%(field)s未填写", "params": {"field": "民族"}},
        first_seen=timezone.now(),
        last_seen=timezone.now(),
    )
    _rows_by_id, response = _rows(client_for(cast.cadre))
    assert "未制定" in response.content.decode()
    assert " · 1 条问题数据：民族未填写" in response.content.decode()


def test_the_warnings_follow_the_readers_language(cast, five, client_for):
    client = client_for(cast.cadre)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    rows, response = _rows(client)
    warnings = [label for row in rows.values() for label in row["warnings"]]
    assert warnings and not any("\u4e00" <= c <= "\u9fff" for label in warnings for c in label)


def _statements(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get("/households/", {"page_size": 50})
    return len(queries)


def test_a_page_of_50_costs_the_same_statements_whatever_its_warnings(cast, county, client_for):
    today = timezone.localdate()
    for _index in range(5):
        factories.household(actor=cast.county, village=county.village_a)
    client = client_for(cast.cadre)
    client.get("/households/")  # warm the session and the user
    few = _statements(client)
    for index in range(45):
        household = factories.household(actor=cast.county, village=county.village_a)
        if index % 3 == 0:
            MonitoringObject.objects.create(
                household=household, object_type="sudden", state="monitored", clue_date=today
            )
        if index % 2 == 0:
            _visit(household, today)
    assert Household.objects.count() == 50
    assert _statements(client) == few


def test_the_conditions_are_built_once_a_day_and_language():
    """`detail_tabs.list_warnings` keeps what it built for a day and a language (the
    conditions cost the page a millisecond to build): another day gets its own (the 一户一策's
    year, the visit's month), another language its own labels, a new registration a new list."""
    new_year_eve, new_year = datetime.date(2026, 12, 31), datetime.date(2027, 1, 1)
    with translation.override("zh-hans"):
        eve = detail_tabs.list_warnings(on=new_year_eve)
        assert detail_tabs.list_warnings(on=new_year_eve) is eve
        assert "未制定2026年一户一策" in [label for label, _condition in eve]
        labels = [label for label, _condition in detail_tabs.list_warnings(on=new_year)]
        assert "未制定2027年一户一策" in labels and "未制定2026年一户一策" not in labels
    with translation.override("en"):
        english = [label for label, _condition in detail_tabs.list_warnings(on=new_year_eve)]
        assert english != [label for label, _condition in eve]
    with translation.override("zh-hans"):
        detail_tabs.register_list_warnings("test.extra", lambda *, on: [("额外", Q(pk=0))])
        try:
            assert detail_tabs.list_warnings(on=new_year_eve)[-1][0] == "额外"
        finally:
            del detail_tabs._list_warnings["test.extra"]
            detail_tabs._warnings_built.clear()
        assert detail_tabs.list_warnings(on=new_year_eve)[-1][0] != "额外"


def test_the_rows_statement_is_built_once_for_a_list_of_warnings(cast, five):
    """`selectors.household_list_rows` keeps the rows' statement, without its ids, for the
    list of warnings `detail_tabs` keeps for the day: each page filters a copy of it, and the
    statement kept is never read itself."""
    warnings = detail_tabs.list_warnings(on=timezone.localdate())
    ids = [household.pk for household in five.values()]
    first = selectors.household_list_rows(ids[:2], warnings=warnings)
    second = selectors.household_list_rows(ids[2:][::-1], warnings=warnings)
    assert [row["pk"] for row in first] == ids[:2]
    assert [row["pk"] for row in second] == ids[2:][::-1]
    kept = selectors._list_rows_statement(warnings)
    assert selectors._list_rows_statement(warnings) is kept
    assert kept._result_cache is None
    # Another list of the same conditions is not taken for it.
    assert selectors._list_rows_statement(list(warnings)) is not kept
