"""Issue 14 (数据保密性): ID numbers, bank accounts and health details are stored encrypted.

Schema: the four columns become text (EncryptedCharField, `enc1:…` values), the member gets the
keyed blind index of its ID number (`id_number_index`), and the index and the partial unique
constraint of an active ID move from the plain column to the blind index. The same for the
simple_history copies (HistoricalMember, HistoricalHousehold).

Data: every row is encrypted with the current key and its blind index filled, in chunks of
CHUNK rows by primary key, with raw SQL (a value already encrypted is kept, so a run that was
interrupted can simply be run again). Backwards, the values are decrypted to plain text (the
keys must still be configured).
"""

from django.db import migrations, models

import povertyapp.crypto
from povertyapp import crypto

CHUNK = 2000
# (table, columns encrypted, has the blind index of id_number)
TABLES = [
    ("households_member", ["id_number", "illness_name", "disability_certificate"], True),
    ("households_historicalmember", ["id_number", "illness_name", "disability_certificate"], True),
    ("households_household", ["bank_account"], False),
    ("households_historicalhousehold", ["bank_account"], False),
]


class AlterFieldInPlace(migrations.AlterField):
    """On SQLite the column is left as it is: SQLite does not enforce a varchar's length (the
    longer encrypted text fits), and remaking households_household would drop the triggers
    that keep households_villagestatuscount (0007), whose refill loses its zero rows."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "sqlite":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "sqlite":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def _pk(table):
    return "history_id" if "historical" in table else "id"


def _rewrite(schema_editor, convert, with_index):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    for table, columns, indexed in TABLES:
        pk = _pk(table)
        select = ", ".join(quote(c) for c in columns)
        sets = [f"{quote(c)} = %s" for c in columns]
        if indexed and with_index:
            sets.append(f"{quote('id_number_index')} = %s")
        update = f"UPDATE {quote(table)} SET {', '.join(sets)} WHERE {quote(pk)} = %s"
        last = None
        while True:
            with connection.cursor() as cursor:
                where = f"WHERE {quote(pk)} > %s " if last is not None else ""
                cursor.execute(
                    f"SELECT {quote(pk)}, {select} FROM {quote(table)} {where}"
                    f"ORDER BY {quote(pk)} LIMIT {CHUNK}",
                    [last] if last is not None else [],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                changes = []
                for row in rows:
                    values = [convert(v) if v else v for v in row[1:]]
                    if indexed and with_index:
                        values.append(crypto.blind_index(values[0] or ""))
                    if values != list(row[1:]):
                        changes.append([*values, row[0]])
                if changes:
                    cursor.executemany(update, changes)


def encrypt_rows(apps, schema_editor):
    _rewrite(schema_editor, crypto.encrypt, with_index=True)


def decrypt_rows(apps, schema_editor):
    _rewrite(schema_editor, crypto.decrypt, with_index=False)


class Migration(migrations.Migration):

    dependencies = [
        ('households', '0014_rounds_move_to_their_app'),
        # The state must not hold povertyapp's RateSnapshot still pointing at the moved round.
        ('povertyapp', '0006_ratesnapshot_moves_to_rounds'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='member',
            name='member_id_number_active_unique',
        ),
        migrations.RemoveIndex(
            model_name='member',
            name='member_id_number_idx',
        ),
        migrations.AddField(
            model_name='historicalmember',
            name='id_number_index',
            field=povertyapp.crypto.BlindIndexField(source='id_number', verbose_name='证件号码索引'),
        ),
        migrations.AddField(
            model_name='member',
            name='id_number_index',
            field=povertyapp.crypto.BlindIndexField(source='id_number', verbose_name='证件号码索引'),
        ),
        migrations.AlterField(
            model_name='historicalhousehold',
            name='bank_account',
            field=povertyapp.crypto.EncryptedCharField(blank=True, max_length=32, verbose_name='银行账号'),
        ),
        migrations.AlterField(
            model_name='historicalmember',
            name='disability_certificate',
            field=povertyapp.crypto.EncryptedCharField(blank=True, max_length=32, verbose_name='残疾证号'),
        ),
        migrations.AlterField(
            model_name='historicalmember',
            name='id_number',
            field=povertyapp.crypto.EncryptedCharField(blank=True, max_length=32, verbose_name='证件号码'),
        ),
        migrations.AlterField(
            model_name='historicalmember',
            name='illness_name',
            field=povertyapp.crypto.EncryptedCharField(blank=True, max_length=64, verbose_name='患病名称'),
        ),
        AlterFieldInPlace(
            model_name='household',
            name='bank_account',
            field=povertyapp.crypto.EncryptedCharField(blank=True, max_length=32, verbose_name='银行账号'),
        ),
        migrations.AlterField(
            model_name='member',
            name='disability_certificate',
            field=povertyapp.crypto.EncryptedCharField(blank=True, max_length=32, verbose_name='残疾证号'),
        ),
        migrations.AlterField(
            model_name='member',
            name='id_number',
            field=povertyapp.crypto.EncryptedCharField(blank=True, max_length=32, verbose_name='证件号码'),
        ),
        migrations.AlterField(
            model_name='member',
            name='illness_name',
            field=povertyapp.crypto.EncryptedCharField(blank=True, max_length=64, verbose_name='患病名称'),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
        migrations.AddIndex(
            model_name='member',
            index=models.Index(fields=['id_number_index'], name='member_id_number_index_idx'),
        ),
        migrations.AddConstraint(
            model_name='member',
            constraint=models.UniqueConstraint(condition=models.Q(('is_active', True), models.Q(('id_number_index', ''), _negated=True)), fields=('id_number_index',), name='member_id_number_active_unique'),
        ),
    ]
