"""Regions, accounts and roles, jobs, and the access log: what belongs to no single domain app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from povertyapp.filenames import PrivateUploadTo
from povertyapp.yearguard import YearLockedManager

# The `prev_hash` of the first audit row.
GENESIS_HASH = "0" * 64

region_code_validator = RegexValidator(
    r"^(\d{12}|\d{15})$", _("统计用区划代码应为12位数字（村民小组为15位）。"), code="region_code"
)


def path_prefixes(path: str) -> list[str]:
    """Every prefix of a region path ending at a "/" boundary, root first: the paths of the
    region's ancestors, then its own ("/52/5226/" → ["/52/", "/52/5226/"])."""
    return [path[: index + 1] for index, char in enumerate(path) if char == "/" and index > 0]


class Region(models.Model):
    """A node of the region tree (行政区划), keyed by its statistical division code.

    `path` is the chain of codes from the root ("/450000000000/451000000000/.../") so that a
    whole subtree is one indexed prefix match: the area scope of every role is such a subtree.
    """

    class UrbanRural(models.TextChoices):
        """城乡分类代码 of the statistical division codes (统计用区划代码和城乡划分代码)."""

        MAIN_URBAN = "111", _("主城区")
        URBAN_FRINGE = "112", _("城乡结合区")
        TOWN_CENTRE = "121", _("镇中心区")
        TOWN_FRINGE = "122", _("镇乡结合区")
        SPECIAL = "123", _("特殊区域")
        TOWNSHIP_CENTRE = "210", _("乡中心区")
        VILLAGE = "220", _("村庄")

    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        COUNTY = "county", _("县")
        TOWNSHIP = "township", _("乡镇")
        VILLAGE = "village", _("行政村")
        GROUP = "group", _("村民小组")

    code = models.CharField(
        _("统计用区划代码"), max_length=15, unique=True, validators=[region_code_validator]
    )
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    path = models.CharField(_("路径"), max_length=255, unique=True, editable=False)
    is_western = models.BooleanField(
        _("西部地区"), default=False, help_text=_("西部省份的退出标准为贫困发生率不高于3%。")
    )
    urban_rural_code = models.CharField(
        _("城乡分类代码"), max_length=3, choices=UrbanRural.choices, blank=True
    )
    # A unit merged away (撤并) or abolished is ended, never deleted: its households moved to
    # the unit it joined, its history stays, and it can no longer be chosen.
    ended_on = models.DateField(_("撤销日期"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("并入区划"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "path"], name="region_level_path_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        return "".join(ancestor.name for ancestor in self.ancestors(include_self=True))

    def ancestors(self, *, include_self: bool = False) -> list[Region]:
        """The chain from the root down to the parent (and this region with `include_self`):
        one query over the prefixes of `path`, kept on the instance for its later calls."""
        if self.parent_id is None:
            chain: list[Region] = []
        else:
            cached = self.__dict__.get("_ancestors")
            if cached is None or cached[0] != self.path:
                prefixes = path_prefixes(self.path)[:-1]
                found = list(Region.objects.filter(path__in=prefixes).order_by(Length("path")))
                if not self.path or len(found) != len(prefixes):
                    found = []  # not saved yet (no path): walk the parents instead
                    node = self.parent
                    while node is not None:
                        found.insert(0, node)
                        node = node.parent
                cached = (self.path, found)
                self.__dict__["_ancestors"] = cached
            chain = list(cached[1])
        return [*chain, self] if include_self else chain

    def contains(self, other: Region) -> bool:
        return other.path.startswith(self.path)

    @property
    def western(self) -> bool:
        """Whether the western provinces' exit standard applies (西部地区): set on the region
        itself or on any ancestor (normally the province), inherited by everything below it.
        Read this, never `is_western`, wherever the standard matters (issue 13)."""
        return self.is_western or any(node.is_western for node in self.ancestors())


class RegionName(models.Model):
    """A name (and the code) a region carried until a rename or re-coding: the region keeps its
    id, this row keeps what it was called and coded from `valid_from` to `valid_to`."""

    region = models.ForeignKey(
        Region, verbose_name=_("行政区划"), on_delete=models.CASCADE, related_name="former_names"
    )
    name = models.CharField(_("名称"), max_length=64)
    code = models.CharField(_("统计用区划代码"), max_length=15)
    valid_from = models.DateField(_("启用日期"), null=True, blank=True)
    valid_to = models.DateField(_("停用日期"))
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("区划曾用名")
        verbose_name_plural = _("区划曾用名")
        ordering = ["region", "valid_to", "pk"]
        indexes = [models.Index(fields=["code"], name="region_name_code_idx")]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class VillageYear(models.Model):
    """A village's attributes for one year: the denominator of incidence and the sampling strata."""

    class Condition(models.TextChoices):
        GOOD = "好", _("好")
        MEDIUM = "中", _("中")
        POOR = "差", _("差")

    village = models.ForeignKey(
        Region,
        verbose_name=_("行政村"),
        on_delete=models.PROTECT,
        related_name="yearly",
        limit_choices_to={"level": Region.Level.VILLAGE},
    )
    year = models.PositiveSmallIntegerField(
        _("年度"), validators=[MinValueValidator(2010), MaxValueValidator(2100)]
    )
    registered_population = models.PositiveIntegerField(_("户籍人口"), null=True, blank=True)
    registered_rural_population = models.PositiveIntegerField(_("户籍农业人口"))
    total_households = models.PositiveIntegerField(_("总户数"))
    is_poor_village = models.BooleanField(_("贫困村"), default=False)
    exit_year = models.PositiveSmallIntegerField(_("出列年度"), null=True, blank=True)
    is_deep_poverty = models.BooleanField(_("深度贫困村"), default=False)
    condition = models.CharField(
        _("村情分类"), max_length=1, choices=Condition.choices, default=Condition.MEDIUM
    )
    first_secretary = models.CharField(_("第一书记"), max_length=32, blank=True)
    first_secretary_phone = models.CharField(_("第一书记电话"), max_length=20, blank=True)

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("村年度信息")
        verbose_name_plural = _("村年度信息")
        ordering = ["village__code", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["village", "year"], name="village_year_unique"),
            models.CheckConstraint(
                condition=models.Q(exit_year__isnull=True) | models.Q(is_poor_village=True),
                name="village_year_exit_needs_poor_village",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village} {self.year}"


class ResidentTeamMember(models.Model):
    """A member of a village's 驻村工作队 (or its 第一书记) for one year, with days resident."""

    REQUIRED_DAYS = 200

    class Post(models.TextChoices):
        FIRST_SECRETARY = "第一书记", _("第一书记")
        TEAM_LEADER = "队长", _("队长")
        MEMBER = "队员", _("队员")

    village_year = models.ForeignKey(
        VillageYear, verbose_name=_("村年度"), on_delete=models.CASCADE, related_name="team"
    )
    name = models.CharField(_("姓名"), max_length=32)
    post = models.CharField(_("职务"), max_length=8, choices=Post.choices, default=Post.MEMBER)
    unit = models.CharField(_("派出单位"), max_length=64, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    days_resident = models.PositiveSmallIntegerField(
        _("驻村天数"), default=0, validators=[MaxValueValidator(366)]
    )

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("驻村工作队队员")
        verbose_name_plural = _("驻村工作队")
        ordering = ["village_year", "post", "name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_post_display()}）"

    @property
    def meets_residence_requirement(self) -> bool:
        return self.days_resident >= self.REQUIRED_DAYS


class User(AbstractUser):
    """An account with one role bound to one region subtree (its area scope)."""

    class Role(models.TextChoices):
        VILLAGE_CADRE = "village_cadre", _("村级录入员")
        HELPER = "helper", _("帮扶责任人")
        TOWNSHIP_REVIEWER = "township_reviewer", _("乡镇审核员")
        COUNTY_OFFICER = "county_officer", _("县扶贫办")
        AUDITOR = "auditor", _("评估/审计员")
        # 三权分立 (等保 2.0 level 3): three administrators, none of whom reads case data.
        SYSTEM_ADMIN = "system_admin", _("系统管理员")
        SECURITY_ADMIN = "security_admin", _("安全管理员")
        AUDIT_ADMIN = "audit_admin", _("审计管理员")
        # A department's account (医保, 教育, 民政 …): pushes its lists of people at risk and
        # reads the results of its own lists, nothing else (issue 15, `monitoring`).
        DEPARTMENT = "department", _("行业部门")
        # Above the county (issue 16): the city's and the province's 乡村振兴部门 read the
        # figures rolled up from their counties (dashboards, rates API), no case data.
        CITY_OFFICER = "city_officer", _("市级乡村振兴部门")
        PROVINCE_OFFICER = "province_officer", _("省级乡村振兴部门")

    class Department(models.TextChoices):
        """The departments that push lists (DOMAIN §7; issue 15): risk warnings and the data
        for exclusion scrutiny."""

        MEDICAL_INSURANCE = "medical_insurance", _("医保")
        EDUCATION = "education", _("教育")
        CIVIL_AFFAIRS = "civil_affairs", _("民政")
        DISABLED_FEDERATION = "disabled_federation", _("残联")
        EMERGENCY = "emergency", _("应急")
        HOUSING = "housing", _("住建")
        HUMAN_RESOURCES = "human_resources", _("人社")
        PUBLIC_SECURITY = "public_security", _("公安")
        NATURAL_RESOURCES = "natural_resources", _("自然资源")
        MARKET_REGULATION = "market_regulation", _("市场监管")
        FINANCE = "finance", _("财政")
        ORGANIZATION = "organization", _("组织部")
        AGRICULTURE = "agriculture", _("农业农村")
        OTHER = "other", _("其他部门")

    role = models.CharField(_("角色"), max_length=24, choices=Role.choices, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("管辖区域"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    full_name = models.CharField(_("姓名"), max_length=32, blank=True)
    unit = models.CharField(_("工作单位"), max_length=64, blank=True)
    post = models.CharField(_("职务"), max_length=32, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    # The department of a department account (role `department`); blank for every other role.
    department = models.CharField(
        _("所属部门"), max_length=24, choices=Department.choices, blank=True
    )
    # Set by set_password (below); the next sign-in after PASSWORD_MAX_AGE_DAYS forces a change.
    password_changed_at = models.DateTimeField(_("密码修改时间"), default=timezone.now)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="")
                | models.Q(role__in=["system_admin", "security_admin", "audit_admin"])
                | models.Q(role="helper")
                | models.Q(region__isnull=False),
                name="user_case_role_needs_region",
            ),
            models.CheckConstraint(
                condition=(models.Q(role="department") & ~models.Q(department=""))
                | (~models.Q(role="department") & models.Q(department="")),
                name="user_department_matches_role",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()


class UserSession(models.Model):
    """A signed-in session of a user (我的会话): where and with what it started. The row goes
    with its session (deleted at sign-out, by "end", or when expired sessions are cleared).
    Last seen is the session's own idle deadline less the idle timeout (no write per request)."""

    session = models.OneToOneField(
        "sessions.Session",
        verbose_name=_("会话"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="signed_in_sessions",
    )
    started_at = models.DateTimeField(_("登录时间"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("登录会话")
        verbose_name_plural = _("登录会话")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.started_at:%Y-%m-%d %H:%M}"


class Job(models.Model):
    """Long work (exports, imports, checks, figures) the user can watch: status, progress, file."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        SUCCEEDED = "succeeded", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("类型"), max_length=48)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="jobs",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区域"), on_delete=models.PROTECT, null=True, blank=True
    )
    parameters = models.JSONField(_("参数"), default=dict, blank=True)
    progress = models.PositiveIntegerField(_("已处理"), default=0)
    total = models.PositiveIntegerField(_("总数"), default=0)
    message = models.CharField(_("说明"), max_length=255, blank=True)
    error = models.TextField(_("错误"), blank=True)
    result = models.JSONField(_("结果"), default=dict, blank=True)
    result_file = models.FileField(
        _("结果文件"), upload_to=PrivateUploadTo("jobs"), max_length=255, blank=True
    )
    # Set by the nightly clean-up when it deletes the result file (JOB_FILE_RETENTION_DAYS).
    result_file_deleted_at = models.DateTimeField(_("结果文件删除时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # When the task message last reached the broker; null while dispatch is pending (the broker
    # was down when the job was started): the sweep (`povertyapp.jobs.job_sweep`) sends it then.
    dispatched_at = models.DateTimeField(_("派发时间"), null=True, blank=True)
    # Written by the worker while the job runs (progress and a periodic touch): a running job
    # whose heartbeat stops was lost with its worker, and the sweep retries or fails it.
    heartbeat_at = models.DateTimeField(_("心跳时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="job_owner_idx"),
            # The sweep's scan: only unfinished jobs, so the index stays small.
            models.Index(
                fields=["status", "created_at"],
                name="job_unfinished_idx",
                condition=models.Q(status__in=["queued", "running"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, self.progress * 100 // self.total)


class AuditImmutableError(Exception):
    """An audit row was about to be changed or deleted outside the archive (append-only)."""


class AccessLogQuerySet(models.QuerySet):
    """Audit rows are never changed nor deleted through the ORM (the SQLite guard; on
    PostgreSQL triggers refuse it in the database as well). Only `povertyapp.audit.archive`
    deletes, rows already written to an archive file, through `_delete_archived`."""

    def update(self, **kwargs: Any) -> int:
        raise AuditImmutableError("audit rows are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError("audit rows are append-only")

    def _delete_archived(self) -> int:
        return super()._raw_delete(self.db)  # Django's private API: no signals, no cascade


class AccessLog(models.Model):
    """The audit trail (安全审计): who signed in, was refused, viewed, exported or imported
    sensitive personal information (PIPL), approved, or changed a role or a setting, and when.

    Rows are written only through `povertyapp.audit.record`.
    """

    class Action(models.TextChoices):
        VIEW_SENSITIVE = "view_sensitive", _("查看敏感信息")
        EXPORT = "export", _("导出")
        IMPORT = "import", _("导入")
        PRINT = "print", _("打印")
        DOWNLOAD = "download", _("下载文件")
        LOGIN = "login", _("登录")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOCKOUT = "lockout", _("账号锁定")
        LOGOUT = "logout", _("退出登录")
        SECOND_FACTOR = "second_factor", _("双因素认证")
        PASSWORD_CHANGE = "password_change", _("修改密码")
        TOKEN = "token", _("API令牌")
        SESSION = "session", _("会话管理")
        REFUSED = "refused", _("拒绝访问")
        RATE_LIMITED = "rate_limited", _("超出频率限制")
        APPROVAL = "approval", _("审核审批")
        ROLE_CHANGE = "role_change", _("角色或范围变更")
        ACCOUNT = "account", _("账号管理")
        CONFIGURATION = "configuration", _("配置变更")
        BREAK_GLASS = "break_glass", _("应急账号使用")
        AUDIT = "audit", _("审计日志操作")

    class Outcome(models.TextChoices):
        OK = "ok", _("成功")
        FAILED = "failed", _("失败")
        REFUSED = "refused", _("拒绝")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        # An account with audit rows is deactivated, never deleted (the rows are append-only
        # and their hash covers the user).
        on_delete=models.PROTECT,
        null=True,
        related_name="access_logs",
    )
    username = models.CharField(_("用户名"), max_length=150)
    role = models.CharField(_("角色"), max_length=24, blank=True)
    action = models.CharField(_("操作"), max_length=24, choices=Action.choices)
    target = models.CharField(_("对象"), max_length=64)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    outcome = models.CharField(_("结果"), max_length=8, choices=Outcome.choices, default=Outcome.OK)
    reason = models.CharField(_("原因"), max_length=255, blank=True)
    fields = models.JSONField(_("字段"), default=list, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    # The id of the request that wrote the row (povertyapp.middleware.RequestIdMiddleware),
    # also sent back as X-Request-ID and written to the application log.
    request_id = models.CharField(_("请求编号"), max_length=32, blank=True, db_index=True)
    # The SHA-256 of the file that left the system (downloads and exports): which copy went where.
    sha256 = models.CharField(_("文件SHA-256"), max_length=64, blank=True, db_index=True)
    # Set by `audit.record` before the row is hashed (not auto_now_add: the hash covers it).
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    # The hash chain (tamper evidence): rows are numbered 1, 2, 3… in the order they were
    # appended (under a lock on AuditChainHead), each hash covering the row and the previous
    # row's hash. `manage.py verify_audit` walks it.
    seq = models.BigIntegerField(_("链序号"), unique=True)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64)
    row_hash = models.CharField(_("本条哈希"), max_length=64)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"{self.username} {self.get_action_display()} {self.target} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditImmutableError("audit rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError("audit rows are append-only")


class AuditChainHead(models.Model):
    """One row: the last link of the audit chain. `audit.record` locks it (SELECT … FOR UPDATE)
    in the transaction of the insert, so concurrent writers append one after another."""

    seq = models.BigIntegerField(default=0)
    row_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"{self.seq} {self.row_hash}"


class AuditArchive(models.Model):
    """An archive file of audit rows older than the retention (`manage.py archive_audit`),
    written before the rows were deleted: the chain continues from `end_hash`."""

    file_name = models.CharField(_("文件名"), max_length=255, unique=True)
    first_id = models.BigIntegerField(_("首条编号"))
    last_id = models.BigIntegerField(_("末条编号"))
    first_seq = models.BigIntegerField(_("首条链序号"))
    last_seq = models.BigIntegerField(_("末条链序号"))
    first_at = models.DateTimeField(_("首条时间"))
    last_at = models.DateTimeField(_("末条时间"))
    row_count = models.BigIntegerField(_("条数"))
    sha256 = models.CharField(_("文件SHA-256"), max_length=64)
    end_hash = models.CharField(_("末条链哈希"), max_length=64)
    created_at = models.DateTimeField(_("归档时间"), default=timezone.now)

    class Meta:
        verbose_name = _("审计日志归档")
        verbose_name_plural = _("审计日志归档")
        ordering = ["-last_seq"]

    def __str__(self) -> str:
        return self.file_name


class CalendarDay(models.Model):
    """A day the State Council's holiday arrangement (国务院办公厅关于节假日安排的通知) makes an
    exception of: a public holiday on a weekday (放假), or a weekend day worked to make up for
    one (调休上班). Every other Monday–Friday is a working day. Deadlines counted in working days
    (`households.workflows.add_working_days`) read this table; the county office keeps it in
    the admin as each year's arrangement is published."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("节日"), max_length=32)

    class Meta:
        verbose_name = _("节假日安排")
        verbose_name_plural = _("节假日安排")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name} {self.get_kind_display()}"

    def clean(self) -> None:
        if self.kind == self.Kind.WORKDAY and self.date and self.date.weekday() < 5:
            raise ValidationError(
                {"kind": _("调休上班日应为周六或周日；周一至周五本来就是工作日。")}
            )


class BreakGlassGrant(models.Model):
    """One window in which the break-glass account (应急账号, the only superuser) may be used:
    opened by `manage.py break_glass enable` with a reason and a time limit, closed by
    `disable`, by the expiry task, or at the account's first request after `expires_at`.
    Every sign-in and request inside the window is an audit row (`AccessLog.Action.BREAK_GLASS`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("应急账号"),
        on_delete=models.PROTECT,
        related_name="break_glass_grants",
    )
    reason = models.CharField(_("启用原因"), max_length=255)
    operator = models.CharField(_("操作人"), max_length=150)
    enabled_at = models.DateTimeField(_("启用时间"))
    expires_at = models.DateTimeField(_("到期时间"))
    ended_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    end_reason = models.CharField(_("停用原因"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("应急账号启用记录")
        verbose_name_plural = _("应急账号启用记录")
        ordering = ["-enabled_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("enabled_at")),
                name="break_glass_expires_after_enabled",
            ),
            # At most one open window at a time.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(ended_at__isnull=True),
                name="break_glass_one_open_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.enabled_at:%Y-%m-%d %H:%M}"


class YearLock(models.Model):
    """A county's signed year (年度封账): while `locked_at` is set, every row the domain apps
    registered as belonging to that county and year (`povertyapp.yearlock`) is read-only.

    One row per county and year; the year-end sign-off (`years`) sets it when the county signs
    and clears it when the county office reopens the year. Who did what and why is kept in the
    sign-off's own log; this row is only the state every write consults."""

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="year_locks"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    locked_at = models.DateTimeField(_("封账时间"), null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("封账人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("年度封账")
        verbose_name_plural = _("年度封账")
        ordering = ["county", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["county", "year"], name="year_lock_one_per_county_year")
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.year}"

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


# --- the second factor's devices, named for the admin ------------------------------------------


class SecondFactorDevice(TOTPDevice):
    """django-otp's TOTP device under a Chinese name: its own Meta names it in English only,
    and the security administrator reads it in the admin (`povertyapp.admin`)."""

    class Meta:
        proxy = True
        verbose_name = _("动态口令设备")
        verbose_name_plural = _("动态口令设备")


class BackupCodeDevice(StaticDevice):
    """django-otp's backup codes (a static device) under a Chinese name, as above."""

    class Meta:
        proxy = True
        verbose_name = _("备用验证码")
        verbose_name_plural = _("备用验证码")
