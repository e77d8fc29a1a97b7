# Issue 14 (安全审计): the audit trail becomes a hash chain, append-only in the database.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

# On PostgreSQL the application's database role may not UPDATE, DELETE or TRUNCATE the audit
# table, whatever the application does (raw SQL included): row and statement triggers raise.
# The one exception is the archive (povertyapp.audit.archive): DELETE of a row older than the
# legal minimum retention (180 days) whose chain number an AuditArchive row covers. The archive
# table itself is append-only too. TRUNCATE is left to a database superuser (a restore by the
# DBA; Django's test flush), who could drop the triggers anyway.
POSTGRES_TRIGGERS = """
CREATE OR REPLACE FUNCTION povertyapp_audit_row_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND OLD.created_at < now() - interval '180 days'
       AND OLD.seq <= COALESCE((SELECT max(last_seq) FROM povertyapp_auditarchive), 0) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit table % is append-only: % refused (审计日志只能追加，不能修改或删除)',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION povertyapp_audit_archive_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit table % is append-only: % refused (审计日志只能追加，不能修改或删除)',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION povertyapp_audit_truncate_guard() RETURNS trigger AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit table % is append-only: TRUNCATE refused (审计日志不能清空)',
        TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER povertyapp_accesslog_append_only
    BEFORE UPDATE OR DELETE ON povertyapp_accesslog
    FOR EACH ROW EXECUTE FUNCTION povertyapp_audit_row_guard();
CREATE TRIGGER povertyapp_accesslog_no_truncate
    BEFORE TRUNCATE ON povertyapp_accesslog
    FOR EACH STATEMENT EXECUTE FUNCTION povertyapp_audit_truncate_guard();
CREATE TRIGGER povertyapp_auditarchive_append_only
    BEFORE UPDATE OR DELETE ON povertyapp_auditarchive
    FOR EACH ROW EXECUTE FUNCTION povertyapp_audit_archive_guard();
CREATE TRIGGER povertyapp_auditarchive_no_truncate
    BEFORE TRUNCATE ON povertyapp_auditarchive
    FOR EACH STATEMENT EXECUTE FUNCTION povertyapp_audit_truncate_guard();
"""

POSTGRES_TRIGGERS_DROP = """
DROP TRIGGER IF EXISTS povertyapp_accesslog_append_only ON povertyapp_accesslog;
DROP TRIGGER IF EXISTS povertyapp_accesslog_no_truncate ON povertyapp_accesslog;
DROP TRIGGER IF EXISTS povertyapp_auditarchive_append_only ON povertyapp_auditarchive;
DROP TRIGGER IF EXISTS povertyapp_auditarchive_no_truncate ON povertyapp_auditarchive;
DROP FUNCTION IF EXISTS povertyapp_audit_row_guard();
DROP FUNCTION IF EXISTS povertyapp_audit_archive_guard();
DROP FUNCTION IF EXISTS povertyapp_audit_truncate_guard();
"""


def chain_existing_rows(apps, schema_editor):
    """Number and hash the rows written before the chain, in the order they were written."""
    from povertyapp.audit import GENESIS_HASH, HASHED_FIELDS, row_hash

    if schema_editor.connection.vendor == "postgresql":
        # No deferred checks pending when the next operation alters the table.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    AccessLog = apps.get_model("povertyapp", "AccessLog")
    AuditChainHead = apps.get_model("povertyapp", "AuditChainHead")
    prev, seq = GENESIS_HASH, 0
    for row in AccessLog.objects.order_by("created_at", "id").iterator(chunk_size=2000):
        seq += 1
        row.seq = seq
        values = {name: getattr(row, name) for name in HASHED_FIELDS}
        row.prev_hash = prev
        row.row_hash = prev = row_hash(values, prev)
        row.save(update_fields=["seq", "prev_hash", "row_hash"])
    AuditChainHead.objects.update_or_create(pk=1, defaults={"seq": seq, "row_hash": prev})


def install_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_TRIGGERS, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_TRIGGERS_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("povertyapp", "0008_api_tokens"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditArchive",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("file_name", models.CharField(max_length=255, unique=True, verbose_name="文件名")),
                ("first_id", models.BigIntegerField(verbose_name="首条编号")),
                ("last_id", models.BigIntegerField(verbose_name="末条编号")),
                ("first_seq", models.BigIntegerField(verbose_name="首条链序号")),
                ("last_seq", models.BigIntegerField(verbose_name="末条链序号")),
                ("first_at", models.DateTimeField(verbose_name="首条时间")),
                ("last_at", models.DateTimeField(verbose_name="末条时间")),
                ("row_count", models.BigIntegerField(verbose_name="条数")),
                ("sha256", models.CharField(max_length=64, verbose_name="文件SHA-256")),
                ("end_hash", models.CharField(max_length=64, verbose_name="末条链哈希")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="归档时间")),
            ],
            options={
                "verbose_name": "审计日志归档",
                "verbose_name_plural": "审计日志归档",
                "ordering": ["-last_seq"],
            },
        ),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.BigIntegerField(default=0)),
                ("row_hash", models.CharField(default="0000000000000000000000000000000000000000000000000000000000000000", max_length=64)),
            ],
            options={
                "verbose_name": "审计链头",
                "verbose_name_plural": "审计链头",
            },
        ),
        migrations.AlterModelOptions(
            name="accesslog",
            options={"ordering": ["-seq"], "verbose_name": "审计日志", "verbose_name_plural": "审计日志"},
        ),
        migrations.AlterField(
            model_name="accesslog",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="时间"),
        ),
        migrations.AlterField(
            model_name="accesslog",
            name="user",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="access_logs", to=settings.AUTH_USER_MODEL, verbose_name="用户"),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="prev_hash",
            field=models.CharField(default="", max_length=64, verbose_name="前一条哈希"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accesslog",
            name="row_hash",
            field=models.CharField(default="", max_length=64, verbose_name="本条哈希"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accesslog",
            name="seq",
            field=models.BigIntegerField(null=True, verbose_name="链序号"),
        ),
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="accesslog",
            name="seq",
            field=models.BigIntegerField(unique=True, verbose_name="链序号"),
        ),
        migrations.RunPython(install_triggers, drop_triggers),
    ]
