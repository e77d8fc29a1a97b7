"""Encryption of personal data at rest (等保 2.0 数据保密性): encrypted model fields and a
keyed blind index.

A value is stored as a self-describing text, so that keys can be rotated and algorithms mixed:

    enc1:<algorithm>:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>

`algorithm` is `aes256gcm` (AES-256-GCM, the default) or `sm4gcm` (SM4-GCM, 国密, chosen by
FIELD_ENCRYPTION_ALGORITHM); the header `enc1:<algorithm>:<key id>` is the associated data, so
it cannot be altered either. The empty string is stored as it is (whether a value is filled in
is not secret, and the figures count it in SQL); a value without the `enc1:` prefix is a plain
value written before the encryption migration and is read as it is.

Keys live outside the database: FIELD_ENCRYPTION_KEYS (`key-id:base64-of-32-bytes`, comma
separated, the first one encrypts) or FIELD_ENCRYPTION_KEY_FILE (one such line per key), and a
separate BLIND_INDEX_KEY for the blind index (HMAC-SHA256 of the normalised value), which keeps
exact search and uniqueness working on an encrypted column; the same key digests the
two-factor backup codes (`backup_code_digest`), which are stored only so. Without them
(development, tests, the demo) fixed development keys are used, whose names say so;
production refuses to start without real keys (settings.py).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver

PREFIX = "enc1:"
AES = "aes256gcm"
SM4 = "sm4gcm"
ALGORITHMS = {"aes-256-gcm": AES, "sm4-gcm": SM4}
NONCE_BYTES = 12
TAG_BYTES = 16
# Blind index: the first 16 bytes of the HMAC, hex (128 bits: no collision among any number of
# people a county, or a country, registers).
BLIND_INDEX_LENGTH = 32

# Development keys (no FIELD_ENCRYPTION_KEYS / BLIND_INDEX_KEY): fixed and public, so the demo
# and the tests run without configuration; production refuses them (settings.py).
DEVELOPMENT_KEY_ID = "dev"
DEVELOPMENT_FIELD_KEY = hashlib.sha256(
    b"poverty development field key, NOT FOR PRODUCTION"
).digest()
DEVELOPMENT_BLIND_INDEX_KEY = hashlib.sha256(
    b"poverty development blind index key, NOT FOR PRODUCTION"
).digest()


class DecryptionError(ValueError):
    """A stored value cannot be decrypted: its key is not configured, or the value or key is
    wrong (authentication failed). Never silently returned as data."""


def parse_key_line(line: str) -> tuple[str, bytes]:
    """`key-id:base64` → (key id, 32 key bytes); ImproperlyConfigured with the reason."""
    key_id, sep, encoded = line.strip().partition(":")
    key_id = key_id.strip()
    if not sep or not key_id or not key_id.isascii() or not key_id.replace("-", "").isalnum():
        raise ImproperlyConfigured(
            "A field encryption key is 'key-id:base64' with a key id of letters, digits and "
            f"dashes (got {line.strip()[:12]!r}…)."
        )
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImproperlyConfigured(f"Field encryption key {key_id!r} is not base64.") from error
    if len(key) != 32:
        raise ImproperlyConfigured(
            f"Field encryption key {key_id!r} must be 32 bytes (256 bits), not {len(key)}."
        )
    return key_id, key


def key_lines_from_settings() -> list[str]:
    lines = [line for line in getattr(settings, "FIELD_ENCRYPTION_KEYS", []) if line.strip()]
    key_file = getattr(settings, "FIELD_ENCRYPTION_KEY_FILE", "")
    if key_file:
        try:
            text = Path(key_file).read_text(encoding="ascii")
        except OSError as error:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEY_FILE {key_file} cannot be read: {error}"
            ) from error
        lines += [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return lines


def generate_key_line(key_id: str) -> str:
    """A new random key, as a line for FIELD_ENCRYPTION_KEYS or the key file."""
    line = f"{key_id}:{base64.b64encode(os.urandom(32)).decode('ascii')}"
    parse_key_line(line)  # the key id is checked
    return line


def _sm4_key(key: bytes) -> bytes:
    """SM4 takes 128-bit keys: derived once per key (HKDF-SHA256), never per value."""
    return HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=b"sm4-gcm field key").derive(
        key
    )


@dataclass(frozen=True)
class Keyring:
    """The configured keys, parsed once (per settings change): the first one encrypts."""

    algorithm: str
    current: str
    keys: dict[str, bytes]
    aes: dict[str, AESGCM]
    sm4: dict[str, bytes]
    blind_index_key: bytes

    def encrypt(self, plain: str) -> str:
        data = plain.encode("utf-8")
        nonce = os.urandom(NONCE_BYTES)
        header = f"{PREFIX}{self.algorithm}:{self.current}"
        aad = header.encode("ascii")
        if self.algorithm == AES:
            sealed = self.aes[self.current].encrypt(nonce, data, aad)
        else:
            encryptor = Cipher(algorithms.SM4(self.sm4[self.current]), modes.GCM(nonce)).encryptor()
            encryptor.authenticate_additional_data(aad)
            sealed = encryptor.update(data) + encryptor.finalize() + encryptor.tag
        return f"{header}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, stored: str) -> str:
        try:
            algorithm, key_id, body = stored[len(PREFIX) :].split(":", 2)
            raw = base64.b64decode(body, validate=True)
        except (ValueError, binascii.Error) as error:
            raise DecryptionError(
                "The stored value is not a well-formed encrypted value."
            ) from error
        if key_id not in self.keys:
            raise DecryptionError(
                f"The value was encrypted with key {key_id!r}, which is not configured "
                "(FIELD_ENCRYPTION_KEYS / FIELD_ENCRYPTION_KEY_FILE): restore that key."
            )
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("The stored encrypted value is truncated.")
        nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        aad = f"{PREFIX}{algorithm}:{key_id}".encode("ascii")
        try:
            if algorithm == AES:
                data = self.aes[key_id].decrypt(nonce, sealed, aad)
            elif algorithm == SM4:
                decryptor = Cipher(
                    algorithms.SM4(self.sm4[key_id]), modes.GCM(nonce, sealed[-TAG_BYTES:])
                ).decryptor()
                decryptor.authenticate_additional_data(aad)
                data = decryptor.update(sealed[:-TAG_BYTES]) + decryptor.finalize()
            else:
                raise DecryptionError(f"Unknown encryption algorithm {algorithm!r}.")
        except InvalidTag as error:
            raise DecryptionError(
                f"The value does not authenticate under key {key_id!r}: the key is wrong or "
                "the stored value was altered."
            ) from error
        return data.decode("utf-8")

    def blind_index(self, plain: str) -> str:
        normal = "".join(plain.split()).upper()
        if not normal:
            return ""
        digest = hmac.new(self.blind_index_key, normal.encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()[:BLIND_INDEX_LENGTH]


def build_keyring(*, algorithm: str, key_lines: list[str], blind_index_key: str | bytes) -> Keyring:
    if algorithm not in ALGORITHMS:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_ALGORITHM must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}."
        )
    keys: dict[str, bytes] = {}
    for line in key_lines:
        key_id, key = parse_key_line(line)
        if key_id in keys:
            raise ImproperlyConfigured(f"Field encryption key id {key_id!r} is given twice.")
        keys[key_id] = key
    if not keys:
        keys[DEVELOPMENT_KEY_ID] = DEVELOPMENT_FIELD_KEY
    elif not getattr(settings, "PRODUCTION", False):
        # Outside production, rows written with the development key (a demo database given
        # real keys) stay readable until `rotate_encryption_key` has re-encrypted them.
        keys.setdefault(DEVELOPMENT_KEY_ID, DEVELOPMENT_FIELD_KEY)
    current = next(iter(keys))
    if isinstance(blind_index_key, str):
        blind_index_key = blind_index_key.encode("utf-8")
    return Keyring(
        algorithm=ALGORITHMS[algorithm],
        current=current,
        keys=keys,
        aes={key_id: AESGCM(key) for key_id, key in keys.items()},
        sm4={key_id: _sm4_key(key) for key_id, key in keys.items()},
        blind_index_key=blind_index_key or DEVELOPMENT_BLIND_INDEX_KEY,
    )


@functools.cache
def keyring() -> Keyring:
    return build_keyring(
        algorithm=getattr(settings, "FIELD_ENCRYPTION_ALGORITHM", "aes-256-gcm"),
        key_lines=key_lines_from_settings(),
        blind_index_key=getattr(settings, "BLIND_INDEX_KEY", ""),
    )


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("FIELD_ENCRYPTION") or setting == "BLIND_INDEX_KEY":
        keyring.cache_clear()


def is_encrypted(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt(value: str) -> str:
    """The stored form of a value: the empty string stays empty; an already encrypted value is
    kept (so a value read raw and written back is not encrypted twice)."""
    if not value or value.startswith(PREFIX):
        return value
    if getattr(settings, "FIELD_ENCRYPTION_PLAINTEXT", False):  # the benchmark's baseline only
        return value
    return keyring().encrypt(value)


def decrypt(value: str | None) -> str | None:
    """The plain value; a plain (not yet migrated) value is returned as it is."""
    if value is None or not value.startswith(PREFIX):
        return value
    return keyring().decrypt(value)


def blind_index(value: str | None) -> str:
    """The keyed blind index of a value (HMAC-SHA256, whitespace removed, upper case); ''
    for an empty value."""
    if not value:
        return ""
    return keyring().blind_index(decrypt(value) or "")


# Backup codes (备用验证码, django-otp's StaticToken) are stored as the first 16 hex characters
# of a keyed HMAC: 64 bits, to fit django-otp's 16-character column. That is enough here: the
# key (BLIND_INDEX_KEY) is not in the database, so a copy of the database alone cannot test a
# single guess, and a guess at the sign-in page is throttled and locks the device after
# SECOND_FACTOR_FAILURE_LIMIT wrong codes. A purpose label keeps these digests apart from the
# ID numbers' blind index under the same key.
BACKUP_CODE_DIGEST_LENGTH = 16
BACKUP_CODE_DIGEST = re.compile(rf"[0-9a-f]{{{BACKUP_CODE_DIGEST_LENGTH}}}")
BACKUP_CODE_PURPOSE = "backup-code:"


def backup_code_digest(code: str) -> str:
    """The stored form of a backup code: its keyed digest, 16 lowercase hex characters. Spaces,
    hyphens and case do not count (a code read aloud, grouped or typed in capitals is the same
    code)."""
    normal = re.sub(r"[\s-]", "", code or "")
    return keyring().blind_index(BACKUP_CODE_PURPOSE + normal)[:BACKUP_CODE_DIGEST_LENGTH]


def is_backup_code_digest(stored: str) -> bool:
    """Whether a stored token is already a digest (django-otp's own plain codes are 8 lowercase
    base32 characters, never 16 hex ones)."""
    return BACKUP_CODE_DIGEST.fullmatch(stored) is not None


def key_id_of(stored: str) -> str | None:
    if not is_encrypted(stored):
        return None
    return stored[len(PREFIX) :].split(":", 2)[1]


def needs_rotation(stored: str | None) -> bool:
    """The stored value is plain or under another key or algorithm than the current ones."""
    if not stored:
        return False
    ring = keyring()
    return not stored.startswith(f"{PREFIX}{ring.algorithm}:{ring.current}:")


class EncryptedCharField(models.CharField):
    """A CharField stored encrypted (see the module's docstring). `max_length` limits the plain
    value (forms, validation); the column is text. Only `isnull` and `= ''` can be asked of it
    in SQL: an exact search goes through a BlindIndexField."""

    description = "Text encrypted at rest (AES-256-GCM or SM4-GCM)"

    def get_internal_type(self) -> str:
        return "TextField"

    def db_type(self, connection: Any) -> str | None:
        return models.TextField().db_type(connection)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or not value.startswith(PREFIX):
            return value
        return keyring().decrypt(value)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if prepared:  # a lookup's right-hand side: only '' gets here (see get_lookup)
            return value
        value = self.get_prep_value(value)
        if value is None:
            return None
        return encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return EncryptedExact
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"The encrypted field {self.name!r} cannot be searched with '{lookup_name}': "
            "search its blind index for an exact value."
        )

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"The encrypted field {self.name!r} has no '{lookup_name}' transform.")


class EncryptedExact(models.lookups.Exact):
    """`field = ''` only (is the value filled in); any other value cannot match a ciphertext."""

    def get_prep_lookup(self) -> Any:
        if isinstance(self.rhs, str) and self.rhs == "":
            return self.rhs
        raise FieldError(
            f"The encrypted field {self.lhs.target.name!r} can only be compared with '': "
            "search its blind index for an exact value."
        )


class BlindIndexField(models.CharField):
    """The keyed blind index of another field of the row (`source`), kept in step on every
    save and bulk_create (pre_save, as auto_now does); a queryset filters on it with
    `field=blind_index(value)`."""

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", BLIND_INDEX_LENGTH)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, default in (("max_length", BLIND_INDEX_LENGTH), ("blank", True)):
            if kwargs.get(key) == default:
                del kwargs[key]
        if kwargs.get("default") == "":
            del kwargs["default"]
        if kwargs.get("editable") is False:
            del kwargs["editable"]
        else:
            kwargs["editable"] = True
        return name, path, args, kwargs

    def compute(self, instance: models.Model) -> str:
        return blind_index(getattr(instance, self.source))

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value


# --- Key rotation (`manage.py rotate_encryption_key`) ---------------------------------------

# JSON columns that hold encrypted values among other data ("app_label.Model", field name):
# registered by the app that writes them (e.g. rounds: a pending line's new ID number).
_ENCRYPTED_JSON: list[tuple[str, str]] = []


def register_encrypted_json(model_label: str, field: str) -> None:
    if (model_label, field) not in _ENCRYPTED_JSON:
        _ENCRYPTED_JSON.append((model_label, field))


def _reencrypt(value: Any) -> Any:
    """A JSON value with every encrypted string re-encrypted under the current key."""
    if isinstance(value, str):
        return (
            encrypt(decrypt(value) or "")
            if is_encrypted(value) and needs_rotation(value)
            else value
        )
    if isinstance(value, list):
        return [_reencrypt(item) for item in value]
    if isinstance(value, dict):
        return {key: _reencrypt(item) for key, item in value.items()}
    return value


@dataclass
class RotationCount:
    table: str
    rows: int = 0
    rewritten: int = 0


def _column(field: Any) -> str:
    return str(field.column)


def encrypted_columns() -> list[tuple[type[models.Model], list[str], list[BlindIndexField]]]:
    """Every model with encrypted columns (simple_history's copies included): the model, its
    encrypted columns and its blind indexes."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedCharField)]
        indexes = [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
        if fields:
            found.append((model, [_column(f) for f in fields], indexes))
    return found


def rotate(
    *, chunk: int = 2000, reindex: bool = False, progress: Any = None
) -> list[RotationCount]:
    """Re-encrypt every encrypted value that is plain or under another key or algorithm than
    the current ones, chunk by chunk (each chunk its own transaction: an interrupted run is
    resumed by running it again; rows already current are only read). With `reindex`, the
    blind indexes are recomputed as well (after BLIND_INDEX_KEY changed)."""
    from django.apps import apps
    from django.db import connection, transaction

    quote = connection.ops.quote_name
    counts = []
    jobs: list[tuple[type[models.Model], list[str], list[BlindIndexField], bool]] = [
        (model, columns, indexes, False) for model, columns, indexes in encrypted_columns()
    ]
    for label, field in _ENCRYPTED_JSON:
        model = apps.get_model(label)
        jobs.append((model, [_column(model._meta.get_field(field))], [], True))
    for model, columns, indexes, is_json in jobs:
        table = model._meta.db_table
        pk = _column(model._meta.pk)
        count = RotationCount(table=table)
        sources = {_column(f): _column(model._meta.get_field(f.source)) for f in indexes}
        index_columns = list(sources) if reindex else []
        last: Any = None
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                where = f"WHERE {quote(pk)} > %s " if last is not None else ""
                cursor.execute(
                    f"SELECT {quote(pk)}, {', '.join(quote(c) for c in columns + index_columns)} "
                    f"FROM {quote(table)} {where}ORDER BY {quote(pk)} LIMIT {int(chunk)}",
                    [last] if last is not None else [],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                changes = []
                for row in rows:
                    values = dict(zip(columns + index_columns, row[1:], strict=True))
                    new = dict(values)
                    for column in columns:
                        value = values[column]
                        if is_json:
                            if value is not None:
                                data = json.loads(value) if isinstance(value, str) else value
                                rotated = _reencrypt(data)
                                if rotated != data:
                                    new[column] = json.dumps(rotated, ensure_ascii=False)
                        elif value and needs_rotation(value):
                            new[column] = encrypt(decrypt(value) or "")
                    for column in index_columns:
                        source = values[sources[column]]
                        new[column] = blind_index(source) if source else ""
                    if new != values:
                        changes.append((row[0], {c: v for c, v in new.items() if v != values[c]}))
                for key, changed in changes:
                    sets = ", ".join(f"{quote(c)} = %s" for c in changed)
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {sets} WHERE {quote(pk)} = %s",
                        [*changed.values(), key],
                    )
                count.rows += len(rows)
                count.rewritten += len(changes)
            if progress is not None:
                progress(count)
        counts.append(count)
    return counts
