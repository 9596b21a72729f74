"""Personal numbers inside free text (HR's notes, log lines, error messages), however they are typed.

People write `138 1234 5678`, `138-1234-5678`, `+8613812345678`, full-width digits (１３８…) and
ID numbers in groups (`4102 2520 1003 0112 38`); all of them are found here. `mask_numbers`
masks them as they may be shown (notes); `redact` removes them, and pydantic's echo of the
input (`input_value=...`), for logs.
"""

from __future__ import annotations

import re

from storage.crypto import mask_id, mask_phone

# Full-width digits, X, plus, hyphen and the ideographic space, to their ASCII forms.
_WIDE = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)},
                       "Ｘ": "X", "ｘ": "x", "＋": "+", "－": "-", "\u3000": " "})  # fmt: skip
_GAP = r"[ \-]?"  # one space or hyphen between digits
ID_IN_TEXT = re.compile(rf"(?<![0-9])(?:\d{_GAP}){{17}}[\dXx](?![0-9])")
MOBILE_IN_TEXT = re.compile(rf"(?<![0-9+])(?:(?:\+|00)86{_GAP})?1[3-9](?:{_GAP}\d){{9}}(?![0-9])")
PYDANTIC_INPUT = re.compile(r"input_value=(?:'[^']*'|\"[^\"]*\"|\{.*?\}|\[.*?\]|\S+)")


def _digits(found: re.Match[str]) -> str:
    """A matched number without its spaces and hyphens."""
    return re.sub(r"[ \-]", "", found.group())


def mask_numbers(text: str) -> str:
    """Text with every resident ID and mobile number in it masked (`4102*************X`, `*******5678`)."""
    text = ID_IN_TEXT.sub(lambda found: mask_id(_digits(found)), text.translate(_WIDE))
    return MOBILE_IN_TEXT.sub(lambda found: mask_phone(_digits(found)[-11:]), text)


def redact(text: str) -> str:
    """Text with personal numbers and echoed inputs removed, for logs."""
    text = PYDANTIC_INPUT.sub("input_value=<hidden>", text.translate(_WIDE))
    text = ID_IN_TEXT.sub("<id>", text)
    return MOBILE_IN_TEXT.sub("<phone>", text)
