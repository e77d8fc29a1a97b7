from __future__ import annotations

import importlib
from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def sqlite_triggers_ensure(*, using: str, **kwargs: Any) -> None:
    """Put back the SQLite triggers that keep `VillageStatusCount` (migration 0007),
    `CountyStatusCount` (0020) and `MemberCompleteness` (0023) when a later migration dropped
    them: on SQLite, Django adds a column such as a stored generated field by copying the table
    into a new one, and the copy has no triggers. Idempotent; PostgreSQL alters its tables in
    place and keeps them."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    _member_terms_triggers_ensure(connection)
    villages = importlib.import_module("households.migrations.0007_village_status_counts")
    counties = importlib.import_module("households.migrations.0020_county_status_counts")
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if "households_villagestatuscount" not in tables:
            return  # migrated backwards past 0007
        with_counties = "households_countystatuscount" in tables
        # The county triggers first: the village counts' refill below then keeps them too.
        if with_counties and _triggers(cursor, "county") != len(counties.SQLITE):
            for statement in counties.SQLITE_REVERSE + counties.SQLITE:
                cursor.execute(statement)
            for statement in counties.REFILL:
                cursor.execute(statement)
        if _triggers(cursor, "village") == len(villages.SQLITE):
            return
        for statement in villages.SQLITE_REVERSE + villages.SQLITE:
            cursor.execute(statement)
        # The counts may have missed writes while the triggers were gone: count them again,
        # keeping every row (a village whose households of a status all left keeps its row at
        # 0, as the triggers keep it: a migration that copies the table loses no row). The
        # county rows follow through their triggers.
        cursor.execute("UPDATE households_villagestatuscount SET households = 0")
        cursor.execute(
            "INSERT INTO households_villagestatuscount (village_id, status, households) "
            "SELECT village_id, status, count(*) FROM households_household "
            "GROUP BY village_id, status "
            "ON CONFLICT (village_id, status) DO UPDATE SET households = excluded.households"
        )


def _member_terms_triggers_ensure(connection: Any) -> None:
    """The triggers that mark a household's kept member sums out of date (0023); when any was
    missing, every kept row is marked out of date too: a member written meanwhile left no mark,
    and the rates job then reads the members until the nightly refresh."""
    terms = importlib.import_module("households.migrations.0023_member_completeness")
    with connection.cursor() as cursor:
        if "households_membercompleteness" not in connection.introspection.table_names(cursor):
            return  # migrated backwards past 0023
        if _count_triggers(cursor, "households_member_terms_%") == len(terms.SQLITE):
            return
        for statement in terms.SQLITE_REVERSE + terms.SQLITE:
            cursor.execute(statement)
        cursor.execute(
            "UPDATE households_membercompleteness "
            "SET valid_until = NULL, generation = generation + 1"
        )


def _triggers(cursor: Any, kind: str) -> int:
    return _count_triggers(cursor, f"households_{kind}_status_count_%")


def _count_triggers(cursor: Any, pattern: str) -> int:
    cursor.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s", [pattern]
    )
    return int(cursor.fetchone()[0])


class HouseholdsConfig(AppConfig):
    name = "households"
    verbose_name = _("农户档案")

    def ready(self) -> None:
        # What the audit rows of this app name (the 审计日志's 对象 column).
        from households import audit_labels

        audit_labels.register()

        # Job kinds register on import; both the web process and the worker need them.
        from households import completeness, onboarding, quality, region_counts  # noqa: F401

        # The national exports and the reconciliation job (issue 16) register on import.
        from households.national import ledgers, reconcile  # noqa: F401

        post_migrate.connect(sqlite_triggers_ensure, sender=self)
        register_county_key()
        register_file_kinds()
        register_desk_panels()
        register_list_warnings()
        register_village_labels()


def register_county_key() -> None:
    """The household and the member carry the county key (`households.counties`): the scopes
    of a county office and above filter on it (`povertyapp.roles.household_scope`)."""
    from households.models import Household, Member
    from povertyapp import roles

    roles.register_county_key(household=Household, others=(Member,))


def register_village_labels() -> None:
    """The quality page's villages read with their open problems, also when the region
    cascade refills them (`povertyapp.regions.register_village_labels`)."""
    from households import quality
    from povertyapp import regions

    regions.register_village_labels(quality.VILLAGE_LABELS, quality.village_labels)


def register_list_warnings() -> None:
    """The registry's own warning on the household list: an overdue procedure step (the apps
    above add theirs from their `ready()`: work due, monitoring risk)."""
    from households import detail_tabs, workflows

    detail_tabs.register_list_warnings("households.procedures", workflows.overdue_warning)


def register_file_kinds() -> None:
    """The registry's stored files, served by the platform's file door (`povertyapp.files`):
    the evidence of procedure steps (申请书, 评议 minutes, photos of the posted 公示)."""
    from django.urls import reverse

    from households import selectors
    from povertyapp import files

    files.register(
        "workflow_evidence",
        model="households.WorkflowStep",
        field="evidence",
        get_for_user=lambda user, object_id: selectors.workflow_step_get_for_user(
            user=user, record_id=object_id
        ),
        page_url=lambda record: reverse("households:workflow", args=[record.workflow_id]),
        label=_("识别退出程序佐证材料"),
    )
    files.register(
        "step_photo",
        model="households.StepPhoto",
        field="photo",
        get_for_user=lambda user, object_id: selectors.step_photo_get_for_user(
            user=user, photo_id=object_id
        ),
        page_url=lambda photo: reverse("households:workflow", args=[photo.step.workflow_id]),
        label=_("入户核实照片"),
        image=True,
    )
    from households import detail_tabs

    detail_tabs.register_photos(
        "steps",
        lambda household: [
            detail_tabs.Photo(
                kind="step_photo",
                record=photo,
                caption=f"{photo.step.workflow.get_kind_display()} · {photo.step.label} "
                f"{photo.step.acted_on.isoformat() if photo.step.acted_on else ''}".strip(),
            )
            for photo in selectors.household_step_photos(household)
        ],
    )
    files.register(
        "batch_minutes",
        model="households.CaseBatch",
        field="minutes",
        get_for_user=lambda user, object_id: selectors.case_batch_get_for_user(
            user=user, batch_id=object_id
        ),
        page_url=lambda batch: reverse("households:batch", args=[batch.pk]),
        label=_("批次民主评议会议记录"),
    )


def register_desk_panels() -> None:
    """The home page's 工作台 (`povertyapp.desk`): the registry's count, my procedure steps and
    problem data (`households.views.desk`), and the households updated last."""
    from django.utils.translation import gettext_lazy

    from households.views import desk as desk_views
    from povertyapp import desk

    desk.register(
        desk.Panel(
            key="households.counts",
            template="households/desk/counts.html",
            context=desk_views.desk_counts,
            order=10,
        )
    )
    desk.items_panel(
        key="households.cases",
        title=gettext_lazy("程序与问题数据"),
        items=desk_views.registry_items,
        order=20,
    )
    desk.register(
        desk.Panel(
            key="households.recent",
            template="households/desk/recent.html",
            context=desk_views.desk_recent,
            order=90,
        )
    )
