"""农村低收入人口的身份 (DOMAIN §7, 2025–2026): 民政's 身份共享 list taken all or nothing, several
identities per person with their source and dates, a list sent again updating rather than
repeating, an identity's history never overlapping, and the pages that lay the department's
identities beside the registry's (脱贫人口, 防止返贫监测对象) with the checks where they
disagree."""

from __future__ import annotations

import datetime
import io
import threading
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.urls import reverse
from openpyxl import load_workbook

from households.models import Household
from monitoring import identities, inbox, layouts, lists
from monitoring.models import (
    DepartmentList,
    IdentityKind,
    IdentityRow,
    MonitoringObject,
    ObjectType,
    PersonIdentity,
)
from povertyapp.models import User
from tests import factories
from tests.conftest import login
from tests.monitoring.test_lists_support import department_user, upload, workbook_bytes

Department = User.Department
TODAY = datetime.date(2026, 6, 15)
HEADER = ["序号", "姓名", "身份证号码", "身份类别", "认定日期", "终止日期", "救助证编号"]


@pytest.fixture(autouse=True)
def _today():
    with mock.patch("households.services.common.today", return_value=TODAY):
        yield


@pytest.fixture
def minzheng(county):
    return department_user("minzheng_t", Department.CIVIL_AFFAIRS, county.county)


def ids_of(household):
    return [member.id_number for member in household.members.filter(is_active=True).order_by("id")]


def push(actor, rows):
    return lists.list_upload(
        actor=actor,
        layout_key="low_income",
        period="2026年6月",
        file=upload(workbook_bytes([HEADER, *rows])),
        filename="低收入人口.xlsx",
    )


def held(id_number):
    return list(
        PersonIdentity.objects.filter(id_number_index=identities.blind_index(id_number)).order_by(
            "kind", "start"
        )
    )


def test_the_layout_is_civil_affairs_and_its_template_reads_back(minzheng):
    layout = layouts.get("low_income")
    assert layout is not None and layout.purpose == DepartmentList.Purpose.IDENTITY
    assert [item.key for item in layouts.layouts_for(minzheng)].count("low_income") == 1
    sheet = load_workbook(io.BytesIO(lists.template_workbook(layout))).active
    assert [cell.value for cell in sheet[1]] == [
        "姓名*",
        "身份证号*",
        "身份类别*",
        "认定日期*",
        "终止日期",
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("农村低保对象", IdentityKind.DIBAO),
        (" 低 保 ", IdentityKind.DIBAO),
        ("分散供养特困人员", IdentityKind.TEKUN),
        ("低保边缘家庭", IdentityKind.DIBAO_EDGE),
        ("支出型困难家庭", IdentityKind.RIGID_COSTS),
        ("五保户", None),
        ("", None),
    ],
)
def test_a_department_names_an_identity_in_its_own_words(text, kind):
    assert identities.parse_kind(text) == kind


def test_a_person_holds_several_identities_each_with_source_and_dates(
    cast, county, household_a, minzheng
):
    head, spouse = ids_of(household_a)
    stranger = factories.id_number(datetime.date(1950, 2, 3), sex="女")
    pushed = push(
        minzheng,
        [
            [1, "张三", head, "农村低保对象", "2024-03-01", None, "DB-001"],
            [2, "张三", head, "刚性支出困难家庭成员", datetime.date(2025, 1, 10), "2025-12-31", ""],
            [3, "李四", spouse, "低保边缘", "2025/07/01", None, ""],
            [4, "张三", head, "低保", "2024-03-01", None, "DB-001"],  # the same again: 重复
            [5, "王五", stranger, "特困供养人员", "20230501", None, ""],
        ],
    )
    assert pushed.state == DepartmentList.State.DONE
    assert (pushed.rows_total, pushed.rows_matched, pushed.rows_unmatched) == (5, 3, 1)
    assert pushed.rows_duplicate == 1
    head_member = household_a.members.get(id_number_index=identities.blind_index(head))
    assert [(item.kind, item.start, item.end, item.member) for item in held(head)] == [
        (IdentityKind.DIBAO, datetime.date(2024, 3, 1), None, head_member),
        (
            IdentityKind.RIGID_COSTS,
            datetime.date(2025, 1, 10),
            datetime.date(2025, 12, 31),
            head_member,
        ),
    ]
    (outsider,) = held(stranger)
    assert outsider.member is None and outsider.household is None
    assert outsider.department == Department.CIVIL_AFFAIRS and outsider.source_row == 6
    assert set(
        IdentityRow.objects.filter(department_list=pushed).values_list("outcome", flat=True)
    ) == {IdentityRow.Outcome.CREATED}
    # The household page's identities: the head of a poor household (the registry's, first)
    # holds 低保 (current) and 刚性支出 (ended).
    members = list(household_a.members.order_by("id"))
    shown = identities.held_by_members(household_a, members, on=TODAY)[head_member.pk]
    assert [(item.label, item.source, item.since, item.current_on(TODAY)) for item in shown] == [
        ("建档立卡未脱贫人口", "农业农村（本系统）", "2016年识别", True),
        ("农村低保对象", "民政", "", True),
        ("刚性支出困难家庭成员", "民政", "", False),
    ]


def test_a_list_sent_again_updates_and_never_overlaps(cast, county, household_a, minzheng):
    head, spouse = ids_of(household_a)
    push(
        minzheng,
        [
            [1, "张三", head, "低保", "2024-03-01", None, ""],
            [2, "李四", spouse, "低保边缘", "2025-07-01", None, ""],
        ],
    )
    again = push(
        minzheng,
        [
            [1, "张三", head, "低保", "2024-03-01", "2026-05-31", ""],  # ended: updated
            [2, "李四", spouse, "低保边缘", "2025-07-01", None, ""],  # as before
            [3, "李四", spouse, "低保边缘", "2026-03-01", None, ""],  # re-certified
        ],
    )
    outcomes = dict(IdentityRow.objects.filter(department_list=again).values_list("row", "outcome"))
    assert outcomes == {
        2: IdentityRow.Outcome.UPDATED,
        3: IdentityRow.Outcome.UNCHANGED,
        4: IdentityRow.Outcome.CREATED,
    }
    assert [(item.start, item.end) for item in held(head)] == [
        (datetime.date(2024, 3, 1), datetime.date(2026, 5, 31))
    ]
    # The earlier 低保边缘 ends the day before the later one begins.
    assert [(item.start, item.end) for item in held(spouse)] == [
        (datetime.date(2025, 7, 1), datetime.date(2026, 2, 28)),
        (datetime.date(2026, 3, 1), None),
    ]
    assert PersonIdentity.objects.count() == 3


def test_a_bad_row_refuses_the_whole_list_and_names_every_row(cast, county, household_a, minzheng):
    head, spouse = ids_of(household_a)
    with pytest.raises(ValidationError) as refused:
        push(
            minzheng,
            [
                [1, "张三", head, "低保", "2024-03-01", None, ""],  # good
                [2, "李四", spouse, "五保户", "2024-03-01", None, ""],
                [3, "李四", spouse, "低保", "2027-01-01", None, ""],  # in the future
                [4, "李四", spouse, "低保", None, None, ""],
                [5, "李四", spouse, "低保", "三月", None, ""],
                [6, "张三", head, "特困", "2024-03-01", "2024-02-01", ""],  # ended first
            ],
        )
    assert refused.value.messages == [
        "第3行“身份类别”（五保户）：身份类别应为农村低保对象、农村特困人员、低保边缘家庭成员、"
        "刚性支出困难家庭成员之一。",
        "第4行：认定日期（2027-01-01）晚于今天。",
        "第5行：请填写“认定日期”。",
        "第6行“认定日期”（三月）：应为日期，格式如2020-01-31。",
        "第7行：终止日期（2024-02-01）早于认定日期（2024-03-01）。",
    ]
    assert not PersonIdentity.objects.exists() and not IdentityRow.objects.exists()


def test_an_end_the_department_has_set_ahead_is_kept(cast, county, household_a, minzheng):
    head, _spouse = ids_of(household_a)
    push(minzheng, [[1, "张三", head, "低保", "2025-07-01", "2027-06-30", ""]])
    (identity,) = held(head)
    assert identity.end == datetime.date(2027, 6, 30)
    assert identities.identities_for(cast.county).filter(identities.is_current(TODAY)).exists()


@pytest.fixture
def shared(cast, county, household_a, household_b, minzheng):
    """household_a exited and monitored; its head 民政 低保 + 刚性支出; household_b's head marked
    低保 in the registry without 民政's word; a person the registry does not hold."""
    Household.objects.filter(pk=household_a.pk).update(
        status=Household.Status.EXITED, exit_year=2019
    )
    household_a.refresh_from_db()
    MonitoringObject.objects.create(
        household=household_a,
        object_type=ObjectType.UNSTABLE,
        state=MonitoringObject.State.MONITORED,
        clue_date=datetime.date(2026, 1, 5),
        identified_on=datetime.date(2026, 1, 20),
        created_by=cast.county,
    )
    head_b = household_b.members.get(relation="户主")
    head_b.receives_dibao = True
    head_b.save(update_fields=["receives_dibao"])
    head, _spouse = ids_of(household_a)
    stranger = factories.id_number(datetime.date(1950, 2, 3), sex="女")
    push(
        minzheng,
        [
            [1, "张三", head, "低保", "2024-03-01", None, ""],
            [2, "张三", head, "刚性支出困难", "2025-01-10", None, ""],
            [3, "王五", stranger, "特困", "2023-05-01", None, ""],
        ],
    )
    return head, stranger


def test_the_figures_and_the_checks_over_the_county(cast, county, household_a, shared):
    figures = identities.counts(cast.county, on=TODAY)
    by_kind = {kind: persons for kind, _label, persons in figures["by_kind"]}
    assert by_kind == {"dibao": 1, "tekun": 1, "dibao_edge": 0, "rigid_costs": 1}
    assert (figures["persons"], figures["several_certified"], figures["with_registry"]) == (2, 1, 1)
    assert figures["unregistered"] == 1
    checks = {key: persons for key, _label, persons in figures["checks"]}
    # household_a's head: 民政 低保, not marked in the registry; household_b's head the other way.
    assert checks == {
        "dibao_not_marked": 1,
        "dibao_not_certified": 1,
        "tekun_not_marked": 0,
        "tekun_not_certified": 0,
    }


def test_each_office_reads_its_own_area(cast, county, household_a, household_b, shared):
    head, stranger = shared
    page = login(cast.county).get(reverse("monitoring:identities"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "张三" in text and "王五" in text and "未在本系统登记" in text
    assert head not in text and f"{head[:3]}***********{head[-4:]}" in text
    assert "脱贫人口" in text and "防止返贫监测对象" in text
    cadre2 = login(cast.cadre2).get(reverse("monitoring:identities")).content.decode()
    assert "张三" not in cadre2 and "王五" not in cadre2  # village B holds neither
    cadre = login(cast.cadre).get(reverse("monitoring:identities")).content.decode()
    assert "张三" in cadre and "王五" not in cadre  # no village: the county office's
    for user in (cast.helper, cast.sysadmin):
        assert login(user).get(reverse("monitoring:identities")).status_code == 403
    minzheng = User.objects.get(username="minzheng_t")
    assert login(minzheng).get(reverse("monitoring:identities")).status_code == 403
    checked = login(cast.county).get(
        reverse("monitoring:identities"), {"check": "dibao_not_certified"}
    )
    assert household_b.number in checked.content.decode()
    assert household_a.number not in checked.content.decode()


def test_the_household_page_lists_every_identity_of_each_member(
    cast, county, household_a, household_b, shared
):
    url = reverse("monitoring:household-identities", args=[household_a.pk])
    page = login(cast.helper).get(url)  # household_a's helper
    assert page.status_code == 200
    text = page.content.decode()
    for word in (
        "2019年脱贫",
        "防止返贫监测对象（脱贫不稳定户）",
        "2026-01-20",
        "农村低保对象",
        "刚性支出困难家庭成员",
    ):
        assert word in text
    assert login(cast.cadre2).get(url).status_code == 404  # village B's cadre
    detail = login(cast.cadre).get(reverse("households:detail", args=[household_a.pk]))
    assert url in detail.content.decode()


def test_the_department_reads_each_row_back(cast, county, household_a, shared, minzheng):
    source = DepartmentList.objects.get(layout="low_income")
    rows = inbox.department_results(source)
    assert [(row["row"], row["match"], row["result_label"]) for row in rows] == [
        (2, "已匹配", "新增"),
        (3, "已匹配", "新增"),
        (4, "未在本系统登记", "新增"),
    ]
    assert rows[0]["reason"] == "本系统：脱贫人口、防止返贫监测对象"
    home = login(minzheng).get(reverse("monitoring:department-home")).content.decode()
    assert "身份记录：新增 3，更新 0，无变化 0" in home
    results = login(minzheng).get(reverse("monitoring:list-results", args=[source.pk]))
    assert "农村特困人员" in results.content.decode()
    export = login(minzheng).get(reverse("monitoring:list-results-export", args=[source.pk]))
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    header = [cell.value for cell in sheet[1]]
    assert header[3:6] == ["身份类别", "认定日期", "终止日期"]
    county_view = login(cast.county).get(reverse("monitoring:list", args=[source.pk]))
    assert "农村低保对象 2024-03-01—" in county_view.content.decode()


def _ledger_rows(tmp_path, user, filters=None):
    from povertyapp.ledgers.services import ledger_write

    path = str(tmp_path / "identities.xlsx")
    result = ledger_write(user=user, key="low_income_identities", filters=filters or {}, path=path)
    sheet = load_workbook(path).worksheets[0]
    rows = [
        [cell.value for cell in row]
        for row in sheet.iter_rows(min_row=4)
        if isinstance(row[0].value, int)
    ]
    return result, rows


def test_the_ledger_has_a_row_per_identity_in_the_users_area(
    tmp_path, cast, county, household_a, shared
):
    head, stranger = shared
    result, rows = _ledger_rows(tmp_path, cast.county)
    assert result.rows == 3 and len(rows) == 3
    by_kind = {row[6]: row for row in rows}
    dibao = by_kind["农村低保对象"]
    assert dibao[1:5] == ["新州镇", "凤场村", household_a.number, "张三"]
    assert dibao[5] == head  # the county office sees the whole number
    assert dibao[7] == "民政" and dibao[10] == "有效"
    assert dibao[11] == "脱贫人口、防止返贫监测对象"
    assert by_kind["农村特困人员"][2] == "未在本系统登记"
    # The auditor reads masked numbers; a township office does not see the county's outsider.
    _result, audited = _ledger_rows(tmp_path, cast.auditor)
    assert stranger not in {row[5] for row in audited} and len(audited) == 3
    _result, township = _ledger_rows(tmp_path, cast.township)
    assert {row[6] for row in township} == {"农村低保对象", "刚性支出困难家庭成员"}


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="two connections at once: PostgreSQL only",
)
@pytest.mark.django_db(transaction=True)
def test_two_lists_at_once_wait_for_each_other_and_lose_nothing(cast, county, household_a):
    """民政 pushes the same roster twice at once (two clerks, or a retry): the second waits for
    the first's county lock, then finds its identities and leaves them as they are, where both
    would otherwise insert the same identity and the second fail with an integrity error."""
    minzheng = department_user("minzheng_c", Department.CIVIL_AFFAIRS, county.county)
    head, spouse = ids_of(household_a)
    rows = [
        [1, "张三", head, "低保", "2024-03-01", None, ""],
        [2, "李四", spouse, "低保边缘", "2025-07-01", None, ""],
    ]
    outcome: dict[str, Any] = {}
    first_in = threading.Event()
    release = threading.Event()

    def first() -> None:
        try:
            with transaction.atomic():
                outcome["first"] = push(minzheng, rows)
                first_in.set()
                release.wait(10)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            outcome["second"] = push(minzheng, rows)
        except Exception as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    one = threading.Thread(target=first)
    one.start()
    assert first_in.wait(20)
    two = threading.Thread(target=second)
    two.start()
    two.join(1.0)
    assert two.is_alive()  # waiting for the first list's county lock
    release.set()
    one.join(20)
    two.join(20)
    assert "error" not in outcome, outcome.get("error")
    assert PersonIdentity.objects.count() == 2
    assert set(
        IdentityRow.objects.filter(department_list=outcome["second"]).values_list(
            "outcome", flat=True
        )
    ) == {IdentityRow.Outcome.UNCHANGED}


def test_the_page_says_when_no_list_has_come_yet(cast, county, household_a, minzheng):
    warning = "本县尚未导入民政推送的“农村低收入人口身份”名单"
    for user in (cast.county, cast.cadre):
        assert warning in login(user).get(reverse("monitoring:identities")).content.decode()
    head, _spouse = ids_of(household_a)
    push(minzheng, [[1, "张三", head, "低保", "2024-03-01", None, ""]])
    for user in (cast.county, cast.cadre, cast.township):  # the county, and offices below it
        assert identities.has_lists(user)
        assert warning not in login(user).get(reverse("monitoring:identities")).content.decode()
