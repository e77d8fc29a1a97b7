"""The columns the household import reads, matched by their Chinese header text: the columns of the
export's two sheets (`households.exports`) that are not derived, plus 增员原因, which exists only on
import; the headers that identify each sheet (its signature) and the columns a sheet must have.
The blank template offers the same columns."""

from __future__ import annotations

from households.exports import HOUSEHOLD_COLUMNS, HOUSEHOLD_DERIVED, MEMBER_COLUMNS, MEMBER_DERIVED
from households.models import Household, ValueList
from povertyapp.ledgers.layout import Column

STATUS_BY_LABEL = {str(label): value for value, label in Household.Status.choices}
# Exported for reading only: derived figures and the post-exit policy (set by the exit workflow).
HOUSEHOLD_NOT_IMPORTED = HOUSEHOLD_DERIVED - {"township_name"} | {"exit_policy"}
HOUSEHOLD_IMPORTED = [c for c in HOUSEHOLD_COLUMNS if c.key not in HOUSEHOLD_NOT_IMPORTED]
# 增员原因 exists only on import: a member added to a registered household by the file is a
# 自然增减·增员 and takes its reason from the value list, as the household form does.
JOIN_REASON_COLUMN = Column("join_reason", "增员原因", value_list=ValueList.JOIN_REASON)
MEMBER_IMPORTED = [c for c in MEMBER_COLUMNS if c.key not in MEMBER_DERIVED] + [JOIN_REASON_COLUMN]
HOUSEHOLD_SIGNATURE = {"户编号", "行政村", "户状态"}
MEMBER_SIGNATURE = {"户编号", "姓名", "与户主关系"}
HOUSEHOLD_REQUIRED = ("number", "village_name", "status")
MEMBER_REQUIRED = ("household_number", "name", "relation", "id_number")
