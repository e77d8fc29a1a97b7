"""Encryption at rest (issue 14, 数据保密性): povertyapp.crypto's values, keys and blind index."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command

from povertyapp import crypto

ROOT = Path(__file__).resolve().parents[2]
ID = "522622198005170011"


def _key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


@pytest.mark.parametrize("algorithm", ["aes-256-gcm", "sm4-gcm"])
def test_round_trip_of_both_algorithms(settings, algorithm):
    settings.FIELD_ENCRYPTION_ALGORITHM = algorithm
    settings.FIELD_ENCRYPTION_KEYS = [_key("k1")]
    stored = crypto.encrypt(ID)
    tag = "aes256gcm" if algorithm == "aes-256-gcm" else "sm4gcm"
    assert stored.startswith(f"enc1:{tag}:k1:")
    assert ID not in stored
    assert crypto.decrypt(stored) == ID
    # A fresh nonce each time: the same ID never gives the same text (no frequency analysis).
    assert crypto.encrypt(ID) != stored
    # Unicode (an illness name) survives.
    assert crypto.decrypt(crypto.encrypt("慢性阻塞性肺疾病")) == "慢性阻塞性肺疾病"


def test_mixed_algorithms_and_keys_read_side_by_side(settings):
    old, new = _key("old"), _key("new")
    settings.FIELD_ENCRYPTION_KEYS = [old]
    settings.FIELD_ENCRYPTION_ALGORITHM = "sm4-gcm"
    sm4_value = crypto.encrypt(ID)
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    settings.FIELD_ENCRYPTION_ALGORITHM = "aes-256-gcm"
    aes_value = crypto.encrypt(ID)
    assert crypto.key_id_of(aes_value) == "new"
    assert crypto.decrypt(sm4_value) == crypto.decrypt(aes_value) == ID
    assert crypto.needs_rotation(sm4_value) and not crypto.needs_rotation(aes_value)


def test_empty_and_legacy_plain_values(settings):
    assert crypto.encrypt("") == ""
    # A value written before the migration is read as it is (and needs rotating).
    assert crypto.decrypt(ID) == ID
    assert crypto.needs_rotation(ID)
    # Encrypting an encrypted value does not wrap it twice.
    stored = crypto.encrypt(ID)
    assert crypto.encrypt(stored) == stored


def test_a_wrong_key_is_a_clear_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = [_key("k1")]
    stored = crypto.encrypt(ID)
    settings.FIELD_ENCRYPTION_KEYS = [_key("k1")]  # same id, other key
    with pytest.raises(crypto.DecryptionError, match="key is wrong or the stored value was"):
        crypto.decrypt(stored)
    settings.FIELD_ENCRYPTION_KEYS = [_key("k2")]
    with pytest.raises(crypto.DecryptionError, match="'k1', which is not configured"):
        crypto.decrypt(stored)


@pytest.mark.parametrize("algorithm", ["aes-256-gcm", "sm4-gcm"])
def test_a_tampered_value_or_header_is_refused(settings, algorithm):
    settings.FIELD_ENCRYPTION_ALGORITHM = algorithm
    stored = crypto.encrypt(ID)
    header, body = stored.rsplit(":", 1)
    raw = bytearray(base64.b64decode(body))
    raw[-20] ^= 1
    with pytest.raises(crypto.DecryptionError, match="altered"):
        crypto.decrypt(f"{header}:{base64.b64encode(bytes(raw)).decode()}")
    with pytest.raises(crypto.DecryptionError, match="truncated"):
        crypto.decrypt(f"{header}:{base64.b64encode(bytes(raw[:20])).decode()}")
    with pytest.raises(crypto.DecryptionError, match="well-formed"):
        crypto.decrypt("enc1:garbage")


def test_blind_index_is_keyed_exact_and_normalised(settings):
    index = crypto.blind_index(ID)
    assert len(index) == crypto.BLIND_INDEX_LENGTH
    assert crypto.blind_index(f" {ID[:-1]}x ") == crypto.blind_index(ID[:-1] + "X")
    assert crypto.blind_index(ID[:-1] + "2") != index
    assert crypto.blind_index("") == ""
    # Of the plain value, whatever its stored form.
    assert crypto.blind_index(crypto.encrypt(ID)) == index
    settings.BLIND_INDEX_KEY = secrets.token_urlsafe(48)
    assert crypto.blind_index(ID) != index


def test_keys_are_checked(settings, tmp_path):
    for bad in ["nokey", "k1:not base64!", "k1:" + base64.b64encode(b"short").decode()]:
        settings.FIELD_ENCRYPTION_KEYS = [bad]
        with pytest.raises(ImproperlyConfigured):
            crypto.keyring()
    settings.FIELD_ENCRYPTION_KEYS = [_key("k1"), _key("k1")]
    with pytest.raises(ImproperlyConfigured, match="given twice"):
        crypto.keyring()
    key_file = tmp_path / "keys"
    key_file.write_text(f"# current first\n{_key('file2')}\n{_key('file1')}\n")
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.FIELD_ENCRYPTION_KEY_FILE = str(key_file)
    assert crypto.keyring().current == "file2"
    settings.FIELD_ENCRYPTION_KEY_FILE = str(tmp_path / "missing")
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        crypto.keyring()


def test_generate_encryption_key_prints_a_usable_line(capsys, settings):
    call_command("generate_encryption_key", "k2027")
    line = capsys.readouterr().out.strip()
    key_id, key = crypto.parse_key_line(line)
    assert key_id == "k2027" and len(key) == 32
    settings.FIELD_ENCRYPTION_KEYS = [line]
    assert crypto.decrypt(crypto.encrypt(ID)) == ID


def test_encrypted_field_refuses_searches_that_cannot_work():
    from django.contrib.auth import get_user_model

    field = crypto.EncryptedCharField(max_length=32)
    field.set_attributes_from_name("secret")
    for lookup in ("icontains", "startswith", "in", "gt"):
        with pytest.raises(FieldError, match="blind index"):
            field.get_lookup(lookup)
    assert get_user_model()  # the app registry is loaded: the lookup classes are real
    assert field.get_lookup("isnull") is not None


def _production(**extra: str) -> subprocess.CompletedProcess[str]:
    from tests.production_env import production_env

    # Without keys unless the test gives them: what is refused is their absence.
    env = production_env(**{"FIELD_ENCRYPTION_KEYS": "", "BLIND_INDEX_KEY": "", **extra})
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_to_start_without_real_keys():
    if (ROOT / ".env").exists():
        pytest.skip(".env in the project root would supply settings to the subprocess")
    result = _production(BLIND_INDEX_KEY=secrets.token_urlsafe(48))
    assert result.returncode != 0
    assert "Production needs FIELD_ENCRYPTION_KEYS" in result.stderr
    result = _production(FIELD_ENCRYPTION_KEYS=_key("k1"))
    assert result.returncode != 0
    assert "Production needs BLIND_INDEX_KEY" in result.stderr
    result = _production(
        FIELD_ENCRYPTION_KEYS=_key("k1"),
        BLIND_INDEX_KEY=secrets.token_urlsafe(48),
        FIELD_ENCRYPTION_PLAINTEXT="true",
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_PLAINTEXT" in result.stderr
