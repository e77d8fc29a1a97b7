"""Findings: drafts, confirmation rules, a confirmed error opens a correction task and a
rectification item (with events), the workbook round trip is all-or-nothing."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from households import services as household_services
from households.models import Household
from inspections import imports, services
from inspections.models import (
    CorrectionTask,
    Finding,
    InspectionEvent,
    RectificationItem,
    SampleHousehold,
)
from tests.inspections.conftest import CHECKS_OK, confirm
from tests.project import app_today


@pytest.fixture
def visiting(registry, cast, campaign_factory):
    campaign = campaign_factory(visit_date=app_today())
    return services.campaign_draw(actor=cast.county, campaign=campaign, seed=11)


def test_draft_keeps_partial_answers_and_confirm_requires_every_check(visiting, cast):
    sample = visiting.households.filter(kind="unexited").first()
    draft = services.finding_save(
        actor=cast.auditor, sample=sample, data={"food_secure": True, "result": ""}
    )
    assert draft.status == Finding.Status.DRAFT and draft.food_secure is True
    with pytest.raises(ValidationError) as error:
        services.finding_save(
            actor=cast.auditor,
            sample=sample,
            data={"result": "正常"},
            confirm=True,
            expected_version=draft.version,
        )
    assert set(error.value.message_dict) >= {
        "approval",
        "verified_per_capita_income",
        "clothing_secure",
        "water_secure",
    }
    assert Finding.objects.get(pk=draft.pk).status == Finding.Status.DRAFT
    assert CorrectionTask.objects.count() == 0


def test_a_stale_draft_is_refused_not_overwritten(visiting, cast):
    sample = visiting.households.first()
    first = services.finding_save(actor=cast.auditor, sample=sample, data={"notes": "甲"})
    services.finding_save(
        actor=cast.auditor, sample=sample, data={"notes": "乙"}, expected_version=first.version
    )
    with pytest.raises(ValidationError) as error:
        services.finding_save(
            actor=cast.auditor, sample=sample, data={"notes": "丙"}, expected_version=first.version
        )
    assert error.value.code == "conflict"
    assert Finding.objects.get(sample=sample).notes == "乙"


def test_result_must_fit_the_kind(visiting, cast):
    sample = visiting.households.filter(kind="non_registered").first()
    with pytest.raises(ValidationError) as error:
        confirm(cast.auditor, sample, "错退")
    assert error.value.message_dict["result"] == ["“非建档立卡户”不能认定为“错退”。"]


def test_confirmed_error_opens_a_correction_task_and_a_rectification_item(visiting, cast):
    sample = visiting.households.filter(kind="unexited").first()
    finding = confirm(cast.auditor, sample, "错评", notes="家有3万元以上小汽车")
    task = CorrectionTask.objects.get(finding=finding)
    assert (task.kind, task.village_id, task.household_id, task.persons, task.status) == (
        "removed",
        sample.sample_village.village_id,
        sample.household_id,
        sample.persons,
        "open",
    )
    item = RectificationItem.objects.get(finding=finding)
    assert item.region_id == sample.sample_village.village_id
    assert item.status == "待整改" and item.category == "错评（应剔除）"
    assert "家有3万元以上小汽车" in item.problem
    kinds = set(InspectionEvent.objects.filter(finding=finding).values_list("kind", flat=True))
    assert kinds == {"finding_confirmed", "task_created", "item_created"}
    # A normal finding opens nothing.
    other = visiting.households.filter(kind="exited").first()
    confirm(cast.auditor, other)
    assert CorrectionTask.objects.count() == 1 and RectificationItem.objects.count() == 1
    # Confirmed findings are final.
    with pytest.raises(ValidationError):
        services.finding_save(actor=cast.auditor, sample=sample, data={"notes": "改"})


def test_correction_task_resolves_only_once_the_registry_shows_it(
    visiting, cast, county, client_for
):
    sample = visiting.households.filter(
        kind="unexited", sample_village__village=county.village_a
    ).first()
    finding = confirm(cast.auditor, sample, "错评")
    task = finding.correction_task
    with pytest.raises(ValidationError) as error:
        services.correction_task_resolve(actor=cast.cadre, task=task)
    assert error.value.code == "not_corrected"
    assert CorrectionTask.objects.get(pk=task.pk).status == "open"
    # The task list says so in place of the button the service would refuse.
    resolve_url = f"/inspections/tasks/{task.pk}/resolve/"
    page = client_for(cast.cadre).get("/inspections/tasks/").content.decode()
    assert error.value.messages[0] in page and resolve_url not in page
    household = Household.objects.get(pk=sample.household_id)
    household_services.household_change_status(
        actor=cast.county,
        household=household,
        kind="removed",
        to_status="removed",
        ground="家庭成员有财政供养人员",
    )
    assert resolve_url in client_for(cast.cadre).get("/inspections/tasks/").content.decode()
    services.correction_task_resolve(actor=cast.cadre, task=task, note="已按程序剔除")
    task.refresh_from_db()
    assert task.status == "resolved" and task.resolved_by == cast.cadre
    assert InspectionEvent.objects.filter(task=task, kind="task_resolved").count() == 1


def test_cadre_of_another_village_cannot_resolve(visiting, cast, county):
    sample = visiting.households.filter(
        kind="unexited", sample_village__village=county.village_a
    ).first()
    task = confirm(cast.auditor, sample, "错评").correction_task
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.correction_task_resolve(actor=cast.cadre2, task=task)
    assert CorrectionTask.objects.get(pk=task.pk).status == "open"


def test_on_site_household_counts_as_non_registered(visiting, cast):
    sample_village = visiting.villages.first()
    added = services.sample_household_add(
        actor=cast.auditor,
        campaign=visiting,
        sample_village=sample_village,
        head_name="王某",
        persons=4,
    )
    assert added.added_on_site and added.kind == "non_registered" and added.household is None
    finding = confirm(cast.auditor, added, "漏评")
    assert finding.error_persons == 4
    task = finding.correction_task
    assert task.kind == "identified" and task.household is None


def _workbook(campaign, fill):
    samples = list(campaign.households.select_related("sample_village__village"))
    book = load_workbook(io.BytesIO(imports.workbook_bytes(campaign, samples)))
    sheet = book.active
    header = [cell.value for cell in sheet[2]]
    for row in sheet.iter_rows(min_row=3):
        values = fill(row[0].value)
        for key, value in values.items():
            row[header.index(dict(imports.COLUMNS)[key])].value = value
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


ANSWERS = {
    "verified_per_capita_income": 5200,
    "food_secure": "是",
    "clothing_secure": "是",
    "education_secure": "是",
    "medical_secure": "是",
    "housing_secure": "是",
    "water_secure": "是",
    "result": "正常",
    "approval": "认可",
    "confirm": "是",
}


def test_workbook_upload_saves_every_row(visiting, cast):
    upload = _workbook(visiting, lambda sample_id: ANSWERS)
    result = imports.findings_import(actor=cast.auditor, campaign=visiting, file=upload)
    total = visiting.households.count()
    assert result == {"saved": total, "confirmed": total}
    assert Finding.objects.filter(status="confirmed").count() == total
    assert InspectionEvent.objects.filter(kind="findings_imported").count() == 1


def test_workbook_upload_is_all_or_nothing_with_row_errors(visiting, cast):
    bad_ids = list(visiting.households.values_list("pk", flat=True)[:2])

    def fill(sample_id):
        if sample_id == str(bad_ids[0]):
            return {**ANSWERS, "result": "错误结论"}
        if sample_id == str(bad_ids[1]):
            return {**ANSWERS, "approval": "不认可"}
        return ANSWERS

    with pytest.raises(ValidationError) as error:
        imports.findings_import(
            actor=cast.auditor, campaign=visiting, file=_workbook(visiting, fill)
        )
    messages = error.value.messages
    assert len(messages) == 2
    assert messages[0].startswith("第3行") and messages[1].startswith("第4行")
    assert "核查结论只能是正常、错评、漏评或错退" in " ".join(messages)
    assert "不认可须填写原因" in " ".join(messages)
    assert Finding.objects.count() == 0
    assert InspectionEvent.objects.filter(kind="findings_imported").count() == 0


def test_workbook_rejects_a_foreign_sample_and_garbage(visiting, cast):
    with pytest.raises(ValidationError) as error:
        imports.findings_import(
            actor=cast.auditor, campaign=visiting, file=io.BytesIO(b"not a workbook")
        )
    assert error.value.code == "not_xlsx"  # the upload guard, before openpyxl
    upload = _workbook(
        visiting,
        lambda sample_id: (
            {**ANSWERS, "sample": "999999"}
            if sample_id == str(visiting.households.first().pk)
            else ANSWERS
        ),
    )
    with pytest.raises(ValidationError) as error:
        imports.findings_import(actor=cast.auditor, campaign=visiting, file=upload)
    assert "样本编号“999999”不属于本次评估" in error.value.messages[0]
    assert Finding.objects.count() == 0


def test_campaign_finishes_only_when_every_finding_is_confirmed(visiting, cast, client_for):
    """Finishing waits for every finding; the campaign's page says why in place of the button
    (the page walk presses every offered action and none may be refused)."""
    with pytest.raises(ValidationError) as error:
        services.campaign_finish(actor=cast.county, campaign=visiting)
    assert error.value.code == "findings_missing"
    blocker = services.campaign_finish_blocker(visiting)
    first = visiting.villages.order_by("position").first()
    total = visiting.households.count()
    assert error.value.messages == [blocker]
    assert (
        f"还有{total}户" in blocker
        and f"{first.village.name}{first.households.count()}户" in blocker
    )
    for user in (cast.county, cast.auditor):
        page = client_for(user).get(f"/inspections/{visiting.pk}/").content.decode()
        assert blocker in page and 'aria-describedby="finish-blocker"' in page
        assert f"/inspections/{visiting.pk}/finish/" not in page
    for sample in SampleHousehold.objects.filter(campaign=visiting):
        services.finding_save(
            actor=cast.auditor,
            sample=sample,
            data={**CHECKS_OK, "result": "正常", "approval": "认可"},
            confirm=True,
        )
    assert services.campaign_finish_blocker(visiting) is None
    page = client_for(cast.auditor).get(f"/inspections/{visiting.pk}/").content.decode()
    assert f"/inspections/{visiting.pk}/finish/" in page
    finished = services.campaign_finish(actor=cast.county, campaign=visiting)
    assert finished.status == "finished"
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.sample_household_add(
            actor=cast.auditor,
            campaign=finished,
            sample_village=finished.villages.first(),
            head_name="李某",
            persons=2,
        )


def test_finding_page_shows_saved_answers_and_saves_a_draft(visiting, cast, client_for):
    import re

    from django.urls import reverse

    sample = visiting.households.first()
    services.finding_save(
        actor=cast.auditor, sample=sample, data={"food_secure": True, "water_secure": False}
    )
    url = reverse("inspections:finding", args=[visiting.pk, sample.pk])
    body = client_for(cast.auditor).get(url).content.decode()
    checked = re.findall(r'<input[^>]*name="(\w+_secure)"[^>]*value="(\w*)"[^>]*checked', body)
    assert sorted(checked) == [
        ("clothing_secure", ""),
        ("education_secure", ""),
        ("food_secure", "yes"),
        ("housing_secure", ""),
        ("medical_secure", ""),
        ("water_secure", "no"),
    ]
    response = client_for(cast.auditor).post(
        url,
        {
            "food_secure": "yes",
            "water_secure": "no",
            "result": "正常",
            "version": "1",
            "draft": "1",
        },
    )
    assert response.status_code == 302
    finding = Finding.objects.get(sample=sample)
    assert (finding.food_secure, finding.water_secure, finding.result, finding.version) == (
        True,
        False,
        "正常",
        2,
    )


def test_a_second_visit_sheet_is_refused_not_left_out(visiting, cast):
    """A workbook whose second sheet is a visit sheet too (a team's copy pasted in) would have
    had that sheet's findings left out without a word: it is refused, naming both."""
    book = load_workbook(_workbook(visiting, lambda sample_id: ANSWERS))
    book.copy_worksheet(book.active).title = "入户核查表（二组）"
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    with pytest.raises(ValidationError) as error:
        imports.findings_import(actor=cast.auditor, campaign=visiting, file=buffer)
    assert error.value.code == "two_sheets"
    assert "“入户核查表”和“入户核查表（二组）”两张表" in error.value.messages[0]
    assert Finding.objects.count() == 0
