"""The year-end sign-off: the order of the levels, what blocks and what warns, returns,
reopening, the frozen figures, and the pages and API that show and drive it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from households.models import DataProblem, HouseholdIncome
from povertyapp import yearlock
from povertyapp.models import AccessLog, YearLock
from rounds.models import RateSnapshot
from tests.conftest import login
from tests.years.conftest import INCOME, YEAR
from years import signoff
from years.models import SignOff, SignOffEvent


def submit_all(cast, county, world) -> None:
    signoff.signoff_submit(actor=cast.cadre, village=county.village_a, year=YEAR)
    signoff.signoff_submit(actor=world.cadre_a2, village=county.village_a2, year=YEAR)
    signoff.signoff_submit(actor=cast.cadre2, village=county.village_b, year=YEAR)


def sign_all(cast, county, world) -> SignOff:
    submit_all(cast, county, world)
    signoff.signoff_sign(actor=cast.township, region=county.township1, year=YEAR)
    signoff.signoff_sign(actor=world.township2, region=county.township2, year=YEAR)
    return signoff.signoff_sign(actor=cast.county, region=county.county, year=YEAR)


def codes(error: ValidationError) -> list[str | None]:
    return (
        [item.code for item in error.error_list]
        if hasattr(error, "error_list")
        else [item.code for items in error.error_dict.values() for item in items]
    )


def test_a_township_cannot_sign_before_all_its_villages_submitted(cast, county, world):
    signoff.signoff_submit(actor=cast.cadre, village=county.village_a, year=YEAR)

    with pytest.raises(ValidationError) as refused:
        signoff.signoff_sign(actor=cast.township, region=county.township1, year=YEAR)

    assert refused.value.messages == ["还有1个村未提交（龙坪村），不能签署。"]
    assert signoff.state_of(region=county.township1, year=YEAR) == SignOff.State.PENDING
    signoff.signoff_submit(actor=world.cadre_a2, village=county.village_a2, year=YEAR)
    signed = signoff.signoff_sign(actor=cast.township, region=county.township1, year=YEAR)
    assert signed.state == SignOff.State.SIGNED
    assert signed.acted_by == cast.township


def test_the_county_cannot_sign_before_all_its_townships_signed(cast, county, world, closed_round):
    submit_all(cast, county, world)
    signoff.signoff_sign(actor=cast.township, region=county.township1, year=YEAR)

    with pytest.raises(ValidationError) as refused:
        signoff.signoff_sign(actor=cast.county, region=county.county, year=YEAR)

    assert refused.value.messages == ["还有1个乡镇未签署（旧州镇），不能签署。"]
    assert not yearlock.is_locked(county.county, YEAR)


def test_missing_incomes_block_the_submission_and_nothing_is_written(cast, county, world):
    HouseholdIncome.objects.filter(household=world.households[0], year=YEAR).delete()

    with pytest.raises(ValidationError) as refused:
        signoff.signoff_submit(actor=cast.cadre, village=county.village_a, year=YEAR)

    assert codes(refused.value) == ["missing_incomes"]
    assert refused.value.messages == ["还有1户建档立卡户未录入本年度收入，请录入后再签署。"]
    assert not SignOff.objects.filter(state=SignOff.State.SUBMITTED).exists()
    assert SignOffEvent.objects.count() == 0


def test_open_problem_data_warns_and_needs_an_explanation(cast, county, world):
    now = timezone.now()
    DataProblem.objects.create(
        village=county.village_a,
        household=world.households[0],
        rule="age",
        message="年龄不合理",
        first_seen=now,
        last_seen=now,
    )

    with pytest.raises(ValidationError) as refused:
        signoff.signoff_submit(actor=cast.cadre, village=county.village_a, year=YEAR)
    assert list(refused.value.error_dict) == ["explanation"]
    assert codes(refused.value) == ["explanation_required"]

    row = signoff.signoff_submit(
        actor=cast.cadre, village=county.village_a, year=YEAR, explanation="已核实，待派出所确认"
    )
    assert row.state == SignOff.State.SUBMITTED
    assert row.explanation == "已核实，待派出所确认"
    event = row.events.get()
    assert event.open_items["problems"] == 1
    assert event.reason == "已核实，待派出所确认"


def test_the_county_cannot_sign_while_the_round_of_the_year_is_open(cast, county, world):
    submit_all(cast, county, world)
    signoff.signoff_sign(actor=cast.township, region=county.township1, year=YEAR)
    signoff.signoff_sign(actor=world.township2, region=county.township2, year=YEAR)

    with pytest.raises(ValidationError) as refused:
        signoff.signoff_sign(actor=cast.county, region=county.county, year=YEAR)

    assert codes(refused.value) == ["round_open"]
    assert not yearlock.is_locked(county.county, YEAR)


def test_the_township_returns_a_submission_with_its_reason(cast, county, world):
    signoff.signoff_submit(actor=cast.cadre, village=county.village_a, year=YEAR)
    before = AccessLog.objects.filter(target="years.SignOff").count()

    with pytest.raises(ValidationError):
        signoff.signoff_return(actor=cast.township, region=county.village_a, year=YEAR, reason=" ")
    row = signoff.signoff_return(
        actor=cast.township, region=county.village_a, year=YEAR, reason="收入数据需复核"
    )

    assert row.state == SignOff.State.RETURNED
    assert row.reason == "收入数据需复核"
    event = row.events.order_by("-pk").first()
    assert (event.action, event.from_state, event.to_state, event.actor) == (
        "return",
        "submitted",
        "returned",
        cast.township,
    )
    assert AccessLog.objects.filter(target="years.SignOff").count() == before + 1
    # The village submits again.
    assert (
        signoff.signoff_submit(actor=cast.cadre, village=county.village_a, year=YEAR).state
        == SignOff.State.SUBMITTED
    )


def test_roles_and_scope_of_the_actions(cast, county, world):
    with pytest.raises(PermissionDenied):
        signoff.signoff_submit(actor=cast.township, village=county.village_a, year=YEAR)
    with pytest.raises(PermissionDenied):
        signoff.signoff_sign(actor=cast.auditor, region=county.county, year=YEAR)
    with pytest.raises(Http404):
        signoff.signoff_submit(actor=cast.cadre, village=county.village_b, year=YEAR)
    signoff.signoff_submit(actor=cast.cadre2, village=county.village_b, year=YEAR)
    with pytest.raises(Http404):  # another township's village
        signoff.signoff_return(actor=cast.township, region=county.village_b, year=YEAR, reason="x")
    assert signoff.state_of(region=county.village_b, year=YEAR) == SignOff.State.SUBMITTED


def test_the_county_signature_locks_the_year_and_freezes_the_figures(
    cast, county, world, closed_round
):
    row = sign_all(cast, county, world)

    lock = YearLock.objects.get(county=county.county, year=YEAR)
    assert lock.locked_by == cast.county
    assert lock.locked_at is not None
    county_snapshot = (
        RateSnapshot.objects.filter(round=closed_round, region=county.county)
        .order_by("-computed_at")
        .first()
    )
    frozen = next(entry for entry in row.figures if entry["code"] == county.county.code)
    assert frozen["incidence"] == [
        county_snapshot.incidence_numerator,
        county_snapshot.incidence_denominator,
    ]
    assert frozen["round"] == closed_round.pk
    # Later recomputes of the year are refused: the snapshot rows are locked.
    with pytest.raises(yearlock.YearLockedError), transaction.atomic():
        county_snapshot.save()
    with pytest.raises(yearlock.YearLockedError), transaction.atomic():
        county_snapshot.delete()
    assert (
        RateSnapshot.objects.get(pk=county_snapshot.pk).computed_at == county_snapshot.computed_at
    )


def test_only_the_county_office_reopens_with_a_reason_and_signing_again_relocks(
    cast, county, world, closed_round
):
    sign_all(cast, county, world)

    with pytest.raises(PermissionDenied):
        signoff.signoff_reopen(actor=cast.township, county=county.county, year=YEAR, reason="x")
    with pytest.raises(ValidationError) as refused:
        signoff.signoff_reopen(actor=cast.county, county=county.county, year=YEAR, reason="")
    assert list(refused.value.error_dict) == ["reason"]
    assert yearlock.is_locked(county.county, YEAR)

    row = signoff.signoff_reopen(
        actor=cast.county, county=county.county, year=YEAR, reason="省里抽查发现收入录错"
    )
    assert row.state == SignOff.State.REOPENED
    assert not yearlock.is_locked(county.county, YEAR)
    event = row.events.order_by("-pk").first()
    assert (event.action, event.actor, event.reason) == (
        "reopen",
        cast.county,
        "省里抽查发现收入录错",
    )
    assert AccessLog.objects.filter(
        target="years.SignOff", object_id=str(row.pk), detail__action="reopen"
    ).exists()

    page = login(cast.county).get(f"/years/signoff/?year={YEAR}")
    content = page.content.decode()
    assert "省里抽查发现收入录错" in content
    assert "已重新开启" in content
    assert "未封账" in content

    signoff.signoff_sign(actor=cast.county, region=county.county, year=YEAR)
    assert yearlock.is_locked(county.county, YEAR)


def test_a_write_to_the_locked_year_is_refused_on_the_page_with_a_message(
    cast, county, world, closed_round
):
    sign_all(cast, county, world)
    household = world.households[0]
    stored = HouseholdIncome.objects.get(household=household, year=YEAR)
    data = dict.fromkeys(INCOME, "99999") | {"version": stored.version}

    response = login(cast.cadre).post(f"/households/{household.pk}/income/{YEAR}/", data)

    assert response.status_code == 200
    assert f"{YEAR}年度已由县级签署封账，该年度的数据只读。" in response.content.decode()
    stored.refresh_from_db()
    assert stored.wage == INCOME["wage"]
    # The year after is open.
    response = login(cast.cadre).post(
        f"/households/{household.pk}/income/{YEAR + 1}/",
        dict.fromkeys(INCOME, "100") | {"version": ""},
    )
    assert response.status_code == 302
    assert HouseholdIncome.objects.filter(household=household, year=YEAR + 1).exists()


def test_a_write_to_the_locked_year_is_refused_by_the_api_with_a_message(
    cast, county, world, closed_round
):
    sign_all(cast, county, world)
    household = world.households[0]
    visit = {
        "date": f"{YEAR}-12-20",
        "seen": "户主",
        "done": "了解收入",
        "contact_card_given": True,
        "benefit_card_given": True,
    }

    response = login(cast.cadre).post(
        f"/api/v1/assistance/households/{household.pk}/visits/",
        visit,
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            f"{YEAR}年度已由县级签署封账，该年度的数据只读。如需更正，请在下一年度的动态调整中办理；"
            "确需修改本年度数据的，由县扶贫办说明理由重新开启该年度。"
        ]
    }
    assert not household.visits.exists()


def test_the_page_shows_every_level_and_who_signed(cast, county, world, closed_round):
    sign_all(cast, county, world)

    content = login(cast.auditor).get(f"/years/signoff/?year={YEAR}").content.decode()

    for name in ("新州镇", "旧州镇", "凤场村", "龙坪村", "西垭村"):
        assert name in content
    assert content.count("已提交") >= 3
    assert "已封账" in content
    assert "定稿指标" in content


def test_the_page_actions_refuse_read_only_roles_and_show_errors_beside_the_field(
    cast, county, world
):
    assert login(cast.auditor).post(f"/years/signoff/{YEAR}/sign/").status_code == 403
    assert login(cast.helper).post(f"/years/signoff/{YEAR}/submit/").status_code == 403
    response = login(cast.township).post(f"/years/signoff/{YEAR}/sign/", {"explanation": ""})
    assert response.status_code == 400
    assert "还有2个村未提交（凤场村、龙坪村），不能签署。" in response.content.decode()
    response = login(cast.cadre).post(f"/years/signoff/{YEAR}/submit/", {"explanation": ""})
    assert response.status_code == 302
    assert signoff.state_of(region=county.village_a, year=YEAR) == SignOff.State.SUBMITTED


def test_the_api_drives_the_sign_off(cast, county, world, closed_round):
    api = login(cast.cadre)
    response = api.post(
        f"/api/v1/years/signoff/{YEAR}/submit/", {}, content_type="application/json"
    )
    assert response.status_code == 200
    villages = {row["code"]: row["state"] for row in response.json()["villages"]}
    assert villages[county.village_a.code] == "submitted"

    response = login(cast.township).post(
        f"/api/v1/years/signoff/{YEAR}/return/",
        {"region": county.village_a.code, "reason": "请补充说明"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert signoff.state_of(region=county.village_a, year=YEAR) == SignOff.State.RETURNED

    response = login(cast.township).post(
        f"/api/v1/years/signoff/{YEAR}/sign/", {}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == ["还有2个村未提交（凤场村、龙坪村），不能签署。"]

    state = login(cast.county).get(f"/api/v1/years/signoff/{YEAR}/").json()
    assert state["locked"] is False
    assert state["county"]["state"] == "pending"
    assert [row["code"] for row in state["townships"]] == [
        county.township1.code,
        county.township2.code,
    ]
    assert (
        login(cast.auditor)
        .post(
            f"/api/v1/years/signoff/{YEAR}/reopen/",
            {"reason": "x"},
            content_type="application/json",
        )
        .status_code
        == 403
    )


# --- the work desk: what the sign-off waits for at each level (issue 17) ----------------------


def _signoff_desk(user) -> list[tuple[str, str]]:
    from povertyapp import desk

    return [
        (str(item.label), item.note)
        for item in desk.items_for(user)
        if item.url.startswith("/years/signoff/")
    ]


def test_the_desk_shows_each_level_what_the_sign_off_waits_for(
    cast, county, world, closed_round, monkeypatch
):
    monkeypatch.setattr(signoff, "default_year", lambda: YEAR)
    assert _signoff_desk(cast.cadre) == [(f"{YEAR}年度数据待本村提交", "未提交")]
    township = _signoff_desk(cast.township)
    assert township == [
        (f"{YEAR}年度签署：2个下级未完成", f"{county.village_a.name}、{county.village_a2.name}")
    ]
    assert _signoff_desk(cast.county) == [
        (f"{YEAR}年度签署：2个下级未完成", f"{county.township1.name}、{county.township2.name}")
    ]
    assert _signoff_desk(cast.helper) == []

    submit_all(cast, county, world)
    assert _signoff_desk(cast.cadre) == []  # submitted: nothing waits for the village
    assert _signoff_desk(cast.township) == [(f"{YEAR}年度签署：下级已完成，待您签署", "未提交")]
    signoff.signoff_sign(actor=cast.township, region=county.township1, year=YEAR)
    signoff.signoff_sign(actor=world.township2, region=county.township2, year=YEAR)
    assert _signoff_desk(cast.township) == []
    assert _signoff_desk(cast.county) == [(f"{YEAR}年度签署：下级已完成，待您签署", "未提交")]
    signoff.signoff_sign(actor=cast.county, region=county.county, year=YEAR)
    assert _signoff_desk(cast.county) == []  # signed and locked: nothing waits


def test_the_desk_links_to_the_sign_off_page_of_that_year(cast, county, world, monkeypatch):
    monkeypatch.setattr(signoff, "default_year", lambda: YEAR)
    client = login(cast.township)
    page = client.get("/").content.decode()
    assert f'href="/years/signoff/?year={YEAR}"' in page
    assert client.get(f"/years/signoff/?year={YEAR}").status_code == 200


def test_the_page_offers_only_the_actions_the_state_allows(cast, county, world, closed_round):
    """No button the service would refuse for the state alone: a submitted village, a signed
    township or county, a locked year offer no submit or sign; 重新开启 only for a signed year."""

    def page(user) -> str:
        return login(user).get(f"/years/signoff/?year={YEAR}").content.decode()

    reopen = f'action="/years/signoff/{YEAR}/reopen/"'
    sign = f'action="/years/signoff/{YEAR}/sign/"'
    submit = f'action="/years/signoff/{YEAR}/submit/"'
    assert submit in page(cast.cadre)
    assert sign in page(cast.township) and sign in page(cast.county)
    assert reopen not in page(cast.county)  # nothing signed: nothing to reopen

    sign_all(cast, county, world)

    assert submit not in page(cast.cadre) and "当前状态：已提交" in page(cast.cadre)
    assert sign not in page(cast.township)
    county_page = page(cast.county)
    assert sign not in county_page and "当前状态：已签署" in county_page
    assert reopen in county_page
    login(cast.county).post(f"/years/signoff/{YEAR}/reopen/", {"reason": "补录收入"})
    county_page = page(cast.county)
    assert sign in county_page and reopen not in county_page
