"""ID numbers (GB 11643 居民身份证号码), checked with python-stdnum's `cn.ric`.

The address code (first 6 digits) is accepted when it existed at any time up to today (the code
in force when the number was issued, not at birth: `_address_code_known`). The rule lives here
once: forms, the API, the importer and the services call `check_id_number`,
and the browser repeats the checksum only as a convenience (static/js/id-number.js).
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric

RESIDENT_ID = "居民身份证"


@dataclass(frozen=True)
class IdentityFacts:
    number: str
    birth_date: datetime.date
    sex: str  # "男" or "女"


def upgrade_15_to_18(number: str) -> str:
    """A 15-digit (first-generation) number becomes 18: insert "19" and add the check digit."""
    body = number[:6] + "19" + number[6:]
    return body + ric.calc_check_digit(body + "0")


def normalise_id_number(raw: str) -> str:
    raw = raw or ""
    # Plain ASCII letters and digits are what compact() would return, upper-cased: skip its
    # Unicode clean-up (full-width digits, dashes, spaces), which the importer pays per row.
    number = raw.upper() if raw.isascii() and raw.isalnum() else ric.compact(raw).upper()
    if len(number) == 15 and number.isdigit():
        number = upgrade_15_to_18(number)
    return number


@functools.lru_cache(maxsize=8192)
def _address_code_known(prefix: str, year: int) -> bool:
    """The 6-digit address code (地址码) existed at some time up to `year` (today's year).

    The address code is the code of the place where the number was issued, in force when it was
    issued, not at birth: a person born in 凯里县 in 1975 who got a card after 1983 holds
    凯里市's 522601, a code that did not exist in 1975 (`ric.get_birth_place` checks the birth
    year and refuses such numbers). So a code is accepted when python-stdnum's historic code
    list (`stdnum/cn/loc.dat`, with each code's validity years) has it valid in any year up to
    `year`, abolished since or not; a code that never existed, or exists only from a later
    year, is refused."""
    from stdnum import numdb

    info = {
        key: value
        for _part, props in numdb.get("cn/loc").info(prefix)
        for key, value in props.items()
    }
    for county in (info.get("county") or "").split(","):
        if not county:
            continue
        if not county.startswith("["):
            return True
        start = county[1:].split("]", 1)[0].split("-", 1)[0]
        if not start or int(start) <= year:
            return True
    return False


def check_id_number(raw: str, *, today: datetime.date | None = None) -> IdentityFacts:
    """Validate a resident ID number and return the facts it carries.

    Raises ValidationError with a Chinese message and a code the callers can match.
    """
    number = normalise_id_number(raw)
    if len(number) != 18:
        raise ValidationError(
            _("身份证号码应为18位（15位旧号码会自动升级），当前为%(length)d位。"),
            code="id_length",
            params={"length": len(number)},
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(_("身份证号码只能由数字组成，最后一位可以是X。"), code="id_format")
    try:  # ric.get_birth_date of the (already compact) number
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("身份证号码中的出生日期（第7–14位）不是有效日期。"), code="id_birth_date"
        ) from None
    today = today or timezone.localdate()
    if birth_date > today or birth_date.year < 1890:
        raise ValidationError(_("身份证号码中的出生日期（第7–14位）不合理。"), code="id_birth_date")
    if ric.calc_check_digit(number) != number[17]:
        raise ValidationError(_("身份证号码校验位错误，请核对每一位数字。"), code="id_checksum")
    if not _address_code_known(number[:6], today.year):
        raise ValidationError(_("身份证号码前6位不是有效的行政区划代码。"), code="id_birth_place")
    sex = "男" if int(number[16]) % 2 == 1 else "女"
    return IdentityFacts(number=number, birth_date=birth_date, sex=sex)


def check_agreement(facts: IdentityFacts, *, birth_date: datetime.date | None, sex: str) -> None:
    """The birth date and sex on the record must agree with the ID number."""
    errors: dict[str, list[ValidationError]] = {}
    if birth_date is not None and birth_date != facts.birth_date:
        errors["birth_date"] = [
            ValidationError(
                _("出生日期与身份证号码不一致（身份证为%(date)s）。"),
                code="id_birth_date_mismatch",
                params={"date": facts.birth_date.isoformat()},
            )
        ]
    if sex and sex != facts.sex:
        errors["sex"] = [
            ValidationError(
                _("性别与身份证号码不一致（身份证第17位表示%(sex)s）。"),
                code="id_sex_mismatch",
                params={"sex": facts.sex},
            )
        ]
    if errors:
        raise ValidationError(errors)
