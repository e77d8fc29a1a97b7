"""Every department list a monitoring test leaves behind tells one story on both of its pages:
the list page's row counts (`DepartmentList.rows_*`, written by `lists.list_apply` or the demo)
and the department's results page (`inbox.list_counts`, read from the list's clues or tasks;
`identities.list_counts` for a 身份共享 list, read from its identity rows).

The demo's pushes once counted a person listed twice as a clue and a 匹配 row apart from the
duplicate, so the 医保 user read 匹配 2 on one page and 已匹配 3 on the other for the same list
(found 2026-12-07). The check runs after every test of this folder that used the database."""

from __future__ import annotations

import pytest

from tests.conftest import _uses_db


def disagreements(department_list) -> list[str]:
    """How a finished list's row counts disagree with the clues or tasks it made (empty: none)."""
    from monitoring import inbox
    from monitoring.models import Clue, DepartmentList, ScrutinyTask

    item = department_list
    rows = (item.rows_total, item.rows_matched, item.rows_unmatched, item.rows_duplicate)
    found: list[str] = []
    if item.purpose == DepartmentList.Purpose.RISK:
        clues = Clue.objects.filter(source_list=item)
        made = clues.count()
        matched = clues.filter(household__isnull=False).count()
        shown = inbox.list_counts(DepartmentList.objects.filter(pk=item.pk)).get(item.pk)
        expected = (item.rows_duplicate + item.rows_below + made, matched, made - matched)
        if (item.rows_total, item.rows_matched, item.rows_unmatched) != expected:
            found.append(f"{item}: rows {rows}, below {item.rows_below}, clues {made}/{matched}")
        if shown and (shown["total"], shown["matched"], shown["unmatched"]) != (
            made,
            item.rows_matched,
            item.rows_unmatched,
        ):
            found.append(f"{item}: results page {shown}, list page {rows}")
    elif item.purpose == DepartmentList.Purpose.IDENTITY:
        from monitoring import identities
        from monitoring.models import IdentityRow

        lines = IdentityRow.objects.filter(department_list=item)
        made = lines.count()
        matched = lines.filter(identity__member__isnull=False).count()
        shown = identities.list_counts([item]).get(item.pk, {"total": 0, "matched": 0})
        if (item.rows_total, item.rows_matched, item.rows_unmatched) != (
            item.rows_duplicate + made,
            matched,
            made - matched,
        ) or (shown["total"], shown["matched"]) != (made, matched):
            found.append(f"{item}: rows {rows}, identity rows {made}/{matched}, shown {shown}")
    else:
        tasks = ScrutinyTask.objects.filter(source_list=item).count()
        parts = item.rows_matched + item.rows_unmatched + item.rows_duplicate + item.rows_below
        if item.rows_total != parts or item.rows_matched != tasks:
            found.append(f"{item}: rows {rows}, below {item.rows_below}, tasks {tasks}")
    return found


@pytest.fixture(autouse=True)
def _department_lists_agree(request):
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    checked = _uses_db(request) and not transactional and "live_server" not in request.fixturenames
    if checked:
        request.getfixturevalue("db")  # set up first, so torn down after the check
    yield
    if not checked:
        return
    from monitoring.models import DepartmentList

    done = DepartmentList.objects.filter(state=DepartmentList.State.DONE)
    problems = [problem for item in done for problem in disagreements(item)]
    assert not problems, problems
