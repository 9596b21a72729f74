"""Personal numbers at rest: encryption, keyed lookup hashes and masking.

Resident ID numbers, phone numbers and household numbers are stored only as Fernet tokens
(AES-128-CBC + HMAC-SHA256, from the `cryptography` package). To find a person or household
again without decrypting every row, each number also gets a keyed hash (HMAC-SHA256) that is
stored in a unique index. Both keys are derived from one secret with HKDF, under different
`info` labels, so the hash key is never the encryption key.

The secret is the DATA_KEY setting; it must never be committed. Production must set it
(generate one with `python -c "import secrets; print(secrets.token_urlsafe(32))"`); without it,
`dev_secret` creates a development key file beside the SQLite database and logs a warning.

Key rotation: DATA_KEY may list several secrets, comma-separated. The first one encrypts and
keys the lookup hashes; all of them decrypt (MultiFernet). `lookup_hashes` returns the hash
under every secret, so lookups keep finding rows hashed with an older secret until
`storage.repositories.keys.rotate_keys` has run. That function decrypts every number (which
any listed secret can do), re-encrypts it with the first secret and re-computes its hash from
the plain value. After it has run, the old secret can be removed from DATA_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.files import private_dir

log = logging.getLogger(__name__)

MIN_SECRET_LENGTH = 32  # characters; token_urlsafe(32) gives 43
DEV_KEY_FILE = "data.key"
_SALT = b"village-outreach-bot/data-key"
_FERNET_INFO = b"fernet-v1"
_HASH_INFO = b"lookup-hash-v1"
_CHECK_LABEL = b"village-outreach-bot/key-check-v1"
KINDS = ("id_number", "phone", "household_number")
# Weak secrets are refused: a long run of one character, or too few different characters.
MIN_DISTINCT_CHARACTERS = 10


class DecryptionError(ValueError):
    """A token that none of the configured secrets can open (wrong DATA_KEY, or a damaged value)."""


def _derive(secret: str, info: bytes) -> bytes:
    """32 bytes derived from `secret` for one purpose."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(secret.encode("utf-8"))


def _secrets_list(secret: str | Sequence[str]) -> list[str]:
    """One secret or a list of them, checked: non-empty and long enough."""
    items = [secret] if isinstance(secret, str) else list(secret)
    if not items:
        raise ValueError("no data key given")
    for item in items:
        problem = weak_secret(item)
        if problem:
            raise ValueError(problem)
    return items


def weak_secret(secret: str) -> str | None:
    """Why a DATA_KEY secret is too weak to use (a one-line reason), or None when it will do."""
    if len(secret) < MIN_SECRET_LENGTH:
        return f"each key must be at least {MIN_SECRET_LENGTH} characters long"
    if len(set(secret)) < MIN_DISTINCT_CHARACTERS:
        return (
            f"each key needs at least {MIN_DISTINCT_CHARACTERS} different characters "
            '(make one with: python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    return None


def normalise(value: str) -> str:
    """A number as it is hashed and stored: no whitespace, upper case (the ID's check letter X)."""
    return "".join(value.split()).upper()


class Cipher:
    """Encrypts, decrypts and hashes personal numbers with keys derived from the DATA_KEY secrets."""

    __slots__ = ("_fernet", "_hash_keys")

    def __init__(self, fernet_keys: Sequence[bytes], hash_keys: Sequence[bytes]) -> None:
        """Use derived keys; prefer `Cipher.from_secret`."""
        self._fernet = MultiFernet([Fernet(base64.urlsafe_b64encode(key)) for key in fernet_keys])
        self._hash_keys = tuple(hash_keys)

    def __repr__(self) -> str:
        """Never show key material."""
        return f"<Cipher with {len(self._hash_keys)} key(s)>"

    @classmethod
    def from_secret(cls, secret: str | Sequence[str]) -> Cipher:
        """A Cipher for one secret, or for a list (the first encrypts and hashes, all decrypt)."""
        items = _secrets_list(secret)
        return cls(
            [_derive(item, _FERNET_INFO) for item in items], [_derive(item, _HASH_INFO) for item in items]
        )

    def encrypt(self, text: str) -> str:
        """A token for `text`, under the first secret."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The text inside a token made under any of the secrets."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise DecryptionError("cannot decrypt a stored value: is DATA_KEY the right key?") from None

    def rotate(self, token: str) -> str:
        """The same text re-encrypted under the first secret."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise DecryptionError("cannot decrypt a stored value: is DATA_KEY the right key?") from None

    def lookup_hash(self, kind: str, value: str) -> str:
        """The keyed hash (hex) of a normalised number under the first secret, for storing."""
        return self._hash(self._hash_keys[0], kind, value)

    def lookup_hashes(self, kind: str, value: str) -> list[str]:
        """The hash under every secret, first secret first, for finding rows during a rotation."""
        return list(dict.fromkeys(self._hash(key, kind, value) for key in self._hash_keys))

    def key_check(self) -> str:
        """The check value of the first secret, stored with the data it seals."""
        return hmac.new(self._hash_keys[0], _CHECK_LABEL, hashlib.sha256).hexdigest()

    def key_checks(self) -> list[str]:
        """The check value of every secret: a stored one outside this list means a wrong DATA_KEY."""
        return [hmac.new(key, _CHECK_LABEL, hashlib.sha256).hexdigest() for key in self._hash_keys]

    def seal_date(self, value: date | None) -> str | None:
        """A date (a birth date) as a token."""
        return self.encrypt(value.isoformat()) if value is not None else None

    def open_date(self, token: str | None) -> date | None:
        """The date inside a token made by `seal_date`."""
        return date.fromisoformat(self.decrypt(token)) if token else None

    @staticmethod
    def _hash(key: bytes, kind: str, value: str) -> str:
        """HMAC-SHA256 over kind and value: the same digits as a phone and an ID never match."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind of number {kind!r}")
        message = f"{kind}:{normalise(value)}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- masking


def _mask(value: str, head: int, tail: int) -> str:
    """Keep `head` and `tail` characters; too short a value is masked entirely."""
    text = normalise(value)
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


def mask_id(value: str) -> str:
    """A resident ID as shown to people: 4102*************X.

    The sequence digits (15-17) are hidden too: with the village (the region), the age and the
    sex, about 16,000 checksum-valid numbers fit this mask (tests/test_masks.py counts them).
    """
    return _mask(value, 4, 1)


def mask_phone(value: str) -> str:
    """A mobile number as shown to people: the last four digits, *******5678 (700,000 fit)."""
    return _mask(value, 0, 4)


def mask_household_number(value: str) -> str:
    """A household number as shown to people: the first 4 characters (it starts with the village code)."""
    return _mask(value, 4, 0) if len(normalise(value)) >= 8 else "*" * len(normalise(value))


# ---------------------------------------------------------------- development key


def dev_secret(data_dir: str | Path) -> str:
    """The development secret in `data_dir/data.key`, created (mode 0600) on first use; always warns."""
    path = Path(data_dir) / DEV_KEY_FILE
    private_dir(path.parent)
    try:
        # O_EXCL: two processes starting together must not each write a different key.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)  # a file made by an older version may be readable by others
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"{path}: not a valid data key (delete it only if no data was stored)") from None
    else:
        secret = secrets.token_urlsafe(32)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secret + "\n")
    log.warning("DATA_KEY is not set: using the development key in %s; production must set DATA_KEY", path)
    return secret
