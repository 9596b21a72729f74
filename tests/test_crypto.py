"""storage.crypto: encryption round trip, keyed hashes, masking, rotation and the development key."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from storage.crypto import (
    Cipher,
    DecryptionError,
    dev_secret,
    mask_household_number,
    mask_id,
    mask_phone,
)

OLD = "old-secret-0123456789-abcdefghijklmnop"
NEW = "new-secret-0123456789-abcdefghijklmnop"
ID_NUMBER = "41022520090301123X"
PHONE = "13812345678"


def test_round_trip_and_no_clear_text() -> None:
    cipher = Cipher.from_secret(OLD)
    token = cipher.encrypt(ID_NUMBER)
    assert ID_NUMBER not in token
    assert cipher.decrypt(token) == ID_NUMBER
    assert cipher.encrypt(ID_NUMBER) != token  # a fresh IV each time: equal values do not show


def test_a_wrong_key_cannot_decrypt() -> None:
    token = Cipher.from_secret(OLD).encrypt(PHONE)
    with pytest.raises(DecryptionError) as caught:
        Cipher.from_secret(NEW).decrypt(token)
    assert PHONE not in str(caught.value) and token not in str(caught.value)


def test_short_or_missing_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        Cipher.from_secret("short")
    with pytest.raises(ValueError, match="no data key"):
        Cipher.from_secret([])


def test_repr_shows_no_key_material() -> None:
    assert repr(Cipher.from_secret([NEW, OLD])) == "<Cipher with 2 key(s)>"


def test_hashes_are_stable_normalised_and_keyed() -> None:
    cipher = Cipher.from_secret(OLD)
    value = cipher.lookup_hash("id_number", ID_NUMBER)
    assert value == Cipher.from_secret(OLD).lookup_hash("id_number", ID_NUMBER)  # stable across instances
    assert value == cipher.lookup_hash("id_number", " 410225 20090301 123x ")  # spaces, lower-case x
    assert value != Cipher.from_secret(NEW).lookup_hash("id_number", ID_NUMBER)  # keyed
    assert value != cipher.lookup_hash("household_number", ID_NUMBER)  # kind is part of the message
    assert len(value) == 64 and ID_NUMBER not in value
    with pytest.raises(ValueError, match="unknown kind"):
        cipher.lookup_hash("passport", "E123")


def test_hash_key_is_not_the_encryption_key() -> None:
    # Different HKDF labels: the stored hash cannot be used as, or derived from, a Fernet key.
    cipher = Cipher.from_secret(OLD)
    assert cipher.lookup_hash("phone", PHONE) not in cipher.encrypt(PHONE)


def test_rotation_first_key_encrypts_all_decrypt() -> None:
    old_token = Cipher.from_secret(OLD).encrypt(PHONE)
    rotating = Cipher.from_secret([NEW, OLD])
    assert rotating.decrypt(old_token) == PHONE
    new_token = rotating.rotate(old_token)
    assert Cipher.from_secret(NEW).decrypt(new_token) == PHONE  # the old key is no longer needed
    with pytest.raises(DecryptionError):
        Cipher.from_secret(OLD).decrypt(rotating.encrypt(PHONE))


def test_lookup_hashes_cover_every_key_first_key_first() -> None:
    rotating = Cipher.from_secret([NEW, OLD])
    assert rotating.lookup_hashes("phone", PHONE) == [
        Cipher.from_secret(NEW).lookup_hash("phone", PHONE),
        Cipher.from_secret(OLD).lookup_hash("phone", PHONE),
    ]
    assert rotating.lookup_hash("phone", PHONE) == rotating.lookup_hashes("phone", PHONE)[0]


@pytest.mark.parametrize(
    ("mask", "value", "shown"),
    [
        (mask_id, ID_NUMBER, "4102*************X"),
        (mask_id, "410225200903011234", "4102*************4"),
        (mask_phone, PHONE, "*******5678"),
        (mask_household_number, "4102251002010001", "4102************"),
        (mask_phone, "1234", "****"),  # too short to show any of it
    ],
)
def test_masks(mask, value: str, shown: str) -> None:
    assert mask(value) == shown


def test_dev_secret_is_created_once_private_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="storage.crypto"):
        first = dev_secret(tmp_path / "data")
    path = tmp_path / "data" / "data.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dev_secret(tmp_path / "data") == first
    assert "production must set DATA_KEY" in caplog.text
    assert first not in caplog.text
    Cipher.from_secret(first)  # long enough to be used


def test_a_damaged_dev_key_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "data.key").write_text("x\n")
    with pytest.raises(ValueError, match=r"data\.key"):
        dev_secret(tmp_path)


def test_settings_split_the_data_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.core.settings import SettingsError, load_settings

    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    settings = load_settings(data_key=f" {NEW} , {OLD},", data_dir=tmp_path)
    assert settings.cipher_secrets() == [NEW, OLD]
    with pytest.raises(SettingsError, match="DATA_KEY"):
        load_settings(data_key="too-short")
    unset = load_settings(data_key="", data_dir=tmp_path)
    assert unset.cipher_secrets() == [dev_secret(tmp_path)]
