"""The WeCom callback crypto: known-answer vectors, round trips, and what it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.wecom.crypto import CallbackCrypto, CallbackRejected, aes_key, signature
from bot.channels.wecom.envelope import MAX_BODY_BYTES, message_fields, outer_encrypt, to_xml

# Known-answer vectors published with wechatpy's tests (tests/test_crypto.py), made with
# Tencent's reference implementation.
TOKEN = "123456"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
CORP_ID = "wx49f0ab532d5d035a"
ECHO = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
ECHO_SIGNATURE, ECHO_TIMESTAMP, ECHO_NONCE = (
    "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96",
    "1411443780",
    "437374425",
)
MESSAGE_ENCRYPT = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283d"
    "Gymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwB"
    "iT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54S"
    "NdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91"
    "eBdCRxthuL0="
)
MESSAGE_SIGNATURE, MESSAGE_TIMESTAMP, MESSAGE_NONCE = (
    "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
    "1411525903",
    "461056294",
)
REPLY = (
    "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
    "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n"
    "<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>"
)
REPLY_ENCRYPT = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURn"
    "AtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oy"
    "KQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkd"
    "Q39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)
REPLY_SIGNATURE = "407518b7649e86ef23978113f92d27afa9296533"


@pytest.fixture
def crypto() -> CallbackCrypto:
    return CallbackCrypto(TOKEN, AES_KEY, CORP_ID)


def test_url_verification_vector(crypto):
    assert crypto.open(ECHO_SIGNATURE, ECHO_TIMESTAMP, ECHO_NONCE, ECHO) == "5927782489442352469"


def test_message_vector_decrypts(crypto):
    fields = message_fields(crypto.open(MESSAGE_SIGNATURE, MESSAGE_TIMESTAMP, MESSAGE_NONCE, MESSAGE_ENCRYPT))
    assert fields["Content"] == "test" and fields["FromUserName"] == "messense"


def test_encrypt_vector_with_fixed_random(crypto):
    assert crypto.encrypt(REPLY, prefix=b"1234567890123456") == REPLY_ENCRYPT
    assert crypto.sign(MESSAGE_TIMESTAMP, MESSAGE_NONCE, REPLY_ENCRYPT) == REPLY_SIGNATURE


def test_wrong_nonce_is_refused(crypto):
    with pytest.raises(CallbackRejected, match="signature"):
        crypto.open(ECHO_SIGNATURE, ECHO_TIMESTAMP, "437374424", ECHO)


def test_other_corp_is_refused():
    other = CallbackCrypto(TOKEN, AES_KEY, "wwsomeoneelse")
    with pytest.raises(CallbackRejected, match="receive id"):
        other.open(ECHO_SIGNATURE, ECHO_TIMESTAMP, ECHO_NONCE, ECHO)


def test_bad_padding_and_garbage_are_refused(crypto):
    with pytest.raises(CallbackRejected):
        crypto.decrypt("not base64 at all!")
    with pytest.raises(CallbackRejected):
        crypto.decrypt("QUJD")  # 3 bytes: not whole blocks
    # A valid block whose last byte claims 0 (or 33+) bytes of padding.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = aes_key(AES_KEY)
    for last in (0, 33, 200):
        plain = b"x" * 31 + bytes([last])
        encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        import base64

        forged = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
        with pytest.raises(CallbackRejected, match="padding"):
            crypto.decrypt(forged)


def test_bad_encoding_aes_key():
    with pytest.raises(ValueError, match="43"):
        aes_key("short")
    with pytest.raises(ValueError, match="base64"):
        aes_key("!" * 43)


# Byte lengths around the 32-byte block: the plaintext is 16 + 4 + len(msg) + 18 (the corp id) bytes.
AROUND_BLOCK = st.builds(
    lambda blocks, delta: max(0, blocks * 32 - 38 + delta),
    st.integers(min_value=1, max_value=70),
    st.integers(min_value=-3, max_value=3),
)


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_any_text_round_trips(text):
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    encrypted = crypto.encrypt(text)
    assert crypto.open(crypto.sign("1", "2", encrypted), "1", "2", encrypted) == text


@settings(max_examples=100, deadline=None)
@given(length=AROUND_BLOCK, char=st.sampled_from(["a", "汉", "😀"]))
def test_lengths_around_the_block_round_trip(length, char):
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    wide = char * (length // len(char.encode()))
    text = wide + "a" * (length - len(wide.encode()))  # exactly `length` bytes of UTF-8
    assert len(text.encode()) == length
    encrypted = crypto.encrypt(text)
    assert crypto.decrypt(encrypted) == text


def test_signature_is_over_the_sorted_strings():
    assert signature("b", "a", "d", "c") == signature("a", "b", "c", "d")


def test_outer_xml_bomb_and_oversize_are_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b"<xml><Encrypt>&lol2;</Encrypt></xml>"
    )
    with pytest.raises(CallbackRejected):
        outer_encrypt(bomb)
    with pytest.raises(CallbackRejected, match="large"):
        outer_encrypt(b"<xml><Encrypt>" + b"A" * MAX_BODY_BYTES + b"</Encrypt></xml>")
    with pytest.raises(CallbackRejected):
        outer_encrypt(b"<xml><ToUserName>x</ToUserName></xml>")
    assert outer_encrypt(b"<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>") == "abc"


def test_message_fields_round_trip_and_nested():
    xml = to_xml({"MsgType": "text", "Content": "a]]>b", "CreateTime": 5})
    assert message_fields(xml) == {"MsgType": "text", "Content": "a]]>b", "CreateTime": "5"}
    nested = (
        "<xml><Event>x</Event><SelectedItems><SelectedItem><QuestionKey>q</QuestionKey>"
        "</SelectedItem></SelectedItems></xml>"
    )
    assert message_fields(nested)["QuestionKey"] == "q"
