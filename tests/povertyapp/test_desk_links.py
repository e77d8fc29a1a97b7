"""The work desk per role (issue 17): every count links to the filtered list that shows exactly
those items (the list's count equals the desk's), every link opens (never a 403), the desk is
scoped like the lists, and its queries are bounded whatever the data."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assistance import services as assistance_services
from households import services as household_services
from households.models import CaseWorkflow, DataProblem, Household
from povertyapp import desk
from povertyapp.models import Job, User, VillageYear
from rounds import services as rounds
from tests import factories
from tests.conftest import login
from tests.inspections.conftest import make_campaign
from tests.monitoring.clue_fixtures import declared

pytestmark = pytest.mark.django_db

CASE_CAST = ["cadre", "cadre2", "township", "county", "auditor", "helper"]
ADMIN_CAST = ["sysadmin", "secadmin", "auditadmin"]
# The queries of a whole desk page beyond its panels' (session, user, region, menu).
PAGE_QUERIES = 5
# The queries of the panels themselves (`desk.panels_for`): the aim.
MAX_PANEL_QUERIES = 20
ONBOARDING = "years.onboarding"


def _problem(household: Household, rule: str, state: str) -> DataProblem:
    now = timezone.now()
    return DataProblem.objects.create(
        village=household.village,
        household=household,
        subject=household.pk,
        rule=rule,
        message="缺少身份证号",
        state=state,
        first_seen=now,
        last_seen=now,
    )


@pytest.fixture
def world(cast, county, household_a, household_b, settings, tmp_path) -> dict[str, Any]:
    """Something of every kind on the desk, in village A (cadre's, helper's) and B (cadre2's)."""
    settings.MEDIA_ROOT = tmp_path
    today = timezone.localdate()
    long_ago = today - datetime.timedelta(days=60)
    applicant = factories.household(
        actor=cast.county,
        village=county.village_a,
        status=Household.Status.NON_REGISTERED,
        main_cause="因病",
    )
    household_services.workflow_start(
        actor=cast.cadre,
        household=applicant,
        kind=CaseWorkflow.Kind.IDENTIFICATION,
        opinion="本人申请",
        effective_date=long_ago,
    )
    _problem(household_a, "id_number_missing", DataProblem.State.OPEN)
    _problem(household_a, "income_missing", DataProblem.State.EXPLAINED)
    _problem(household_b, "id_number_missing", DataProblem.State.OPEN)
    assistance_services.measure_create(
        actor=cast.cadre,
        household=household_a,
        data={
            "year": today.year,
            "category": "产业帮扶",
            "content": "养殖",
            "planned_start": today - datetime.timedelta(days=100),
            "planned_end": today - datetime.timedelta(days=10),
        },
    )
    declared(village=county.village_a, id_number=factories.id_number(), received_on=long_ago)
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=500, total_households=120
        )
    round = rounds.round_open(actor=cast.county, county=county.county, year=2020)
    rounds.change_propose(
        actor=cast.cadre,
        round=round,
        household=household_a,
        kind="removed",
        persons=2,
        head_name="张三",
        reason="购买3万元以上车辆：2019年购车",
    )
    make_campaign(cast, county)
    Job.objects.create(kind="ledger_export", created_by=cast.auditor, region=county.county)
    return {"applicant": applicant, "round": round}


@pytest.fixture
def others(county) -> dict[str, User]:
    """The roles outside the case work: a department, the city's and the province's offices."""
    role = User.Role
    return {
        "department": factories.user(
            "medical", role.DEPARTMENT, county.county, department=User.Department.MEDICAL_INSURANCE
        ),
        "city": factories.user("city", role.CITY_OFFICER, county.city),
        "province": factories.user("province", role.PROVINCE_OFFICER, county.province),
    }


def _listed(response) -> int:
    """How many items the list page shows in all (its paginator's count, or the whole list
    where the page is not paged)."""
    context = response.context
    if "listed_count" in context:
        return context["listed_count"]
    if "page" in context and hasattr(context["page"], "paginator"):
        return context["page"].paginator.count
    if "cl" in context:  # an admin list
        return context["cl"].result_count
    for key in ("campaigns", "reviews", "rows"):
        if key in context:
            return len(context[key])
    raise AssertionError(f"no count on {response.request['PATH_INFO']}")


def _user(cast, others, name: str) -> User:
    return others[name] if name in others else getattr(cast, name)


def _counts(user: User) -> dict[str, int | None]:
    return {str(item.label): item.count for item in desk.items_for(user)}


@pytest.mark.parametrize("name", [*CASE_CAST, *ADMIN_CAST, "department", "city", "province"])
def test_every_count_is_the_count_of_the_list_it_links_to(world, cast, others, name):
    user = _user(cast, others, name)
    client = login(user)
    assert client.get("/").status_code == 200
    items = desk.items_for(user)
    assert items, f"{name} has nothing on the desk"
    for item in items:
        response = client.get(item.url)
        assert response.status_code == 200, (name, item)
        if item.count is not None:
            assert _listed(response) == item.count, (name, item)


def test_the_village_cadre_sees_her_village_work_with_deadlines(world, cast):
    counts = _counts(cast.cadre)
    assert counts["待我办理的程序步骤"] == 1
    assert counts["其中已逾期"] == 1
    assert counts["我的案件（等待他人办理）"] == 0
    assert counts["待处理问题数据"] == 1
    assert counts["本月应走访的户"] == 1
    assert counts["有逾期未完成措施的户"] == 1
    assert counts["未制定今年一户一策的户"] == 1
    assert counts["待核实的风险线索"] == 0
    assert counts["待登记的风险线索"] == 1  # declared, no household matched
    assert counts["逾期的风险线索"] == 1
    assert "辖区逾期案件" not in counts
    [mine] = [item for item in desk.items_for(cast.cadre) if item.label == "待我办理的程序步骤"]
    assert mine.note == f"最近期限{world['applicant'].workflows.get().deadline:%Y-%m-%d}"


def test_the_other_village_sees_none_of_village_a(world, cast):
    counts = _counts(cast.cadre2)
    assert counts["待我办理的程序步骤"] == 0
    assert counts["待处理问题数据"] == 1  # household_b's own
    assert counts["有逾期未完成措施的户"] == 0
    assert counts["待登记的风险线索"] == 0


def test_the_helper_sees_what_each_of_her_households_needs(world, cast, household_a):
    assert _counts(cast.helper) == {
        "本月应走访的户": 1,
        "有逾期未完成措施的户": 1,
        "未制定今年一户一策的户": 1,
        "待核实的风险线索": 0,
        "待登记的风险线索": 0,
        "逾期的风险线索": 0,
    }
    response = login(cast.helper).get("/assistance/?due=measure")
    assert [row["household"] for row in response.context["rows"]] == [household_a]
    assert response.context["rows"][0]["due"][1] == "1项措施逾期未完成"


def test_the_township_sees_what_waits_for_it_and_overdue_by_village(world, cast, county):
    counts = _counts(cast.township)
    assert counts["2020年动态调整：待乡镇审核的名单"] == 1
    assert counts["待审核的问题说明"] == 1
    assert counts["辖区逾期案件"] == 1
    assert counts[county.village_a.name] == 1
    assert county.village_b.name not in counts  # another township's village


def test_the_county_sees_every_village_and_the_campaigns(world, cast):
    counts = _counts(cast.county)
    assert counts["辖区逾期案件"] == 1
    assert counts["2020年动态调整：待县级审定的名单"] == 0
    assert counts["进行中的考核评估"] == 1


def test_the_auditor_sees_the_campaigns_assigned_and_the_exports_started(world, cast):
    assert _counts(cast.auditor) == {
        "分配给我的考核评估（未完成）": 1,
        "待核实的风险线索": 0,
        "待登记的风险线索": 1,
        "逾期的风险线索": 1,
    }
    content = login(cast.auditor).get("/").content.decode()
    assert "近7天我发起的任务" in content


def test_a_campaign_assigned_to_another_auditor_is_not_counted(world, cast, county):
    other = factories.user("auditor2", User.Role.AUDITOR, county.county)
    assert _counts(other)["分配给我的考核评估（未完成）"] == 0


def test_the_roles_outside_case_work_see_what_they_act_on(world, cast, others):
    assert [item.label for item in desk.items_for(others["department"])] == [
        "本部门推送名单的处理结果",
        "推送风险名单",
    ]
    assert [item.label for item in desk.items_for(others["city"])] == ["本地区指标与各县汇总"]
    assert [item.label for item in desk.items_for(cast.secadmin)] == [
        "账号与角色",
        "登录锁定中的账号",
        "未绑定双因素认证的账号",
        "密码已过期或7天内过期的账号",
        "7天内将因长期未登录停用的账号",
    ]
    assert [item.label for item in desk.items_for(cast.auditadmin)] == ["审计日志"]
    assert [item.label for item in desk.items_for(cast.sysadmin)] == ["后台任务"]


def _panel_queries(user: User) -> dict[str, int]:
    """The queries of each panel the user sees."""
    counts = {}
    for panel in sorted(desk._PANELS.values(), key=lambda panel: (panel.order, panel.key)):
        if panel.visible(user):
            with CaptureQueriesContext(connection) as queries:
                panel.context(user)
            counts[panel.key] = len(queries.captured_queries)
    return counts


@pytest.mark.parametrize("name", [*CASE_CAST, *ADMIN_CAST, "department", "city", "province"])
def test_the_desk_queries_are_bounded(world, cast, others, name, django_assert_max_num_queries):
    user = _user(cast, others, name)
    counts = _panel_queries(user)
    # The county office's 上线准备 panel is its onboarding checklist, one query per line
    # (years.onboarding, 24): fixed, and shown to the county office only.
    assert sum(n for key, n in counts.items() if key != ONBOARDING) <= MAX_PANEL_QUERIES, counts
    client = login(user)
    with django_assert_max_num_queries(
        MAX_PANEL_QUERIES + PAGE_QUERIES + counts.get(ONBOARDING, 0)
    ):
        assert client.get("/").status_code == 200


@pytest.mark.parametrize("name", ["cadre", "township", "county", "helper", "auditor"])
def test_the_desk_queries_do_not_grow_with_the_data(world, cast, county, name):
    """Ten more overdue cases, households, measures and clues in the user's area: not one
    query more (no query per village, household or case)."""
    user = getattr(cast, name)
    _panel_queries(user)  # the user's region and its ancestors, cached on the user
    before = _panel_queries(user)
    cadres = {
        county.village_a: cast.cadre,
        county.village_a2: factories.user("cadre_a2", User.Role.VILLAGE_CADRE, county.village_a2),
    }
    long_ago = timezone.localdate() - datetime.timedelta(days=60)
    for village in [county.village_a, county.village_a2] * 5:
        applicant = factories.household(
            actor=cast.county, village=village, status=Household.Status.NON_REGISTERED
        )
        household_services.workflow_start(
            actor=cadres[village],
            household=applicant,
            kind=CaseWorkflow.Kind.IDENTIFICATION,
            opinion="本人申请",
            effective_date=long_ago,
        )
        declared(village=village, id_number=factories.id_number(), received_on=long_ago)
    assert _panel_queries(user) == before


@pytest.mark.parametrize("name", ["cadre", "cadre2", "township", "county", "helper", "auditor"])
def test_the_household_count_is_the_household_lists(world, cast, name):
    """管辖范围内农户, the desk's first figure, links to the registry's list of the same count."""
    user = getattr(cast, name)
    [values] = [
        values for panel, values in desk.panels_for(user) if panel.key == "households.counts"
    ]
    response = login(user).get("/households/")
    assert response.status_code == 200
    assert _listed(response) == values["household_count"]
