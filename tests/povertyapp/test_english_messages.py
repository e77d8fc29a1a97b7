"""Stored messages the code wrote are shown in the reader's language (issue 17).

A problem-data message is written by the nightly check in Chinese (the job's language) and kept
with its msgid and parameters (`DataProblem.message_source`); the problem list shows it through
the catalog. A message the code composed of several, or a row stored before the source was kept,
is shown as stored.
"""

from __future__ import annotations

from django.utils import translation

from households import quality
from households.models import DataProblem


def test_a_rule_message_keeps_its_msgid_and_parameters_beside_its_chinese_text():
    with translation.override("zh-hans"):
        message = quality._("%(field)s未填写") % {"field": quality.MEMBER_REQUIRED[0].label}
    assert str(message) == "民族未填写"
    assert quality.message_source(message) == {
        "msgid": "%(field)s未填写",
        "params": {"field": "民族"},
    }
    assert quality.message_source("；".join([message, message])) == {}


def test_the_problem_list_shows_a_stored_message_in_the_readers_language():
    with translation.override("zh-hans"):
        required = quality._("%(field)s未填写") % {"field": quality.MEMBER_REQUIRED[0].label}
        constant = quality._("该户没有户主")
    problems = [
        DataProblem(message=str(message), message_source=quality.message_source(message))
        for message in (required, constant)
    ]
    with translation.override("en"):
        assert [problem.message_shown for problem in problems] == [
            "Ethnicity not entered",
            "The household has no head",
        ]
    with translation.override("zh-hans"):
        assert [problem.message_shown for problem in problems] == ["民族未填写", "该户没有户主"]


def test_a_message_without_its_source_or_with_a_source_out_of_step_is_shown_as_stored():
    old = DataProblem(message="旧的说明", message_source={})
    broken = DataProblem(
        message="民族未填写", message_source={"msgid": "%(field)s未填写", "params": {}}
    )
    with translation.override("en"):
        assert (old.message_shown, broken.message_shown) == ("旧的说明", "民族未填写")
