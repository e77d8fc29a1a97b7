"""What each role may do, and over which households: the one place the access rules live.

Every list, detail, edit, API call, admin page and export starts from `household_scope`
(through the selectors), so a household outside a user's scope is never found at all (404),
and a read-only role that tries to write is refused (403).

The platform knows a household only as a row with a `village` (a `Region`): the scopes are
written over any model that has one. A helper's households are the ones a relation hands them,
and the app that owns that relation (pairing, `assistance`) registers it here
(`register_helper_scope`); until one does, a helper sees nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Exists, Model, Q, QuerySet

from povertyapp.models import Region, User

Role = User.Role
M = TypeVar("M", bound=Model)

# Roles that work with case data at all. The system administrator manages accounts only.
CASE_ROLES = frozenset(
    {
        Role.VILLAGE_CADRE,
        Role.HELPER,
        Role.TOWNSHIP_REVIEWER,
        Role.COUNTY_OFFICER,
        Role.AUDITOR,
    }
)
# The three administrators of 三权分立 (等保 2.0 level 3). None of them reads case data.
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
# Who signs in to the admin site (is_staff follows the role): the county office for its case
# configuration and the three administrators.
STAFF_ROLES = ADMIN_ROLES | {Role.COUNTY_OFFICER}
# A department's account (医保, 教育, 民政 …): its own lists and their results, no household data
# beyond them (issue 15). Not a case role: every registry page and API refuses it.
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT})
# Above the county (issue 16): the city's and the province's offices read the figures of their
# subtree (the dashboards and the rates API: snapshots and their roll-up), never case data (no
# household list or page, no names behind a number). Not case roles.
ROLLUP_ROLES = frozenset({Role.CITY_OFFICER, Role.PROVINCE_OFFICER})
# Who may create and edit households and members (the registry keepers).
WRITE_HOUSEHOLD_ROLES = frozenset({Role.VILLAGE_CADRE, Role.COUNTY_OFFICER})
# Who reviews and approves (township review, county decision).
REVIEW_ROLES = frozenset({Role.TOWNSHIP_REVIEWER, Role.COUNTY_OFFICER})
# Who records visits (and, with the assistance app, measures).
VISIT_ROLES = frozenset({Role.VILLAGE_CADRE, Role.HELPER, Role.COUNTY_OFFICER})
# Who sees ID numbers, bank accounts and health details in full.
SENSITIVE_ROLES = frozenset({Role.VILLAGE_CADRE, Role.TOWNSHIP_REVIEWER, Role.COUNTY_OFFICER})
# Who may export ledgers.
EXPORT_ROLES = frozenset(
    {Role.VILLAGE_CADRE, Role.TOWNSHIP_REVIEWER, Role.COUNTY_OFFICER, Role.AUDITOR}
)
# Who configures value lists, poverty lines, regions and rounds.
CONFIGURE_ROLES = frozenset({Role.COUNTY_OFFICER})
# Who exchanges with the national system: exports in its layouts, marks, reconciliation.
NATIONAL_EXCHANGE_ROLES = frozenset({Role.COUNTY_OFFICER})
# Who starts checks and recomputations whose stored results the whole region reads (问题数据检查,
# 防漏核查, the figures, the recounts): the registry keepers and the reviewers. Read-only roles
# (the auditor) read those results and start nothing that stores; they may export (a file for
# themselves, `EXPORT_ROLES`).
CHECK_ROLES = WRITE_HOUSEHOLD_ROLES | REVIEW_ROLES


def has_case_access(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in CASE_ROLES)


def has_case_access_in_region(user: User) -> bool:
    """A case role with a region: the pages of a region's year (年度签署) read the user's
    region and its county."""
    return has_case_access(user) and user.region_id is not None


def can_write_households(user: User) -> bool:
    return has_case_access(user) and user.role in WRITE_HOUSEHOLD_ROLES


def can_review(user: User) -> bool:
    return has_case_access(user) and user.role in REVIEW_ROLES


def can_record_visits(user: User) -> bool:
    return has_case_access(user) and user.role in VISIT_ROLES


def is_department(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in DEPARTMENT_ROLES)


def can_push_department_lists(user: User) -> bool:
    """A department's account pushes its own lists; the county office uploads any
    department's list on its behalf (issue 15)."""
    return is_department(user) or (has_case_access(user) and user.role == Role.COUNTY_OFFICER)


def sees_exclusion_scrutiny(user: User) -> bool:
    """剔除核查 (issue 15): the village, township and county offices that review the departments'
    matches, and the auditors who read them; a helper (帮扶责任人) has no part in it."""
    return has_case_access(user) and user.role != Role.HELPER


def can_view_sensitive(user: User) -> bool:
    return has_case_access(user) and user.role in SENSITIVE_ROLES


def can_export(user: User) -> bool:
    return has_case_access(user) and user.role in EXPORT_ROLES


def can_configure(user: User) -> bool:
    return has_case_access(user) and user.role in CONFIGURE_ROLES


def is_rollup_officer(user: User) -> bool:
    """A city's or a province's office (市级/省级乡村振兴部门): figures only."""
    return bool(user.is_authenticated and user.is_active and user.role in ROLLUP_ROLES)


def can_exchange_with_national_system(user: User) -> bool:
    """The exchange with the national system (issue 16): the national exports, the
    录入国家系统 marks and the reconciliation are the county office's, which keeps the county's
    records in the national system."""
    return has_case_access(user) and user.role in NATIONAL_EXCHANGE_ROLES


def can_view_dashboards(user: User) -> bool:
    """The dashboards show the figures of the user's own region: a case role with a region, or
    a city's or province's office with its region (figures of the subtree, no case data)."""
    return (has_case_access(user) or is_rollup_officer(user)) and user.region_id is not None


def figures_region_scope(user: User) -> QuerySet[Region]:
    """The regions whose figures (dashboards, rates API) a user may read: `region_scope` for
    the case roles, and the subtree of their region for the city's and province's offices."""
    if is_rollup_officer(user) and user.region is not None:
        return Region.objects.filter(path__startswith=user.region.path)
    return region_scope(user)


def can_use_ledgers(user: User) -> bool:
    """The ledgers page: exports (export roles) and the household import (registry keepers)."""
    return can_export(user) or can_write_households(user)


def can_open_admin(user: User) -> bool:
    """The admin site (Django's own rule): case configuration for the county office, and each
    administrator's share (`povertyapp.security.admin_access`)."""
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def _is_admin_role(user: User, role: str) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff and user.role == role)


def can_manage_accounts(user: User) -> bool:
    """Accounts, their roles and regions, security settings: the security administrator's
    (三权分立; the admin's own rule is `povertyapp.security.admin_access`)."""
    return _is_admin_role(user, Role.SECURITY_ADMIN)


def can_read_audit_log(user: User) -> bool:
    """The audit log: the audit administrator's only."""
    return _is_admin_role(user, Role.AUDIT_ADMIN)


def can_keep_system_parameters(user: User) -> bool:
    """Value lists, the holiday calendar, the jobs: the system administrator's."""
    return _is_admin_role(user, Role.SYSTEM_ADMIN)


def can_watch_jobs(user: User) -> bool:
    """The jobs list of the admin: the system administrator (every job, without parameters or
    results) and the county office (its county's jobs)."""
    return can_keep_system_parameters(user) or bool(user.is_staff and can_configure(user))


def can_run_checks(user: User) -> bool:
    return has_case_access(user) and user.role in CHECK_ROLES


def region_scope(user: User) -> QuerySet[Region]:
    """The regions a user may see: the subtree of the user's region (none for non-case roles).

    A helper sees the regions of the paired households' villages only through those households,
    so the region tree itself is the helper's region subtree when one is set, else empty.
    """
    if not has_case_access(user) or user.region is None:
        return Region.objects.none()
    return Region.objects.filter(path__startswith=user.region.path)


def region_in_scope(user: User, region: Region) -> bool:
    return (
        has_case_access(user)
        and user.region is not None
        and region.path.startswith(user.region.path)
    )


@dataclass(frozen=True)
class HelperScope:
    """The households a helper may see, in the two forms the scopes need.

    `exists(user)`: an `Exists` over the helper's current relations to the household of the
    outer query (`OuterRef("pk")`); `q(user)`: the same relation as a Q over a relation named
    `household` (for members, events, measures...)."""

    exists: Callable[[User], Exists]
    q: Callable[[User], Q]


_helper_scope: HelperScope | None = None


def register_helper_scope(*, exists: Callable[[User], Exists], q: Callable[[User], Q]) -> None:
    """Say which households a helper sees (called once, from the owning app's
    `AppConfig.ready()`: `assistance`, through its pairings). A second call replaces the first."""
    global _helper_scope
    _helper_scope = HelperScope(exists=exists, q=q)


def helper_scope() -> HelperScope | None:
    """The registered helper relation, or None (then a helper sees no household)."""
    return _helper_scope


# The models that carry the county key (`county`: the county their village lies in, kept true
# by their app on every write, issue 19), registered by that app (`households`: the household
# and the member). A model not registered is scoped by its village's path.
_county_keyed: set[type[Model]] = set()
_county_keyed_household: type[Model] | None = None


def register_county_key(*, household: type[Model], others: tuple[type[Model], ...] = ()) -> None:
    """Say that `household` (the model the relations named `household` point at) and `others`
    carry the county key (called once, from the owning app's `AppConfig.ready()`)."""
    global _county_keyed_household
    _county_keyed_household = household
    _county_keyed.update({household, *others})


def _area_q(
    region: Region, prefix: str = "", *, keyed: bool = True, county_prefix: str | None = None
) -> Q:
    """The rows (over the relation `prefix`) in a region's subtree. With `keyed` (the model
    carries the county key: `register_county_key`) and a region that is a county or above: a
    county office filters `county_id = <its county>`, which the (county, number) index serves
    in the list's order, instead of the village path of every row; a city or province user
    `county_id IN (<its counties>)`, the ids read at once (a few dozen, and exact statistics
    for the planner). Below the county (township, village, group) the village path stays:
    that subtree is a few villages' rows. `county_prefix`: where the key is when it is not on
    the relation `prefix` (a member carries its own: `""` over `household__`)."""
    if not keyed:
        return Q(**{f"{prefix}village__path__startswith": region.path})
    keyed_prefix = prefix if county_prefix is None else county_prefix
    if region.level == Region.Level.COUNTY:
        return Q(**{f"{keyed_prefix}county_id": region.pk})
    if region.level in (Region.Level.CITY, Region.Level.PROVINCE):
        counties = list(
            Region.objects.filter(
                level=Region.Level.COUNTY, path__startswith=region.path
            ).values_list("pk", flat=True)
        )
        return Q(**{f"{keyed_prefix}county_id__in": counties})
    return Q(**{f"{prefix}village__path__startswith": region.path})


def household_scope(user: User, queryset: QuerySet[M]) -> QuerySet[M]:
    """Restrict a household queryset to what the user may see."""
    if not has_case_access(user):
        return queryset.none()
    if user.role == Role.HELPER:
        if _helper_scope is None:
            return queryset.none()
        return queryset.filter(_helper_scope.exists(user))
    if user.region is None:
        return queryset.none()
    return queryset.filter(_area_q(user.region, keyed=queryset.model in _county_keyed))


def household_scope_q(user: User) -> Q:
    """The scope as a Q over a relation named `household` (for members, events, measures...)."""
    if not has_case_access(user):
        return Q(pk__in=[])
    if user.role == Role.HELPER:
        if _helper_scope is None:
            return Q(pk__in=[])
        return _helper_scope.q(user)
    if user.region is None:
        return Q(pk__in=[])
    return _area_q(user.region, "household__", keyed=_county_keyed_household is not None)


def paired_only(queryset: QuerySet[M], user: User) -> QuerySet[M]:
    """`queryset` (rows with a relation named `household`, already held to the user's area) held
    to a helper's (帮扶责任人) paired households as well; anyone else's is returned unchanged."""
    if user.role != Role.HELPER:
        return queryset
    return queryset.filter(household_scope_q(user))


def member_scope_q(user: User, member: type[Model]) -> Q:
    """The scope over `member` rows (a model with a relation named `household`): as
    `household_scope_q`, but a county office or above filters on the member's own county key
    when `member` carries it (`register_county_key`), so the members' (county, household)
    index serves it without reading their households first."""
    if member not in _county_keyed or user.role == Role.HELPER or user.region is None:
        return household_scope_q(user)
    if not has_case_access(user):
        return Q(pk__in=[])
    return _area_q(user.region, "household__", county_prefix="")
