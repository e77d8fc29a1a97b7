"""Sensitive personal information (PIPL) is masked for roles without the right, everywhere."""

from __future__ import annotations

import logging

import pytest

from povertyapp.models import AccessLog
from povertyapp.privacy import MaskSensitiveFilter, mask, mask_text
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_mask_keeps_first_three_and_last_four():
    assert mask("11010119900307123X") == "110***********123X"
    assert mask("6212345678901234567") == "621************4567"
    assert mask("") == ""


def test_log_lines_never_carry_an_unmasked_id():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "member %s saved", ("52262219800517123X",), None
    )
    MaskSensitiveFilter().filter(record)
    assert record.getMessage() == "member 522***********123X saved"
    assert mask_text("户 1 账号 6212345678901234567") == "户 1 账号 621************4567"


def _head(household):
    return household.members.get(relation="户主")


def test_auditor_sees_masked_id_and_account_in_api(cast, household_a):
    household_a.bank_account = "6212345678901234567"
    household_a.save(update_fields=["bank_account"])
    head = _head(household_a)
    data = login(cast.auditor).get(f"/api/v1/households/{household_a.pk}/").json()
    assert data["bank_account"] == "621************4567"
    member = next(m for m in data["members"] if m["name"] == head.name)
    assert member["id_number"] == mask(head.id_number)
    assert head.id_number not in str(data)


def test_auditor_sees_health_masked(cast, household_a):
    head = _head(household_a)
    head.health = "患有大病"
    head.illness_name = "恶性肿瘤"
    head.save()
    data = login(cast.auditor).get(f"/api/v1/members/{head.pk}/").json()
    assert (data["health"], data["illness_name"]) == ("***", "***")


def test_cadre_sees_full_id_and_the_view_is_logged(cast, household_a):
    head = _head(household_a)
    data = login(cast.cadre).get(f"/api/v1/households/{household_a.pk}/").json()
    member = next(m for m in data["members"] if m["name"] == head.name)
    assert member["id_number"] == head.id_number
    log = AccessLog.objects.get(action="view_sensitive")
    assert (log.user, log.action, log.target, log.object_id) == (
        cast.cadre,
        "view_sensitive",
        "household",
        str(household_a.pk),
    )


def test_household_page_masks_for_helper_and_auditor(cast, household_a):
    head = _head(household_a)
    for user in (cast.helper, cast.auditor):
        content = login(user).get(f"/households/{household_a.pk}/?tab=members").content.decode()
        assert mask(head.id_number) in content
        assert head.id_number not in content


def test_household_page_shows_full_id_to_cadre(cast, household_a):
    head = _head(household_a)
    content = login(cast.cadre).get(f"/households/{household_a.pk}/?tab=members").content.decode()
    assert head.id_number in content


def test_list_page_shows_ids_masked_even_to_cadre(cast, household_a):
    head = _head(household_a)
    content = login(cast.cadre).get("/households/").content.decode()
    assert mask(head.id_number) in content
    assert head.id_number not in content


def test_full_id_search_finds_the_household(cast, household_a):
    head = _head(household_a)
    content = (
        login(cast.cadre)
        .post("/households/", {"search_terms": "q", "q": head.id_number}, follow=True)
        .content.decode()
    )
    assert household_a.number in content


def test_change_history_masks_id_changes_for_auditor(cast, household_a):
    from households import services
    from tests import factories

    head = _head(household_a)
    old = head.id_number
    new = factories.id_number(head.birth_date, head.sex)
    services.member_update(
        actor=cast.cadre, member=head, data={"id_number": new}, expected_version=head.version
    )
    content = login(cast.auditor).get(f"/households/{household_a.pk}/?tab=history").content.decode()
    assert mask(new) in content and mask(old) in content
    assert new not in content and old not in content


def test_admin_inline_shows_full_id_to_county_office(cast, household_a):
    head = _head(household_a)
    content = (
        login(cast.county)
        .get(f"/admin/households/household/{household_a.pk}/change/")
        .content.decode()
    )
    assert head.id_number in content


def test_admin_shows_members_inline(cast, household_a):
    content = (
        login(cast.county)
        .get(f"/admin/households/household/{household_a.pk}/change/")
        .content.decode()
    )
    assert "张三" in content and "李四" in content
