"""Department lists: matching to the registry in bulk, deduplication within the list and against
open clues and current objects, the 医保 threshold, counts, and who may upload which layout."""

from __future__ import annotations

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from households.models import Household
from monitoring import clues, layouts, lists
from monitoring.models import Clue, DepartmentList, MonitoringObject, ObjectType
from povertyapp.models import User
from tests import factories
from tests.monitoring.test_lists_support import (
    department_user,
    medical_rules,
    upload,
    workbook_bytes,
)

Department = User.Department
TODAY = datetime.date(2026, 6, 15)
HEADER = ["序号", "患者姓名", "身份证号码", "医疗总费用", "个人自付金额", "就诊医院"]


@pytest.fixture(autouse=True)
def _today():
    with mock.patch("households.services.common.today", return_value=TODAY):
        yield


@pytest.fixture
def yibao(county):
    return department_user("yibao_t", Department.MEDICAL_INSURANCE, county.county)


def ids_of(household):
    return [member.id_number for member in household.members.filter(is_active=True).order_by("id")]


def push(actor, rows, layout="medical_costs", **kwargs):
    return lists.list_upload(
        actor=actor,
        layout_key=layout,
        period="2026年5月",
        file=upload(workbook_bytes(rows, **kwargs)),
        filename="名单.xlsx",
    )


def test_medical_list_matches_dedupes_and_counts(cast, county, household_a, household_b, yibao):
    medical_rules(county.county)
    head_a, spouse_a = ids_of(household_a)
    head_b, _spouse_b = ids_of(household_b)
    stranger = factories.id_number(datetime.date(1970, 1, 2))
    rows = [
        HEADER,
        [1, "张三", head_a, 30000, "9000.50", "县医院"],  # registered: over 8,000 → clue
        [2, "张三", head_a, 30000, 9000, "县医院"],  # the same ID again: duplicate row
        [3, "李四", spouse_a, 20000, 12000, "州医院"],  # same household: a duplicate clue
        [4, "张三", head_b, 9000, 7999, "县医院"],  # registered, under 8,000: below
        [5, "王五", stranger, 40000, 17000, "省医院"],  # not in the registry, over 16,000
    ]
    pushed = push(yibao, rows, before=2)
    assert pushed.state == DepartmentList.State.DONE
    assert (
        pushed.rows_total,
        pushed.rows_matched,
        pushed.rows_unmatched,
        pushed.rows_duplicate,
        pushed.rows_below,
    ) == (5, 2, 1, 1, 1)
    made = {clue.source_row: clue for clue in Clue.objects.filter(source_list=pushed)}
    assert sorted(made) == [4, 6, 8]  # Excel rows (two title rows, the header on row 3)
    first, second, unknown = made[4], made[6], made[8]
    assert first.household == household_a and first.state == Clue.State.PENDING
    assert first.region == county.village_a and first.amount == Decimal("9000.50")
    assert first.risk_type == "illness" and first.department == Department.MEDICAL_INSURANCE
    assert first.details["就诊医院"] == "县医院" and first.details["医疗总费用"] == "30000"
    assert second.state == Clue.State.DUPLICATE and second.duplicate_of == first
    assert unknown.state == Clue.State.UNREGISTERED and unknown.region == county.county
    assert first.verify_due > TODAY and first.decide_due == TODAY + datetime.timedelta(days=15)


def test_list_clues_follow_open_clues_and_current_objects(cast, county, household_a, household_b):
    medical_rules(county.county)
    yibao = department_user("yibao_t", Department.MEDICAL_INSURANCE, county.county)
    open_clue = clues.clue_create(
        channel=Clue.Channel.SELF_DECLARATION,
        name="张三",
        id_number=ids_of(household_a)[0],
        risk_type="illness",
        received_on=TODAY,
        actor=cast.cadre,
        region=county.village_a,
    )
    current = MonitoringObject.objects.create(
        household=household_b,
        object_type=ObjectType.MARGINAL,
        state=MonitoringObject.State.MONITORED,
        **_object_extra(),
    )
    pushed = push(
        yibao,
        [
            HEADER,
            [1, "李四", ids_of(household_a)[1], 1, 20000, ""],
            [2, "张三", ids_of(household_b)[0], 1, 20000, ""],
        ],
    )
    by_row = {clue.source_row: clue for clue in pushed.clues.all()}
    assert by_row[2].state == Clue.State.DUPLICATE and by_row[2].duplicate_of == open_clue
    assert by_row[3].state == Clue.State.DUPLICATE and by_row[3].monitoring_object == current


def _object_extra():
    from monitoring.models import MonitoringObject as Model

    required = {}
    for item in Model._meta.concrete_fields:
        if item.name in ("id", "household", "object_type", "state") or item.has_default():
            continue
        if item.null or item.blank:
            continue
        if item.get_internal_type() == "DateField":
            required[item.name] = TODAY
        elif item.get_internal_type() == "JSONField":
            required[item.name] = []
    return required


def test_absolute_medical_amount_wins_over_the_share(cast, county, household_a, yibao):
    rules = medical_rules(county.county)
    rules.medical_amount = Decimal("20000")
    rules.save()
    pushed = push(yibao, [HEADER, [1, "张三", ids_of(household_a)[0], 1, 19999, ""]])
    assert pushed.rows_below == 1 and not pushed.clues.exists()


def test_medical_list_without_a_standard_is_refused(cast, county, household_a, yibao):
    with pytest.raises(ValidationError) as refused:
        push(yibao, [HEADER, [1, "张三", ids_of(household_a)[0], 1, 19999, ""]])
    assert "预警标准" in refused.value.messages[0]
    assert not DepartmentList.objects.exists() and not Clue.objects.exists()


def test_match_many_agrees_with_match(cast, county, household_a, household_b):
    numbers = [*ids_of(household_a), *ids_of(household_b), factories.id_number()]
    bulk = clues.match_many(numbers, chunk=2)
    for number in numbers:
        one = clues.match(number)
        assert bulk[number] == one


def test_match_many_queries_per_chunk_not_per_row(
    cast, county, household_a, household_b, django_assert_max_num_queries, django_assert_num_queries
):
    numbers = [*ids_of(household_a), *ids_of(household_b)] + [
        factories.id_number(datetime.date(1960, 1, day)) for day in range(1, 20)
    ]
    # Per chunk: the members, their households, current objects, open clues, the open
    # clues of unmatched IDs; then the villages and the rows the matches refer to.
    with django_assert_max_num_queries(8):
        found = clues.match_many(numbers)
    assert len(found) == len(numbers)
    assert {match.household for match in found.values()} == {household_a, household_b, None}
    with django_assert_num_queries(0):
        found[numbers[0]].household.village.name  # noqa: B018 (loaded, not fetched again)
        found[numbers[0]].member.household.number  # noqa: B018


def test_scrutiny_vehicle_list_raises_tasks_above_the_value(cast, county, household_a):
    from monitoring.models import CadreRelation, ScrutinyTask

    gongan = department_user("gongan", Department.PUBLIC_SECURITY, county.county)
    non_registered = factories.household(
        actor=cast.county,
        village=county.village_a,
        status=Household.Status.NON_REGISTERED,
        members=[factories.member_data(name="赵六")],
    )
    member = household_a.members.order_by("id").first()
    CadreRelation.objects.create(
        member=member, cadre_name="王主任", cadre_post="village_cadre", relation="兄弟"
    )
    rows = [
        ["车主姓名", "身份证号", "号牌号码", "车辆价格"],
        ["张三", ids_of(household_a)[0], "贵H12345", 150000],
        ["李四", ids_of(household_a)[1], "贵H22222", 30000],  # under 50,000: below
        ["赵六", ids_of(non_registered)[0], "贵H33333", 90000],  # not registered: unmatched
    ]
    pushed = push(gongan, rows, layout="vehicles")
    assert (pushed.rows_matched, pushed.rows_below, pushed.rows_unmatched) == (1, 1, 1)
    task = ScrutinyTask.objects.get(source_list=pushed)
    assert task.household == household_a and task.village == county.village_a
    assert task.cadre_relative is True
    assert task.evidence["号牌号码"] == "贵H12345" and task.evidence["车辆价值"] == "150000.00"
    assert not Clue.objects.exists()


def test_department_uploads_only_its_own_layouts(cast, county, household_a, yibao):
    assert {layout.department for layout in layouts.layouts_for(yibao)} == {
        Department.MEDICAL_INSURANCE
    }
    assert len(layouts.layouts_for(cast.county)) == len(layouts.LAYOUTS)
    assert layouts.layouts_for(cast.cadre) == []
    rows = [["姓名", "身份证号", "学校"], ["张三", ids_of(household_a)[0], "一中"]]
    with pytest.raises(PermissionDenied):
        push(yibao, rows, layout="dropout")
    with pytest.raises(PermissionDenied):
        push(cast.cadre, rows, layout="dropout")
    assert not DepartmentList.objects.exists()
    pushed = push(cast.county, rows, layout="dropout")  # the county office: any department
    assert pushed.department == Department.EDUCATION and pushed.clues.count() == 1


def test_department_sees_only_its_departments_lists(cast, county, household_a, yibao):
    rows = [["姓名", "身份证号", "学校"], ["张三", ids_of(household_a)[0], "一中"]]
    education = push(cast.county, rows, layout="dropout")
    assert list(lists.lists_for(yibao)) == []
    assert list(lists.lists_for(cast.county)) == [education]
    assert list(lists.lists_for(cast.cadre)) == []
    jiaoyu = department_user("jiaoyu", Department.EDUCATION, county.county)
    assert list(lists.lists_for(jiaoyu)) == [education]


def test_large_list_runs_as_a_job(cast, county, household_a, yibao, settings):
    from povertyapp import jobs
    from povertyapp.models import Job

    settings.UPLOAD_INLINE_MAX_ROWS = 3
    medical_rules(county.county)
    rows = [HEADER] + [
        [n, "某某", factories.id_number(datetime.date(1950, 1, n)), 1, 20000, ""]
        for n in range(1, 6)
    ]
    pushed = push(yibao, rows)
    assert pushed.state == DepartmentList.State.PENDING and pushed.job is not None
    assert not Clue.objects.exists()
    job = jobs.job_run(pushed.job.pk)
    assert job.status == Job.Status.SUCCEEDED, job.error
    pushed.refresh_from_db()
    assert pushed.state == DepartmentList.State.DONE and pushed.rows_unmatched == 5
    assert pushed.clues.count() == 5


def test_large_bad_list_job_refuses_and_writes_nothing(cast, county, yibao, settings):
    from povertyapp import jobs
    from povertyapp.models import Job

    settings.UPLOAD_INLINE_MAX_ROWS = 2
    medical_rules(county.county)
    rows = [HEADER] + [
        [n, "某某", factories.id_number(datetime.date(1950, 1, n)), 1, 20000, ""]
        for n in range(1, 4)
    ]
    rows.append([4, "某某", "522622195001010000", 1, 20000, ""])
    pushed = push(yibao, rows)
    job = jobs.job_run(pushed.job.pk)
    assert job.status == Job.Status.FAILED and "第5行" in job.error
    pushed.refresh_from_db()
    assert pushed.state == DepartmentList.State.REFUSED and "第5行" in pushed.refusal
    assert not Clue.objects.exists()
