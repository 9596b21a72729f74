"""Plain-text helpers every channel needs."""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """Split a long text at line breaks so that each part fits in one message of `limit` characters."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    parts.append(text)
    return parts
