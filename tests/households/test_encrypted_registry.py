"""The registry's personal data encrypted at rest (issue 14, 数据保密性): ID numbers, bank
accounts, illness names and disability certificates, in the tables and their history copies;
exact search and the uniqueness of an active ID through the blind index; key rotation; the
migration forward and back."""

from __future__ import annotations

import base64
import datetime
import importlib
import os
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from households.filters import HouseholdFilter
from households.models import Household, Member
from povertyapp import crypto
from tests import factories

ID_RE = re.compile(r"\d{17}[\dX]")


def _key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def _raw(table: str, *columns: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table}")
        return cursor.fetchall()


def _sick_household(cast, county, **extra) -> Household:
    return factories.household(
        actor=cast.county,
        village=county.village_a,
        bank_account="6228480402564890018",
        members=[
            factories.member_data(
                health="长期慢性病、残疾",
                illness_name="慢性阻塞性肺疾病",
                disability_certificate="52262219800517001142",
                disability_grade="二级",
            )
        ],
        **extra,
    )


def test_raw_columns_hold_no_plain_id_bank_account_or_health_detail(cast, county):
    household = _sick_household(cast, county)
    member = household.members.get()
    # The model reads them back in clear ...
    assert member.illness_name == "慢性阻塞性肺疾病"
    assert household.bank_account == "6228480402564890018"
    assert ID_RE.fullmatch(member.id_number)
    # ... and the database holds ciphertext only, in the tables and their history copies.
    for table in ("households_member", "households_historicalmember"):
        for row in _raw(table, "id_number", "illness_name", "disability_certificate"):
            for value in row:
                assert value.startswith("enc1:aes256gcm:"), value
                assert not ID_RE.search(value) and "肺" not in value
        assert {index for (index,) in _raw(table, "id_number_index")} == {
            crypto.blind_index(member.id_number)
        }
    for table in ("households_household", "households_historicalhousehold"):
        for (value,) in _raw(table, "bank_account"):
            assert value.startswith("enc1:") and "6228480402564890018" not in value
    # `health` (the category the figures count in SQL) stays plain, and empty values stay empty.
    assert _raw("households_member", "health") == [("长期慢性病、残疾",)]
    other = factories.household(actor=cast.county, village=county.village_b)
    assert _raw(f"households_member WHERE household_id = {other.pk}", "illness_name") == [
        ("",),
        ("",),
    ]


def test_the_demo_seeder_writes_encrypted_rows_with_their_blind_index(db, settings, tmp_path):
    from households import demo

    settings.MEDIA_ROOT = tmp_path
    demo.build_registry(households=40, seed=2020)
    rows = _raw("households_member", "id_number", "id_number_index", "illness_name")
    assert len(rows) > 40
    for number, index, illness in rows:
        assert number.startswith("enc1:") and not ID_RE.search(number)
        assert index == crypto.blind_index(number)
        assert illness == "" or illness.startswith("enc1:")
    for table in ("households_household", "households_historicalhousehold"):
        assert all(
            not value or value.startswith("enc1:") for (value,) in _raw(table, "bank_account")
        )
    member = Member.objects.filter(is_active=True).first()
    assert Member.objects.with_id_number(member.id_number).get() == member


def test_sm4_deployments_store_sm4_values(cast, county, settings):
    settings.FIELD_ENCRYPTION_ALGORITHM = "sm4-gcm"
    household = _sick_household(cast, county)
    values = _raw("households_member", "id_number")
    assert values[0][0].startswith("enc1:sm4gcm:")
    settings.FIELD_ENCRYPTION_ALGORITHM = "aes-256-gcm"
    assert household.members.get().illness_name == "慢性阻塞性肺疾病"


def test_blind_index_finds_an_exact_id_number_only(cast, county, household_a, household_b):
    member = household_a.members.filter(is_active=True).first()
    number = member.id_number
    assert list(Member.objects.with_id_number(number)) == [member]
    assert list(Member.objects.with_id_numbers([number, "x"])) == [member]
    assert not Member.objects.with_id_number(number[:-2]).exists()
    assert not Member.objects.with_id_number("").exists()
    # The household search's ID branch: a full ID finds its household (exact only).
    found = HouseholdFilter({"q": number.lower()}, queryset=Household.objects.all()).qs
    assert list(found) == [household_a]
    found = HouseholdFilter({"q": number[:14]}, queryset=Household.objects.all()).qs
    assert household_a not in found


def test_an_active_id_stays_unique_through_the_blind_index(cast, county, household_a, household_b):
    taken = household_a.members.get(relation="户主").id_number
    with pytest.raises(ValidationError) as error:
        factories.household(
            actor=cast.county,
            village=county.village_b,
            members=[factories.member_data(id_number=taken)],
        )
    assert "一人只能是一户的在户成员" in str(error.value)
    # The database refuses it too (the partial unique constraint is on the blind index).
    clone = Member(
        household=household_b,
        name="王五",
        id_number=taken,
        sex="男",
        birth_date=datetime.date(1980, 5, 17),
        relation="之子",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()
    # An inactive member with the same ID is allowed (the person left that household).
    clone.is_active, clone.left_reason = False, "迁出"
    clone.save()
    assert clone.id_number_index == crypto.blind_index(taken)


def test_rotation_reencrypts_and_the_old_key_can_then_go(cast, county, settings, capsys):
    old, new = _key("old"), _key("new")
    settings.FIELD_ENCRYPTION_KEYS = [old]
    household = _sick_household(cast, county)
    number = household.members.get().id_number
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    settings.FIELD_ENCRYPTION_ALGORITHM = "sm4-gcm"
    call_command("rotate_encryption_key", "--chunk", "1")
    out = capsys.readouterr().out
    assert "households_member: 1 rows read, 1 re-encrypted" in out
    assert "Done:" in out
    for table, column in (
        ("households_member", "id_number"),
        ("households_historicalmember", "illness_name"),
        ("households_household", "bank_account"),
        ("households_historicalhousehold", "bank_account"),
    ):
        for (value,) in _raw(table, column):
            assert value.startswith("enc1:sm4gcm:new:"), (table, value)
    # Run again: nothing left to do (resumable).
    counts = crypto.rotate()
    assert sum(count.rewritten for count in counts) == 0
    # The old key removed: everything still reads, and search still works.
    settings.FIELD_ENCRYPTION_KEYS = [new]
    member = Member.objects.with_id_number(number).get()
    assert (member.illness_name, member.household.bank_account) == (
        "慢性阻塞性肺疾病",
        "6228480402564890018",
    )
    assert household.history.first().bank_account == "6228480402564890018"


def test_rotation_with_reindex_follows_a_new_blind_index_key(cast, county, settings):
    household = _sick_household(cast, county)
    number = household.members.get().id_number
    settings.BLIND_INDEX_KEY = "a-new-blind-index-key-of-at-least-32-characters"
    assert not Member.objects.with_id_number(number).exists()
    crypto.rotate(reindex=True)
    assert Member.objects.with_id_number(number).exists()


def test_pending_round_lines_keep_the_id_number_encrypted(cast, county, household_a, settings):
    from povertyapp.models import VillageYear
    from rounds import services as rounds
    from rounds.models import RoundChange

    VillageYear.objects.create(
        village=county.village_a, year=2020, registered_rural_population=500, total_households=120
    )
    for village in (county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=500, total_households=120
        )
    round_ = rounds.round_open(actor=cast.county, county=county.county, year=2020)
    baby = factories.id_number(datetime.date(2020, 3, 1), "男")
    values = {
        "number": household_a.number,
        "action": rounds.JOIN,
        "reason": "出生",
        "effective_date": "2020-03-01",
        "data": {"name": "张小明", "id_number": baby, "relation": "之子"},
    }
    change = rounds.natural_change_propose(actor=cast.cadre, round=round_, **values)
    stored = RoundChange.objects.values_list("details", flat=True).get(pk=change.pk)
    assert baby not in str(stored)
    assert crypto.decrypt(stored["member"]["id_number"]) == baby
    # The same person proposed twice is still refused (through the blind index).
    with pytest.raises(ValidationError, match="该身份证号码的增员已在本批次待审核"):
        rounds.natural_change_propose(actor=cast.cadre, round=round_, **values)
    # Approved, the member is written with the plain number (encrypted by the field).
    rounds.change_review(actor=cast.township, change=change, approve=True, opinion="属实")
    rounds.change_decide(actor=cast.county, change=change, approve=True)
    assert household_a.members.get(name="张小明").id_number == baby
    assert baby in rounds.change_summary(RoundChange.objects.get(pk=change.pk), cast.county)
    # The key rotation re-encrypts the numbers kept in the lines' details too.
    settings.FIELD_ENCRYPTION_KEYS = [_key("new")]
    crypto.rotate()
    stored = RoundChange.objects.values_list("details", flat=True).get(pk=change.pk)
    assert crypto.key_id_of(stored["member"]["id_number"]) == "new"
    assert crypto.decrypt(stored["member"]["id_number"]) == baby


MIGRATION = ("households", "0015_encrypted_personal_data")
BEFORE = ("households", "0014_rounds_move_to_their_app")


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows_and_decrypts_them_back(cast, county):
    household = _sick_household(cast, county)
    member = household.members.get()
    plain = member.id_number
    module = importlib.import_module("households.migrations.0015_encrypted_personal_data")
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([BEFORE])
        # Backwards: plain text again, in the tables and the history copies.
        assert _raw("households_member", "id_number", "illness_name") == [
            (plain, "慢性阻塞性肺疾病")
        ]
        assert _raw("households_historicalhousehold", "bank_account") == [("6228480402564890018",)]
        # Forwards, in small chunks: encrypted, with the blind index filled.
        module.CHUNK = 1
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([MIGRATION])
    finally:
        module.CHUNK = 2000
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    ((stored, index),) = _raw("households_member", "id_number", "id_number_index")
    assert stored.startswith("enc1:") and plain not in stored
    assert index == crypto.blind_index(plain)
    assert Member.objects.with_id_number(plain).get().illness_name == "慢性阻塞性肺疾病"
    (bank,) = _raw("households_household", "bank_account")[0]
    assert bank.startswith("enc1:")
