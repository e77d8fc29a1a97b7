"""Writes to the registry. Views, forms, the API, admin, importers, tasks and commands call these.

Each service validates everything before it writes anything (a ValidationError carries every
problem with a code and a Chinese message), runs in one transaction, records history with the
actor, and writes an event row for every change of status or membership.

The services live in modules by concern; this package re-exports them, so callers write
`from households import services` and `services.household_create(...)` whichever module holds
the function:

- `registry`: households (create, update, change status, the edit page with its members)
- `members`: 自然增减 and 信息更正 of members, moving a person to another household
- `income`: a household's income for a year
- `bulk`: registering many households at once (the workbook import)
- `procedures`: the identification and exit procedures with 公示
- `batches`: one meeting, one 公示, one review for many households
- `problems`: explanations of data-quality problems
- `fields`, `validation`, `common`: what they share (accepted fields, the checks, the plumbing)

Arrows inside the package point one way: `fields` and `common` at the bottom, `validation` on
`fields`; `registry`, `members`, `income` and `bulk` on those; `procedures` on `registry`;
`batches` on `procedures`. The 动态调整 rounds take part through `households.hooks`, never by
import.
"""

from __future__ import annotations

from households.models import ValueList
from households.services.batches import (
    case_batch_add,
    case_batch_complete_step,
    case_batch_create,
    case_batch_members,
    case_batch_record_meeting,
    case_batch_start_notice,
)
from households.services.bulk import households_bulk_register
from households.services.fields import (
    FEMALE_RELATIONS,
    HEAD,
    HOUSEHOLD_FIELDS,
    HOUSEHOLD_LIST_FIELDS,
    INCOME_FIELDS,
    MALE_RELATIONS,
    MEMBER_FIELDS,
    MEMBER_LIST_FIELDS,
    MIN_HEAD_AGE,
    SPOUSE,
)
from households.services.income import income_set
from households.services.members import member_add, member_move, member_remove, member_update
from households.services.problems import problem_explain, problem_review
from households.services.procedures import (
    OLDEST_APPLICATION_DAYS,
    exit_refusals,
    notice_objection_record,
    notice_start,
    step_photos_add,
    workflow_return,
    workflow_start,
    workflow_step_complete,
    workflow_withdraw,
)
from households.services.registry import (
    household_change_status,
    household_create,
    household_update,
    household_update_with_members,
)

# The importer runs the services' own checks over a whole file before it writes anything.
from households.services.validation import _household_errors as _household_errors
from households.services.validation import _member_errors as _member_errors
from households.services.validation import _members_set_errors as _members_set_errors
from povertyapp.conflicts import ConflictError

__all__ = [
    "FEMALE_RELATIONS",
    "HEAD",
    "HOUSEHOLD_FIELDS",
    "HOUSEHOLD_LIST_FIELDS",
    "INCOME_FIELDS",
    "MALE_RELATIONS",
    "MEMBER_FIELDS",
    "MEMBER_LIST_FIELDS",
    "MIN_HEAD_AGE",
    "OLDEST_APPLICATION_DAYS",
    "SPOUSE",
    # Re-exported for callers that imported them from here before they moved.
    "ConflictError",  # povertyapp.conflicts
    "ValueList",  # households.models
    "case_batch_add",
    "case_batch_complete_step",
    "case_batch_create",
    "case_batch_members",
    "case_batch_record_meeting",
    "case_batch_start_notice",
    "exit_refusals",
    "household_change_status",
    "household_create",
    "household_update",
    "household_update_with_members",
    "households_bulk_register",
    "income_set",
    "member_add",
    "member_move",
    "member_remove",
    "member_update",
    "notice_objection_record",
    "notice_start",
    "problem_explain",
    "problem_review",
    "workflow_return",
    "workflow_start",
    "step_photos_add",
    "workflow_step_complete",
    "workflow_withdraw",
]
