"""Field work without signal for the monitoring forms (docs/offline.md, issue 17): a clue's
入户核实 and the 集中排查表, on the same offline page and queue as the visit (assistance).

The bundle is what the online pages show the cadre, scoped and masked the same way: the clues
of their area waiting for 入户核实 (`inbox.clues_for_user`, state 待核实) and the households of
the open sweeps of their area not yet recorded (`sweeps.sweep_households_for_user`, 待排查), with
the forms' definitions built from the online forms (`VerifyForm`, `SweepVisitForm`) so the
phone and the page cannot drift. Each list is capped (`LIMIT`, the oldest due first) and says
so: a county office downloads a county's first rows, never an unbounded list.

A synced entry goes through the online service (`inbox.clue_verify`,
`sweeps.sweep_visit_record`) with the record's version as downloaded: a record changed since is
a conflict (nothing written, both sides answered), a retried key is answered from its
`assistance.OfflineSync` row (applied once), a record out of the user's scope is refused.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from assistance.forms import form_definition
from assistance.models import OfflineSync
from households import workflows
from households.forms import StepForm
from households.models import CaseWorkflow, Member, WorkflowStep
from households.services import workflow_step_complete
from monitoring import clues as clue_door
from monitoring import inbox, sweeps
from monitoring.forms_clues import VerifyForm
from monitoring.forms_sweeps import SweepVisitForm
from monitoring.models import Clue, RiskType, Sweep, SweepHousehold
from povertyapp import roles
from povertyapp.conflicts import ConflictError
from povertyapp.models import User
from povertyapp.privacy import mask

# The most rows of each list one bundle carries (a village has tens; a county office gets the
# first LIMIT by due date and a message saying how many were left on the server).
LIMIT = 500


def can_verify_offline(user: User) -> bool:
    return inbox.can_work_inbox(user)


def can_sweep_offline(user: User) -> bool:
    return sweeps.can_record_sweep(user)


def can_step_offline(user: User) -> bool:
    """The procedures' 入户核实 steps are the village's: the village cadre."""
    return roles.has_case_access(user) and user.role == workflows.LEVEL_ROLES[workflows.VILLAGE]


def can_work_offline(user: User) -> bool:
    """The monitoring part of the offline page: the roles that do it online (the village cadre,
    the county office); a helper, township reviewer or auditor gets no list."""
    return can_verify_offline(user) or can_sweep_offline(user) or can_step_offline(user)


# The 入户核实 steps of the procedures (kind, step): 识别's and 退出's 核实 by the village and the
# work team, and 监测对象识别's 入户核实. Only these are offered offline: the other village steps
# need a meeting's minutes or a 公示 and are done with signal.
HOME_VISIT_STEPS: tuple[tuple[str, str], ...] = (
    (CaseWorkflow.Kind.IDENTIFICATION, "verification"),
    (CaseWorkflow.Kind.EXIT, "verification"),
    (CaseWorkflow.Kind.MONITORING, "home_visit"),
)
STEP_FIELDS = ("opinion", "acted_on")


def pending_steps(user: User) -> Any:
    """The user's cases standing at a 入户核实 step: the to-do list's (`workflows.todo_list`,
    scoped as online) narrowed to those steps."""
    condition = Q(pk__in=[])
    for kind, step in HOME_VISIT_STEPS:
        condition |= Q(kind=kind, step=step)
    return workflows.todo_list(user).filter(condition)


def case_version(workflow: CaseWorkflow) -> int:
    """A case's version for offline entries: how many actions it has recorded (each done,
    returned or withdrawn step adds one), so any action since the download is a conflict."""
    return WorkflowStep.objects.filter(workflow=workflow).count() + 1


def pending_clues(user: User) -> Any:
    return inbox.clues_for_user(user).filter(state=Clue.State.PENDING).order_by("verify_due", "id")


def pending_sweep_households(user: User) -> Any:
    open_sweeps = sweeps.sweeps_for_user(user=user).filter(state=Sweep.State.OPEN)
    return (
        SweepHousehold.objects.filter(
            sweep__in=open_sweeps,
            state=SweepHousehold.State.PENDING,
            village__path__startswith=user.region.path if user.region else "-",
        )
        .select_related("sweep", "household", "village")
        .order_by("village__name", "household__number", "id")
    )


def _clue_row(clue: Clue) -> dict[str, Any]:
    risks = dict(RiskType.choices)
    return {
        "id": clue.pk,
        "reference": clue_door.reference(clue),
        "village": clue.region.name,
        "name": clue.name,
        "id_number": mask(clue.id_number),
        "household": clue.household.number if clue.household is not None else "",
        "accepted_on": clue.accepted_on.isoformat() if clue.accepted_on else "",
        "verify_due": clue.verify_due.isoformat(),
        "risk": str(risks.get(clue.risk_type, "")),
        "consent_on_file": bool(clue.consent),
        "consent_signed_on": clue.consent_signed_on.isoformat() if clue.consent_signed_on else "",
        "version": clue.version,
    }


def _sweep_rows(rows: list[SweepHousehold]) -> list[dict[str, Any]]:
    heads = {
        member.household_id: member
        for member in Member.objects.filter(
            household_id__in=[row.household_id for row in rows], is_active=True, relation="户主"
        )
    }
    return [
        {
            "id": row.pk,
            "sweep": row.sweep.name,
            "start": row.sweep.start_date.isoformat(),
            "end": row.sweep.end_date.isoformat(),
            "village": row.village.name,
            "number": row.household.number,
            "head_name": heads[row.household_id].name if row.household_id in heads else "",
            "head_id_number": mask(heads[row.household_id].id_number)
            if row.household_id in heads
            else "",
            "version": row.version,
        }
        for row in rows
    ]


def _step_rows(cases: list[CaseWorkflow]) -> list[dict[str, Any]]:
    heads = {
        member.household_id: member
        for member in Member.objects.filter(
            household_id__in=[case.household_id for case in cases], is_active=True, relation="户主"
        )
    }
    actions = dict(
        WorkflowStep.objects.filter(workflow__in=cases)
        .values("workflow")
        .annotate(n=Count("id"))
        .values_list("workflow", "n")
    )
    return [
        {
            "id": case.pk,
            "procedure": str(workflows.procedure(case.kind).label),
            "step": case.step,
            "step_label": str(workflows.current_step(case).label),
            "village": case.household.village.name,
            "number": case.household.number,
            "head_name": heads[case.household_id].name if case.household_id in heads else "",
            "deadline": case.deadline.isoformat() if case.deadline else "",
            "version": actions.get(case.pk, 0) + 1,
        }
        for case in cases
    ]


def step_form_definition() -> list[dict[str, Any]]:
    """The 入户核实 step's form: the online step form's (`StepForm`) opinion and date (these steps
    need no minutes, attendance or evidence), the opinion required as the service requires."""
    return [
        field
        for field in form_definition(StepForm(), required=frozenset({"opinion"}))
        if field["name"] in STEP_FIELDS
    ]


def offline_bundle(*, user: User) -> dict[str, Any]:
    """The monitoring part of the offline bundle for `user` (empty lists for a role that does
    none of the forms). `capped` names each list the server cut at `LIMIT`, with the count."""
    bundle: dict[str, Any] = {
        "clues": [],
        "sweep_households": [],
        "steps": [],
        "forms": {},
        "capped": {},
    }
    if can_step_offline(user):
        queryset = pending_steps(user)
        cases = list(queryset[: LIMIT + 1])
        if len(cases) > LIMIT:
            bundle["capped"]["steps"] = {"kept": LIMIT, "total": queryset.count()}
        bundle["steps"] = _step_rows(cases[:LIMIT])
        bundle["forms"]["step"] = step_form_definition()
    if can_verify_offline(user):
        queryset = pending_clues(user)
        clues = list(queryset[: LIMIT + 1])
        if len(clues) > LIMIT:
            bundle["capped"]["clues"] = {"kept": LIMIT, "total": queryset.count()}
        bundle["clues"] = [_clue_row(clue) for clue in clues[:LIMIT]]
        bundle["forms"]["clue_verify"] = form_definition(
            VerifyForm(), required=frozenset({"consent_signed_on"})
        )
    if can_sweep_offline(user):
        queryset = pending_sweep_households(user)
        rows = list(queryset[: LIMIT + 1])
        if len(rows) > LIMIT:
            bundle["capped"]["sweep_households"] = {"kept": LIMIT, "total": queryset.count()}
        bundle["sweep_households"] = _sweep_rows(rows[:LIMIT])
        bundle["forms"]["sweep"] = form_definition(SweepVisitForm())
    return bundle


# --- sync -------------------------------------------------------------------------------------


def _replayed(key: uuid.UUID, actor: User, kind: str) -> OfflineSync | None:
    sync = OfflineSync.objects.filter(key=key).first()
    if sync is None:
        return None
    if sync.user_id != actor.pk or sync.kind != kind:
        raise ValidationError(_("该同步键已被其他账号使用。"), code="key_taken")
    return sync


def _applied_once(
    *,
    actor: User,
    key: uuid.UUID,
    kind: str,
    recorded_at: datetime.datetime | None,
    apply: Callable[[], tuple[int, int | None, dict[str, Any]]],
) -> tuple[OfflineSync, bool]:
    """Apply an entry once: a key seen before answers its stored row (False); else `apply`
    (which returns the record's id, its household and the answer to keep) runs in the same
    transaction as the row that records it (True). Two requests at once are settled by the
    key's unique constraint: the loser answers the winner's row."""
    existing = _replayed(key, actor, kind)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            target, household_id, answer = apply()
            sync = OfflineSync(
                key=key,
                kind=kind,
                user=actor,
                household_id=household_id,
                target=target,
                answer=answer,
                recorded_at=recorded_at,
            )
            sync.full_clean(validate_unique=False)
            sync.save()
    except IntegrityError:
        taken = _replayed(key, actor, kind)
        assert taken is not None
        return taken, False
    return sync, True


def clue_state(clue: Clue) -> dict[str, Any]:
    """A clue as a conflict shows it (系统中现在)."""
    return {
        "version": clue.version,
        "fields": {
            "state": clue.get_state_display(),
            "verified_on": clue.verified_on.isoformat() if clue.verified_on else "",
            "note": clue.verification_note,
            "consent_signed_on": clue.consent_signed_on.isoformat()
            if clue.consent_signed_on
            else "",
        },
        "who": clue.verified_by.display_name if clue.verified_by is not None else "",
    }


def clue_verify_sync(
    *,
    actor: User,
    key: uuid.UUID,
    clue: Clue,
    version: int,
    data: dict[str, Any],
    recorded_at: datetime.datetime | None,
) -> tuple[OfflineSync, bool]:
    """A clue's 入户核实 recorded offline, applied through `inbox.clue_verify` (the same rules
    as online: the 承诺授权 scan, carried by the entry unless on file). `data` is
    `VerifyForm`'s cleaned data. A clue changed since `version`: ConflictError, nothing
    written."""

    def apply() -> tuple[int, int | None, dict[str, Any]]:
        done = inbox.clue_verify(
            actor=actor,
            clue=clue,
            verified_on=data["verified_on"],
            note=data["note"],
            expected_version=version,
            consent=data.get("consent"),
            consent_signed_on=data.get("consent_signed_on"),
        )
        return done.pk, done.household_id, {"version": done.version}

    return _applied_once(
        actor=actor,
        key=key,
        kind=OfflineSync.Kind.CLUE_VERIFY,
        recorded_at=recorded_at,
        apply=apply,
    )


def sweep_state(row: SweepHousehold) -> dict[str, Any]:
    """A 排查表 as a conflict shows it (系统中现在)."""
    return {
        "version": row.version,
        "fields": {
            "state": row.get_state_display(),
            "visited_on": row.visited_on.isoformat() if row.visited_on else "",
            "first_surveyor": row.first_surveyor,
            "second_surveyor": row.second_surveyor,
            "note": row.note or row.skip_reason,
        },
        "who": row.recorded_by.display_name if row.recorded_by is not None else "",
    }


def sweep_visit_sync(
    *,
    actor: User,
    key: uuid.UUID,
    row: SweepHousehold,
    version: int,
    data: dict[str, Any],
    recorded_at: datetime.datetime | None,
) -> tuple[OfflineSync, bool]:
    """A 排查表 recorded offline, applied through `sweeps.sweep_visit_record` with the version
    the phone downloaded. `data` is `SweepVisitForm`'s cleaned data."""

    def apply() -> tuple[int, int | None, dict[str, Any]]:
        saved = sweeps.sweep_visit_record(
            actor=actor,
            sweep_household=row,
            visit=sweeps.visit_from(data),
            expected_version=version,
        )
        return saved.pk, saved.household_id, {"version": saved.version}

    return _applied_once(
        actor=actor, key=key, kind=OfflineSync.Kind.SWEEP, recorded_at=recorded_at, apply=apply
    )


def case_state(workflow: CaseWorkflow) -> dict[str, Any]:
    """A case as a conflict shows it (系统中现在): its step and state now and its last action."""
    last = (
        WorkflowStep.objects.filter(workflow=workflow)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )
    return {
        "version": case_version(workflow),
        "fields": {
            "state": f"{workflow.get_state_display()} · {workflows.current_step(workflow).label}",
            "opinion": last.opinion if last else "",
            "acted_on": last.acted_on.isoformat() if last else "",
        },
        "who": last.actor.display_name if last and last.actor is not None else "",
    }


def step_sync(
    *,
    actor: User,
    key: uuid.UUID,
    workflow: CaseWorkflow,
    step: str,
    version: int,
    data: dict[str, Any],
    recorded_at: datetime.datetime | None,
) -> tuple[OfflineSync, bool]:
    """A procedure's 入户核实 step recorded offline, done through the online service
    (`workflow_step_complete`) at the step the phone downloaded. The case acted on since
    (`case_version` moved, or no longer at that step): ConflictError, nothing written."""

    def apply() -> tuple[int, int | None, dict[str, Any]]:
        locked = CaseWorkflow.objects.select_for_update().get(pk=workflow.pk)
        if (
            case_version(locked) != version
            or locked.step != step
            or locked.state != CaseWorkflow.State.OPEN
        ):
            raise ConflictError(
                [{"field": "", "label": _("程序"), "old": "", "new": "", "who": _("他人")}]
            )
        done = workflow_step_complete(
            actor=actor,
            workflow=locked,
            expected_step=step,
            opinion=data.get("opinion") or "",
            acted_on=data.get("acted_on"),
        )
        record = WorkflowStep.objects.filter(workflow=done, step=step).order_by("-id").first()
        # The step's record: its photos taken offline are uploaded after (offline_photos).
        answer = {"version": case_version(done), "step_record": record.pk if record else None}
        return done.pk, done.household_id, answer

    return _applied_once(
        actor=actor, key=key, kind=OfflineSync.Kind.STEP, recorded_at=recorded_at, apply=apply
    )


# --- photos taken offline (assistance.offline_photos) ----------------------------------------


def _clue_of(sync: OfflineSync) -> Clue | None:
    if sync.target is None:
        return None
    return Clue.objects.filter(pk=sync.target).first()


def _clue_photos_store(*, actor: User, owner: Clue, photos: Any) -> Any:
    return inbox.clue_photos_add(actor=actor, clue=owner, photos=photos)


def _step_of(sync: OfflineSync) -> WorkflowStep | None:
    record_id = sync.answer.get("step_record")
    if not record_id:
        return None
    return WorkflowStep.objects.filter(pk=record_id, workflow_id=sync.target).first()


def _step_photos_store(*, actor: User, owner: WorkflowStep, photos: Any) -> Any:
    from households.services import step_photos_add

    return step_photos_add(actor=actor, record=owner, photos=photos)


def register_offline_photos() -> None:
    """The photos of a clue's 入户核实 and a procedure's 入户核实 step taken offline: stored
    through `assistance.offline_photos`'s one endpoint with this app's services."""
    from assistance import offline_photos
    from households.models import StepPhoto
    from monitoring.models import CluePhoto

    offline_photos.register(
        OfflineSync.Kind.CLUE_VERIFY,
        offline_photos.PhotoOwner(
            model=CluePhoto, field="clue", find=_clue_of, store=_clue_photos_store
        ),
    )
    offline_photos.register(
        OfflineSync.Kind.STEP,
        offline_photos.PhotoOwner(
            model=StepPhoto, field="step", find=_step_of, store=_step_photos_store
        ),
    )
