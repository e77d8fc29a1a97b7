"""The inbox of 风险线索 (issue 15): who sees which clues, their clocks, and the village's work
on them — 入户核实, 不纳入 with its reason, and closing a "register this household" task
(待登记) once the household is in the registry.

Every clue addressed from a URL comes through `clue_get_for_user` (404 outside the user's
scope, 403 for a role that only reads); every list starts from `clues_for_user`. The services
validate everything before writing, lock the clue and check its `version` (保存冲突).

Scopes:
- case roles: the clues whose owning region (`Clue.region`: the village, or the county for an
  unmatched department row) lies in the user's region; a helper those of the households paired
  with them;
- a department account: the clues its own department sent (`Clue.department`), and only their
  result fields (`department_results`).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from households import services as household_services
from households.identity import check_id_number, normalise_id_number
from households.models import Household
from households.selectors import household_get_for_user
from households.services import common
from households.workflows import working_days_left
from monitoring import clues as clue_door
from monitoring import identities
from monitoring.models import Clue, CluePhoto, DepartmentList
from monitoring.rules import rules_for
from povertyapp import audit, roles, uploads
from povertyapp.conflicts import ConflictError
from povertyapp.models import AccessLog, CalendarDay, Region, User
from povertyapp.photos import ProcessedPhoto, photos_store
from povertyapp.privacy import mask

Role = User.Role
# Who works the inbox (入户核实, 不纳入, 登记): the village cadre and the county office. The
# township reviews; the auditor reads.
INBOX_WRITE_ROLES = frozenset({Role.VILLAGE_CADRE, Role.COUNTY_OFFICER})
# The states still waiting for 入户核实 (the first clock).
AWAITING_VISIT = (Clue.State.PENDING, Clue.State.UNREGISTERED)


def can_read_inbox(user: User) -> bool:
    """The inbox: every case role (a helper sees the clues of the households paired with them)."""
    return roles.has_case_access(user)


def can_work_inbox(user: User) -> bool:
    return (
        roles.has_case_access(user) and user.role in INBOX_WRITE_ROLES and user.region is not None
    )


# --- scope ----------------------------------------------------------------------------------


def clues_for_user(user: User) -> QuerySet[Clue]:
    """The clues `user` may see (none for a role outside the inbox)."""
    queryset = Clue.objects.select_related("region", "region__parent", "household")
    if roles.is_department(user):
        if not user.department:
            return queryset.none()
        scoped = queryset.filter(department=user.department)
        if user.region is not None:
            scoped = scoped.filter(region__path__startswith=user.region.path)
        return scoped
    if not can_read_inbox(user):
        return queryset.none()
    if user.role == Role.HELPER:
        return queryset.filter(roles.household_scope_q(user))
    if user.region is None:
        return queryset.none()
    return queryset.filter(region__path__startswith=user.region.path)


def clue_get_for_user(*, user: User, clue_id: int, for_write: bool = False) -> Clue:
    """The one access path to a clue of the inbox: 404 outside the scope, 403 for a role that
    may not work it. Department accounts read results only (`department_results`)."""
    if roles.is_department(user) or not can_read_inbox(user):
        raise PermissionDenied(_("您的账号不处理风险线索。"))
    try:
        clue = clues_for_user(user).select_related("member", "source_list").get(pk=clue_id)
    except (Clue.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该线索，或您无权查看。")) from None
    if for_write and not can_work_inbox(user):
        raise PermissionDenied(_("您的角色只能查看，不能处理风险线索。"))
    return clue


def lists_for_department(user: User) -> QuerySet[DepartmentList]:
    """The risk lists a department account pushed (its department's), newest first."""
    if not roles.is_department(user) or not user.department:
        return DepartmentList.objects.none()
    queryset = DepartmentList.objects.filter(department=user.department)
    if user.region is not None:
        queryset = queryset.filter(county__path__startswith=user.region.path)
    return queryset


def department_list_get(*, user: User, list_id: int) -> DepartmentList:
    """A list's results: its own department's account (or the county office of its county)."""
    if roles.is_department(user):
        queryset = lists_for_department(user)
    elif roles.can_configure(user) and user.region is not None:
        queryset = DepartmentList.objects.filter(county__path__startswith=user.region.path)
    else:
        raise PermissionDenied(_("只有推送名单的部门和县级扶贫部门可以查看名单处理结果。"))
    try:
        return queryset.get(pk=list_id)
    except (DepartmentList.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该名单，或您无权查看。")) from None


# --- clocks ---------------------------------------------------------------------------------


def overdue_q(today: datetime.date) -> Q:
    """Clues late on either clock: not visited by the 入户核实 due date, or not decided by the
    identification due date."""
    return Q(state__in=AWAITING_VISIT, verify_due__lt=today) | Q(
        state__in=Clue.OPEN_STATES, decide_due__lt=today
    )


def overdue_class(user: User) -> str:
    """How a late clue is shown: orange for the township (and the village that must act), red
    for the county (CSS classes of static/css/app.css)."""
    if user.region is not None and user.region.level in (
        Region.Level.COUNTY,
        Region.Level.CITY,
        Region.Level.PROVINCE,
    ):
        return "bad"
    return "warn"


@dataclass
class ClueClock:
    clue: Clue
    verify_left: int | None  # working days to 入户核实 due (negative: late); None when done
    decide_left: int | None  # working days to 识别 due; None when decided
    verify_late: bool
    decide_late: bool
    id_masked: str = ""

    @property
    def late(self) -> bool:
        return self.verify_late or self.decide_late

    @property
    def verify_days_late(self) -> int:
        return -self.verify_left if self.verify_left is not None else 0

    @property
    def decide_days_late(self) -> int:
        return -self.decide_left if self.decide_left is not None else 0


def clocks(clue_list: list[Clue], today: datetime.date) -> list[ClueClock]:
    """Each clue's clocks, reading the holiday calendar once for the whole list."""
    if not clue_list:
        return []
    dates = [today]
    for clue in clue_list:
        dates += [clue.verify_due, clue.decide_due]
    exceptions = dict(
        CalendarDay.objects.filter(date__gte=min(dates), date__lte=max(dates)).values_list(
            "date", "kind"
        )
    )
    rows = []
    for clue in clue_list:
        awaiting = clue.state in AWAITING_VISIT
        open_ = clue.state in Clue.OPEN_STATES
        rows.append(
            ClueClock(
                clue=clue,
                verify_left=(
                    working_days_left(today, clue.verify_due, exceptions) if awaiting else None
                ),
                decide_left=(
                    working_days_left(today, clue.decide_due, exceptions) if open_ else None
                ),
                verify_late=awaiting and clue.verify_due < today,
                decide_late=open_ and clue.decide_due < today,
                id_masked=mask(clue.id_number),
            )
        )
    return rows


# --- the village's work ---------------------------------------------------------------------


def _lock(clue: Clue, expected_version: int | None) -> Clue:
    locked = Clue.objects.select_for_update().get(pk=clue.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            [{"field": "", "label": _("风险线索"), "old": "", "new": "", "who": _("他人")}]
        )
    return locked


def _require_worker(actor: User, clue: Clue) -> None:
    if not can_work_inbox(actor) or actor.region is None:
        raise PermissionDenied(_("您的角色只能查看，不能处理风险线索。"))
    if not clue.region.path.startswith(actor.region.path):
        raise PermissionDenied(_("该线索不属于您负责的区域。"))


def _refuse(field: str | None, message: str, code: str) -> ValidationError:
    if field is None:
        return ValidationError(message, code=code)
    return ValidationError({field: [ValidationError(message, code=code)]})


@transaction.atomic
def clue_verify(
    *,
    actor: User,
    clue: Clue,
    verified_on: datetime.date,
    note: str,
    expected_version: int | None,
    consent: Any = None,
    consent_signed_on: datetime.date | None = None,
    photos: Sequence[ProcessedPhoto] = (),
) -> Clue:
    """Record the 入户核实 of a clue waiting for it (待核实): the date (not before the clue
    was accepted, not in the future), what was found, and the 承诺授权 the household signs at
    the visit — a scan (jpg, png or pdf, through the upload door) with its date, uploaded now
    or already on file — and the field photos taken there (`photos`, checked). Refused with
    every missing or wrong field named, before anything is written; the verifier is the acting
    cadre."""
    locked = _lock(clue, expected_version)
    _require_worker(actor, locked)
    if locked.state != Clue.State.PENDING:
        raise _refuse(
            None,
            _("该线索当前状态为“%(state)s”，不能录入入户核实。")
            % {"state": locked.get_state_display()},
            "state",
        )
    today = common.today()
    errors: dict[str, list[ValidationError]] = {}
    if verified_on < locked.accepted_on:
        errors["verified_on"] = [
            ValidationError(
                _("入户核实日期不能早于线索受理日期（%(date)s）。") % {"date": locked.accepted_on},
                code="before_acceptance",
            )
        ]
    elif verified_on > today:
        errors["verified_on"] = [ValidationError(_("入户核实日期不能晚于今天。"), code="future")]
    note = note.strip()
    if not note:
        errors["note"] = [ValidationError(_("请填写核实情况。"), code="required")]
    if consent:
        try:
            uploads.check_evidence(consent, accept=uploads.IMAGES_AND_PDF)
        except ValidationError as error:
            errors["consent"] = error.error_list
    elif not locked.consent:
        errors["consent"] = [
            ValidationError(
                _(
                    "入户核实须有农户签字的承诺授权书：该线索尚未上传承诺授权书扫描件，"
                    "请拍照或扫描后上传（jpg、png或pdf）。"
                ),
                code="consent_missing",
            )
        ]
    signed_on = consent_signed_on
    if signed_on is None and not consent:
        signed_on = locked.consent_signed_on
    if signed_on is None:
        errors["consent_signed_on"] = [
            ValidationError(_("请填写承诺授权签署日期。"), code="required")
        ]
    elif signed_on > today:
        errors["consent_signed_on"] = [
            ValidationError(_("承诺授权签署日期不能晚于今天。"), code="future")
        ]
    if errors:
        raise ValidationError(errors)
    assert signed_on is not None  # else refused above
    fields = ["verified_on", "verified_by", "verification_note", "state", "version"]
    if consent:
        locked.consent = consent
        fields.append("consent")
    if signed_on != locked.consent_signed_on:
        locked.consent_signed_on = signed_on
        fields.append("consent_signed_on")
    locked.verified_on = verified_on
    locked.verified_by = actor
    locked.verification_note = note
    locked.state = Clue.State.VERIFIED
    locked.version += 1
    locked.full_clean(exclude=["id_number_index"])
    locked.save(update_fields=fields)
    if photos:
        clue_photos_add(actor=actor, clue=locked, photos=photos)
    audit.record(
        AccessLog.Action.APPROVAL,
        user=actor,
        target="monitoring.Clue",
        object_id=locked.pk,
        reason=str(_("入户核实")),
        detail={
            "decision": Clue.State.VERIFIED,
            "verified_on": verified_on.isoformat(),
            "consent_uploaded": bool(consent),
            "consent_signed_on": signed_on.isoformat(),
            "photos": len(photos),
        },
    )
    return locked


@transaction.atomic
def clue_photos_add(*, actor: User, clue: Clue, photos: Sequence[ProcessedPhoto]) -> list[Any]:
    """Attach field photos to a clue's 入户核实 (at most PHOTO_MAX_PER_OWNER in all; a photo
    key stored before is stored once: a retried offline upload)."""
    existing = CluePhoto.objects.filter(clue=clue).count()
    return photos_store(
        CluePhoto,
        actor=actor,
        photos=photos,
        label=str(_("入户核实照片")),
        existing=existing,
        clue=clue,
    )


def clue_photos(clue: Clue) -> list[CluePhoto]:
    """The photos of a clue's 入户核实, in the order taken."""
    return list(CluePhoto.objects.filter(clue=clue).order_by("taken_at", "id"))


def household_clue_photos(household: Household) -> list[CluePhoto]:
    """The photos of the 入户核实 of the household's clues (the household page's 照片)."""
    return list(
        CluePhoto.objects.filter(clue__household=household)
        .select_related("clue")
        .order_by("-clue__verified_on", "-clue_id", "taken_at", "id")
    )


def clue_photo_get_for_user(*, user: User, photo_id: int) -> CluePhoto:
    """A photo of a clue's 入户核实 through the inbox's access path (the file door's
    `clue_photo`): 404 outside it, and for a role outside the inbox."""
    if roles.is_department(user) or not can_read_inbox(user):
        raise Http404(_("未找到该照片，或您无权查看。"))
    visible = clues_for_user(user).values("pk")
    photo = CluePhoto.objects.filter(pk=photo_id, clue__in=visible).select_related("clue").first()
    if photo is None:
        raise Http404(_("未找到该照片，或您无权查看。"))
    return photo


@transaction.atomic
def clue_not_include(*, actor: User, clue: Clue, reason: str, expected_version: int | None) -> Clue:
    """不纳入 after 入户核实, with the reason the sending department will read: closes the
    clue (`decided_on`, `decided_by`)."""
    locked = _lock(clue, expected_version)
    _require_worker(actor, locked)
    if locked.state != Clue.State.VERIFIED:
        raise _refuse(
            None,
            _("只有已入户核实的线索才能作出不纳入的决定（当前状态：%(state)s）。")
            % {"state": locked.get_state_display()},
            "state",
        )
    reason = reason.strip()
    if not reason:
        raise _refuse("reason", _("请填写不纳入的原因。"), "required")
    if len(reason) > 500:
        raise _refuse("reason", _("不纳入的原因不能超过500字。"), "max_length")
    locked.state = Clue.State.NOT_INCLUDED
    locked.result_reason = reason
    locked.decided_on = common.today()
    locked.decided_by = actor
    locked.version += 1
    locked.save(update_fields=["state", "result_reason", "decided_on", "decided_by", "version"])
    audit.record(
        AccessLog.Action.APPROVAL,
        user=actor,
        target="monitoring.Clue",
        object_id=locked.pk,
        detail={"decision": Clue.State.NOT_INCLUDED},
    )
    return locked


@transaction.atomic
def clue_attach(
    *, actor: User, clue: Clue, household: Household, expected_version: int | None
) -> Clue:
    """Close a "register this household" task (待登记): the cadre picks the newly registered
    household; the clue is matched again by its ID number, which must be held by a member of
    that household. The clue becomes the village's 待核实 task (its 入户核实 clock starting
    today), or a duplicate when the household already has an open clue or is a current
    monitoring object."""
    locked = _lock(clue, expected_version)
    _require_worker(actor, locked)
    if locked.state != Clue.State.UNREGISTERED:
        raise _refuse(
            None,
            _("该线索不是待登记任务（当前状态：%(state)s）。")
            % {"state": locked.get_state_display()},
            "state",
        )
    if not roles.household_scope(actor, Household.objects.filter(pk=household.pk)).exists():
        raise _refuse("household", _("所选农户不在您负责的区域。"), "scope")
    found = clue_door.match(locked.id_number)
    if found.household is None or found.household.pk != household.pk:
        raise _refuse(
            "household",
            _("所选农户%(number)s中没有持该线索身份证号的成员，请先登记该成员。")
            % {"number": household.number},
            "no_member",
        )
    today = common.today()
    rules = rules_for(household.village)
    locked.household = household
    locked.member = found.member
    locked.region = household.village
    locked.accepted_on = today
    locked.verify_due = clue_door.verify_due(today, rules)
    locked.state = Clue.State.PENDING
    if found.duplicate_of is not None and found.duplicate_of.pk != locked.pk:
        locked.state = Clue.State.DUPLICATE
        locked.duplicate_of = found.duplicate_of
        locked.result_reason = _("已有未办结线索")
        locked.decided_on = today
    elif found.current_object is not None:
        locked.state = Clue.State.DUPLICATE
        locked.monitoring_object = found.current_object
        locked.result_reason = _("该户已是监测对象")
        locked.decided_on = today
    locked.version += 1
    locked.full_clean(exclude=["id_number_index"])
    locked.save()
    return locked


@transaction.atomic
def clue_register_household(
    *,
    actor: User,
    clue: Clue,
    data: dict[str, Any],
    members: list[dict[str, Any]],
    expected_version: int | None,
) -> Clue:
    """登记新户 for a 待登记 clue: register the household through the registry's own service
    (its rules and scope) and attach the clue to it (`clue_attach`), in one transaction, so
    either both happen or nothing is written. Checked first: the clue is still 待登记 and
    unchanged since the form was opened (`version`), and one of the members holds the clue's
    ID number (else the clue could not be attached)."""
    locked = _lock(clue, expected_version)
    _require_worker(actor, locked)
    if locked.state != Clue.State.UNREGISTERED:
        raise _refuse(
            None,
            _("该线索不是待登记任务（当前状态：%(state)s）。")
            % {"state": locked.get_state_display()},
            "state",
        )
    wanted = normalise_id_number(locked.id_number)
    if not any(normalise_id_number(str(row.get("id_number") or "")) == wanted for row in members):
        raise _refuse(
            "members",
            _("家庭成员中须有持该线索身份证号（%(number)s）的%(name)s，否则线索无法关联到新户。")
            % {"number": mask(locked.id_number), "name": locked.name},
            "no_member",
        )
    household = household_services.household_create(actor=actor, data=data, members=members)
    return clue_attach(
        actor=actor, clue=locked, household=household, expected_version=locked.version
    )


def register_prefill(*, user: User, clue: Clue) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the registration form of a 待登记 clue starts with: the household's village (the
    clue's, when it is a village the user may register in) and phone; its head's name and ID
    number (decrypted here, server-side: never in a URL) with the birth date and sex the
    number gives."""
    household: dict[str, Any] = {"phone": clue.phone}
    region = clue.region
    if region.level == Region.Level.VILLAGE and roles.region_in_scope(user, region):
        household["village"] = region.pk
    head: dict[str, Any] = {"name": clue.name, "id_number": clue.id_number}
    try:
        facts = check_id_number(clue.id_number, today=common.today())
    except ValidationError:
        pass  # the cadre sees the number and corrects it on the form
    else:
        head.update(id_number=facts.number, birth_date=facts.birth_date, sex=facts.sex)
    return household, head


def attach_candidates(*, user: User, clue: Clue) -> QuerySet[Household]:
    """The households the cadre may attach a 待登记 clue to: those in scope whose member holds
    the clue's ID number (normally the one just registered)."""
    from households.models import Member

    holders = Member.objects.with_id_number(clue.id_number).values("household_id")
    return roles.household_scope(user, Household.objects.filter(pk__in=holders)).select_related(
        "village"
    )


def household_for_attach(*, user: User, household_id: int) -> Household:
    return household_get_for_user(user=user, household_id=household_id, for_write=True)


# --- what a department reads ----------------------------------------------------------------

RESULT_INCLUDED = "included"
RESULT_NOT_INCLUDED = "not_included"
RESULT_PENDING = "pending"


def result_of(clue: Clue) -> str:
    """The answer the sending department gets: 纳入监测 / 不纳入 / 处理中. A duplicate answers
    with the clue it repeats (its household's current object: 纳入监测)."""
    if clue.state == Clue.State.INCLUDED:
        return RESULT_INCLUDED
    if clue.state == Clue.State.NOT_INCLUDED:
        return RESULT_NOT_INCLUDED
    if clue.state == Clue.State.DUPLICATE:
        if clue.monitoring_object_id is not None:
            return RESULT_INCLUDED
        if clue.duplicate_of is not None:
            return result_of(clue.duplicate_of)
    return RESULT_PENDING


def result_label(result: str) -> str:
    return {
        RESULT_INCLUDED: _("纳入监测"),
        RESULT_NOT_INCLUDED: _("不纳入"),
        RESULT_PENDING: _("处理中"),
    }[result]


def match_label(clue: Clue) -> str:
    """匹配结果 of a department row."""
    if clue.state == Clue.State.DUPLICATE:
        return _("重复线索")
    if clue.household_id is None:
        return _("未匹配（待登记）")
    return _("已匹配")


def result_date(clue: Clue) -> datetime.date | None:
    if clue.duplicate_of is not None:
        return clue.duplicate_of.decided_on
    return clue.decided_on


def list_counts(lists: QuerySet[DepartmentList]) -> dict[int, dict[str, int]]:
    """Per list: its clues matched, unmatched, duplicate, 纳入监测, 不纳入 and pending."""
    rows = (
        Clue.objects.filter(source_list__in=lists)
        .values("source_list")
        .annotate(
            total=Count("id"),
            unmatched=Count("id", filter=Q(household__isnull=True)),
            duplicate=Count("id", filter=Q(state=Clue.State.DUPLICATE)),
            included=Count(
                "id",
                filter=Q(state=Clue.State.INCLUDED)
                | Q(state=Clue.State.DUPLICATE, monitoring_object__isnull=False),
            ),
            not_included=Count("id", filter=Q(state=Clue.State.NOT_INCLUDED)),
        )
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts[row["source_list"]] = {
            "total": row["total"],
            "matched": row["total"] - row["unmatched"],
            "unmatched": row["unmatched"],
            "duplicate": row["duplicate"],
            "included": row["included"],
            "not_included": row["not_included"],
            "pending": row["total"] - row["included"] - row["not_included"],
        }
    return counts


def department_results(source_list: DepartmentList) -> list[dict[str, Any]]:
    """The rows of a list's result, in the list's row order: the row number, name, ID number
    (raw: callers mask it), 匹配结果, 处理结果, reason and date, the village name and the
    department's own columns as sent. Nothing else of the household. A 身份共享 list's rows
    are its identities (`monitoring.identities.list_results`)."""
    if source_list.purpose == DepartmentList.Purpose.IDENTITY:
        return identities.list_results(source_list)
    rows = []
    queryset = (
        Clue.objects.filter(source_list=source_list)
        .select_related("region", "duplicate_of")
        .order_by("source_row", "id")
    )
    for clue in queryset:
        result = result_of(clue)
        reason = clue.result_reason
        if clue.state == Clue.State.DUPLICATE and clue.duplicate_of is not None:
            reason = clue.duplicate_of.result_reason or reason
        rows.append(
            {
                "clue": clue.pk,
                "row": clue.source_row,
                "name": clue.name,
                "id_number": clue.id_number,
                "village": clue.region.name,
                "match": match_label(clue),
                "result": result,
                "result_label": result_label(result),
                "reason": reason,
                "date": result_date(clue),
                "details": clue.details or {},
            }
        )
    return rows
