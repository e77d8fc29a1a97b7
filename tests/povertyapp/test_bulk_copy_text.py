"""The COPY text of every column of every model, as the compiled row function renders it
(`bulk._row_renderer`), equals the per-value reference (`bulk._copy_text`, after encryption or
blind indexing where the column is protected), for values that need COPY's escapes and values
that do not; and on PostgreSQL such values load and read back unchanged."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone

from povertyapp import bulk, crypto

NOW = datetime.datetime(2026, 12, 5, 10, 30, tzinfo=datetime.UTC)
TEXTS = [
    "",
    "户主",
    "522622195001010014",
    "a\\b",
    "tab\there",
    "line\nbreak",
    "carriage\rreturn",
    "全角\u3000空格",
    "vertical\x0btab",
    "\\N",
]


def _samples(field: models.Field) -> list[Any]:
    """Values of the column's kind, None first."""
    kind = field.get_internal_type()
    if isinstance(field, crypto.BlindIndexField | crypto.EncryptedCharField):
        return [None, *TEXTS[1:]]
    if kind == "BooleanField":
        return [None, True, False]
    if kind == "DateField":
        return [None, datetime.date(2026, 2, 28)]
    if kind == "DateTimeField":
        return [None, NOW]
    if kind == "DecimalField":
        return [None, Decimal("12000.50"), Decimal("0")]
    if kind == "FloatField":
        return [None, 1.5]
    if kind == "JSONField":
        return [None, {"原因": "因病\\致贫", "tab": "a\tb"}, ["x", 1], {}]
    if field.is_relation or kind.endswith(("AutoField", "IntegerField")):
        return [None, 0, 7, 2**40]
    return [None, *TEXTS]


def _expected(field: models.Field, value: Any, rendered: str) -> str:
    if isinstance(field, crypto.BlindIndexField):
        return bulk._copy_text(crypto.blind_index(value) if value else "")
    if isinstance(field, crypto.EncryptedCharField):
        if value is None:
            return "\\N"
        # Encryption is randomised: the rendered text must decrypt to the value.
        assert crypto.decrypt(rendered) == str(value)
        return rendered
    return bulk._copy_text(value)


@pytest.mark.parametrize(
    "model", [m for m in apps.get_models() if not m._meta.proxy], ids=lambda m: m._meta.label
)
def test_every_column_renders_as_the_per_value_reference(model):
    fields = bulk._load_fields(model, True)
    render = bulk._row_renderer(model, now=NOW, with_pk=True)
    samples = {field.attname: _samples(field) for field in fields}
    for turn in range(max(len(values) for values in samples.values())):
        row = {
            bulk._source(field): samples[field.attname][turn % len(samples[field.attname])]
            for field in fields
        }
        line = render(row)
        assert line.endswith("\n")
        rendered = line[:-1].split("\t")
        assert len(rendered) == len(fields)
        for field, text in zip(fields, rendered, strict=True):
            value = row[bulk._source(field)]
            assert text == _expected(field, value, text), (field.attname, value)


def test_a_missing_key_takes_the_default_and_now_for_auto_now_fields():
    from households.models import HouseholdEvent

    render = bulk._row_renderer(HouseholdEvent, now=NOW, with_pk=False)
    fields = bulk._load_fields(HouseholdEvent, False)
    rendered = dict(zip((f.attname for f in fields), render({})[:-1].split("\t"), strict=True))
    assert rendered["created_at"] == NOW.isoformat()
    assert rendered["reason"] == ""  # a text field's default
    assert rendered["data"] == bulk._copy_text(HouseholdEvent._meta.get_field("data").get_default())


def test_texts_that_need_escapes_load_and_read_back_unchanged(household_a):
    """The same load on SQLite (INSERTs) and PostgreSQL (COPY): what is read back is what was
    given, both for the plain column and for the encrypted and blind-indexed one."""
    from households.models import HouseholdEvent, Member

    events = [
        {
            "household_id": household_a.pk,
            "kind": HouseholdEvent.Kind.REGISTERED,
            "effective_date": datetime.date(2026, 12, 5),
            "reason": text,
        }
        for text in TEXTS
    ]
    before = set(HouseholdEvent.objects.values_list("pk", flat=True))
    assert bulk.load_rows(HouseholdEvent, events, now=timezone.now()) == len(TEXTS)
    stored = HouseholdEvent.objects.exclude(pk__in=before)
    assert list(stored.order_by("pk").values_list("reason", flat=True)) == TEXTS
    texts = [text for text in TEXTS if text]
    members = [
        {
            "household_id": household_a.pk,
            "county_id": household_a.county_id,
            "name": f"成员{text}",
            "illness_name": text,
            "id_number": text,
            "is_active": False,
            "left_reason": "迁出",
            "relation": "其他",
            "birth_date": datetime.date(1980, 1, 1),
        }
        for text in texts
    ]
    assert bulk.load_rows(Member, members, now=timezone.now()) == len(texts)
    loaded = Member.objects.filter(name__startswith="成员").order_by("pk")
    assert [(m.name, m.illness_name, m.id_number) for m in loaded] == [
        (f"成员{text}", text, text) for text in texts
    ]
    for text in texts:
        assert Member.objects.with_id_number(text).filter(name=f"成员{text}").exists()
