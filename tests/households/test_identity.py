"""ID numbers (households.identity): the address code is the code in force at issue, not at
birth."""

from __future__ import annotations

import datetime
import random
from pathlib import Path

import pytest
import stdnum
from django.core.exceptions import ValidationError
from stdnum.cn import ric

from households.identity import check_id_number

TODAY = datetime.date(2026, 12, 3)


def _number(address: str, birth: datetime.date, serial: int = 123) -> str:
    body = f"{address}{birth:%Y%m%d}{serial:03d}"
    return body + ric.calc_check_digit(body + "0")


def _historic_codes() -> dict[str, str]:
    """Every 6-digit code of python-stdnum's historic list, with its county entry (validity
    years in brackets when the code was created or abolished)."""
    codes: dict[str, str] = {}
    province = ""
    for line in (Path(stdnum.__file__).parent / "cn" / "loc.dat").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
        elif "county=" in line:
            code, county = line.split(None, 1)
            codes[province + code] = county
    return codes


@pytest.mark.parametrize(
    ("address", "birth"),
    [
        ("522601", datetime.date(1975, 4, 2)),  # 凯里市 from 1983, the holder born in 凯里县
        ("522601", datetime.date(1950, 1, 1)),
        ("532601", datetime.date(1960, 7, 9)),  # 文山市 from 2010
        ("522621", datetime.date(1990, 3, 3)),  # 凯里县 until 1983 (abolished, still held)
        ("110103", datetime.date(2012, 5, 5)),  # 崇文区 until 2010
        ("522622", datetime.date(1980, 5, 17)),  # 黄平县, never changed
    ],
)
def test_address_code_that_existed_at_any_time_is_accepted(address, birth):
    number = _number(address, birth)
    facts = check_id_number(number, today=TODAY)
    assert (facts.number, facts.birth_date) == (number, birth)


@pytest.mark.parametrize("address", ["522699", "000000", "529999", "990101", "123456"])
def test_address_code_that_never_existed_is_refused(address):
    with pytest.raises(ValidationError) as raised:
        check_id_number(_number(address, datetime.date(1980, 1, 1)), today=TODAY)
    assert raised.value.code == "id_birth_place"
    assert raised.value.messages == ["身份证号码前6位不是有效的行政区划代码。"]


def test_three_thousand_checksum_valid_numbers_of_historic_codes_are_all_accepted():
    """Codes drawn from the whole historic list, birth dates from 1930 to 2020 (many before
    the code was created, many after it was abolished): none is refused."""
    rng = random.Random(13)
    codes = sorted(_historic_codes())
    refused = []
    for _index in range(3000):
        address = rng.choice(codes)
        birth = datetime.date(1930, 1, 1) + datetime.timedelta(days=rng.randrange(33000))
        try:
            check_id_number(_number(address, birth, rng.randrange(1000)), today=TODAY)
        except ValidationError as error:
            refused.append((address, birth, error.code))
    assert refused == []


def test_a_code_created_after_today_is_refused(monkeypatch):
    """A code is valid from its first year: before that year it did not exist yet."""
    number = _number("522601", datetime.date(1975, 4, 2))
    with pytest.raises(ValidationError) as raised:
        check_id_number(number, today=datetime.date(1982, 12, 31))
    assert raised.value.code == "id_birth_place"
