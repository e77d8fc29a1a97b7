"""Dynamic-adjustment rounds (动态调整): open (freeze the baseline), propose, review, approve,
close.

The county office opens a round for a year; opening freezes the registry as it stood into
`RoundBaseline` (one row per household: status, persons, village, main cause; their sums per
village, status and cause into `RoundBaselineGroup`) and each village's 户籍农业人口 into
`RoundVillage`, all written set-based (INSERT ... SELECT). Villages propose the
四类名单 (新识别纳入, 剔除, 返贫, 标注脱贫) one by one or as a workbook; townships review; the
county approves, which applies the change as an event tagged with the round (through
`household_change_status`, or, for 新识别纳入 and 标注脱贫, through the identification/exit
procedure of `households.workflows`, whose last step records the event in the open round).
Closing locks the round: `household_change_status` refuses a closed round, and the figures read
only the baseline and the round's events (`rounds.figures`).

While a village has changes waiting for the county's decision, its households may not be edited
(`household_edit_check`), so the county decides on the data the township reviewed.

One module per concern; this package hands their public names on, so that callers write
`from rounds import services` and `services.round_open(...)`:

* `rounds.services.rounds`: the rounds a user sees, opening (the baseline freeze), closing, the
  edit lock during the county's decision (`household_edit_check`, `village_under_approval`);
* `rounds.services.changes`: the 四类名单 lines: what each list changes, the lines in scope,
  proposing one, withdrawing it;
* `rounds.services.natural`: 自然增减 and 信息更正 lines;
* `rounds.services.decisions`: the township's review and the county's decision, one and many,
  and applying an approved line to the registry;
* `rounds.services.imports`: the 四类名单 workbook, its template and its import job;
* `rounds.services.lists`: the round's list events and the counts of the 四类名单;
* `rounds.services.checks`: the figures re-derived from the lists, and their differences from
  the stored snapshots.

The modules import each other downwards only (rounds and changes at the bottom, checks and
decisions on top); a helper whose name starts with an underscore is private to this package.
"""

from __future__ import annotations

from rounds.services.changes import (
    HEAD,
    TRANSITIONS,
    WORKFLOW_KINDS,
    Kind,
    State,
    change_get_for_user,
    change_list,
    change_propose,
    change_withdraw,
    removal_grounds,
)
from rounds.services.checks import (
    round_figures_differences,
    round_figures_rederive,
    round_lists_by_village,
)
from rounds.services.decisions import (
    change_decide,
    change_review,
    changes_decide_many,
    changes_review_many,
)
from rounds.services.imports import (
    CHANGES_IMPORT_JOB,
    WORKBOOK_COLUMNS,
    changes_import,
    changes_import_job,
    changes_import_start,
    changes_template,
)
from rounds.services.lists import (
    LIST_VILLAGE,
    list_counts,
    natural_change_counts,
    round_list_events,
    round_list_events_for_user,
)
from rounds.services.natural import (
    CORRECTABLE_FIELDS,
    JOIN,
    LEAVE,
    change_summary,
    correctable_fields,
    correction_propose,
    natural_change_propose,
)
from rounds.services.rounds import (
    baseline_freeze,
    household_edit_check,
    round_close,
    round_close_blocker,
    round_get_for_user,
    round_list,
    round_open,
    round_open_for,
    village_under_approval,
)

__all__ = [
    "CHANGES_IMPORT_JOB",
    "CORRECTABLE_FIELDS",
    "HEAD",
    "JOIN",
    "LEAVE",
    "LIST_VILLAGE",
    "TRANSITIONS",
    "WORKBOOK_COLUMNS",
    "WORKFLOW_KINDS",
    "Kind",
    "State",
    "baseline_freeze",
    "change_decide",
    "change_get_for_user",
    "change_list",
    "change_propose",
    "change_review",
    "change_summary",
    "change_withdraw",
    "changes_decide_many",
    "changes_import",
    "changes_import_job",
    "changes_import_start",
    "changes_review_many",
    "changes_template",
    "correctable_fields",
    "correction_propose",
    "household_edit_check",
    "list_counts",
    "natural_change_counts",
    "natural_change_propose",
    "removal_grounds",
    "round_close",
    "round_close_blocker",
    "round_figures_differences",
    "round_figures_rederive",
    "round_get_for_user",
    "round_list",
    "round_list_events",
    "round_list_events_for_user",
    "round_lists_by_village",
    "round_open",
    "round_open_for",
    "village_under_approval",
]
