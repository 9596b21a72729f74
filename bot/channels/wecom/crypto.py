"""The callback crypto WeCom uses for the app, 微信客服 and URL verification.

msg_signature = sha1 of the sorted (token, timestamp, nonce, encrypt) strings. The body is
AES-256-CBC with IV = key[:16], PKCS#7 padded to 32-byte blocks, of
random(16) ‖ len(msg) as 4 bytes big-endian ‖ msg ‖ receive_id (the CorpID).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16
AES_KEY_CHARS = 43
RANDOM_PREFIX = 16


class CallbackRejected(ValueError):
    """A callback that is not from WeCom (bad signature, receive id, padding or shape)."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """The msg_signature of a callback."""
    return hashlib.sha1("".join(sorted((token, timestamp, nonce, encrypt))).encode()).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of a 43-character EncodingAESKey."""
    if len(encoding_aes_key) != AES_KEY_CHARS:
        raise ValueError(f"EncodingAESKey must be {AES_KEY_CHARS} characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise ValueError("EncodingAESKey does not decode to 32 bytes")
    return key


def _pad(data: bytes) -> bytes:
    """PKCS#7 to a multiple of 32 bytes (a full block when already aligned)."""
    amount = BLOCK - len(data) % BLOCK
    return data + bytes([amount]) * amount


def _unpad(data: bytes) -> bytes:
    """Undo _pad; padding outside 1..32 is refused."""
    if not data:
        raise CallbackRejected("empty plaintext")
    amount = data[-1]
    if not 1 <= amount <= BLOCK or amount > len(data):
        raise CallbackRejected("bad padding")
    return data[:-amount]


class CallbackCrypto:
    """Sign, check, encrypt and decrypt callbacks of one app (token, key, receive id)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        self.token = token
        self.key = aes_key(encoding_aes_key)
        self.receive_id = receive_id.encode()

    def __repr__(self) -> str:
        return "CallbackCrypto(<secret>)"

    def check(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        """Raise CallbackRejected unless the signature is right (compared in constant time)."""
        expected = signature(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected.encode(), msg_signature.encode()):
            raise CallbackRejected("bad signature")

    def decrypt(self, encrypt: str) -> str:
        """The message inside `encrypt`; raises CallbackRejected for anything malformed."""
        try:
            raw = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise CallbackRejected("not base64") from None
        if not raw or len(raw) % 16:
            raise CallbackRejected("not whole AES blocks")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        plain = _unpad(decryptor.update(raw) + decryptor.finalize())
        if len(plain) < RANDOM_PREFIX + 4:
            raise CallbackRejected("too short")
        (length,) = struct.unpack(">I", plain[RANDOM_PREFIX : RANDOM_PREFIX + 4])
        body = plain[RANDOM_PREFIX + 4 :]
        if length > len(body):
            raise CallbackRejected("length beyond the message")
        message, receive_id = body[:length], body[length:]
        if not hmac.compare_digest(receive_id, self.receive_id):
            raise CallbackRejected("wrong receive id")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError:
            raise CallbackRejected("not UTF-8") from None

    def encrypt(self, message: str, prefix: bytes | None = None) -> str:
        """`message` encrypted for a callback (the fake server and passive replies use it)."""
        prefix = os.urandom(RANDOM_PREFIX) if prefix is None else prefix
        data = message.encode("utf-8")
        plain = _pad(prefix + struct.pack(">I", len(data)) + data + self.receive_id)
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def sign(self, timestamp: str, nonce: str, encrypt: str) -> str:
        """The msg_signature for an encrypted body."""
        return signature(self.token, timestamp, nonce, encrypt)

    def open(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> str:
        """Check, then decrypt."""
        self.check(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)
