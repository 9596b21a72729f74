"""The XML of callbacks: the outer envelope (untrusted, size-capped) and the decrypted message.

Both are parsed by defusedxml, which refuses entity declarations and external references
(billion laughs, XXE). The outer body is read before its signature can be checked, so its
size is capped before parsing.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.channels.wecom.crypto import CallbackRejected

MAX_BODY_BYTES = 64 * 1024  # a callback is well under 4 KB; a large body is not WeCom's


def _parse(data: bytes | str) -> Element:
    """The root element, or CallbackRejected."""
    try:
        return fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        raise CallbackRejected("malformed XML") from None


def outer_encrypt(body: bytes) -> str:
    """The <Encrypt> text of a callback body."""
    if len(body) > MAX_BODY_BYTES:
        raise CallbackRejected("body too large")
    node = _parse(body).find("Encrypt")
    if node is None or not (node.text or "").strip():
        raise CallbackRejected("no Encrypt element")
    return node.text.strip()


def message_fields(xml: str) -> dict[str, str]:
    """The direct children of a decrypted message as name -> text (nested ones flattened by name)."""
    fields: dict[str, str] = {}
    for child in _parse(xml.encode("utf-8")):
        if len(child):
            for grandchild in child.iter():
                if grandchild is not child and not len(grandchild):
                    fields.setdefault(grandchild.tag, (grandchild.text or "").strip())
        else:
            fields[child.tag] = (child.text or "").strip()
    return fields


def to_xml(fields: dict[str, str | int]) -> str:
    """A flat message as WeCom writes it (CDATA for strings); the fake server and replies use it."""
    parts = []
    for name, value in fields.items():
        text = str(value) if isinstance(value, int) else _cdata(value)
        parts.append(f"<{name}>{text}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def _cdata(value: str) -> str:
    """A CDATA section holding `value` (a "]]>" inside is split across two sections)."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
