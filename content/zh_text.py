"""House style of the Chinese texts: full-width punctuation next to Chinese, 您 not 你, official clause ids.

`fix_text` rewrites one text, `problems` lists what the catalog test rejects. Both treat a `{placeholder}`
as part of the sentence it sits in, and never touch what is inside the braces (`{cny:,}` stays as it is).

Clause ids are written the official way, 四（一）: full-width brackets, as the printed notice has them (the
scraped copy the project started from used half-width ones). `clause_id` turns an old id into the new one.
"""

from __future__ import annotations

import re

HALF_TO_FULL = {",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "?": "？", "!": "！"}
FULL_WIDTH = frozenset(HALF_TO_FULL.values()) | frozenset("。、“”‘’《》〔〕【】…—")
LINE_JOIN = "\x00"  # marks where a text was cut into lines (a .po file): invisible to the rules
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_CLAUSE = re.compile(r"([一二三四五六七八九十]+)\(([一二三四五六七八九十]+)\)")
_SPACES_AROUND = re.compile(r"(?<=[^\s])[ \t]+(?=[，：；（）？！])|(?<=[，：；（）？！])[ \t]+(?=[^\s])")


def is_han(char: str) -> bool:
    """A Chinese character (the unified ideographs) or Chinese punctuation."""
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" or char in FULL_WIDTH


def has_han(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def clause_id(text: str) -> str:
    """'四(一)' -> '四（一）' (also inside a longer text)."""
    return _CLAUSE.sub(r"\1（\2）", text)


def _masked(text: str) -> str:
    """The text with each placeholder replaced by one private-use character of the same length."""
    return _PLACEHOLDER.sub(lambda m: "\ue000" * len(m.group()), text)


def _neighbour(chars: str, index: int, step: int) -> str:
    index += step
    while 0 <= index < len(chars) and chars[index] == LINE_JOIN:
        index += step
    return chars[index] if 0 <= index < len(chars) else ""


def _chinese_side(char: str, chinese_text: bool) -> bool:
    return is_han(char) or (chinese_text and char == "\ue000")


def _paren_pairs(masked: str) -> tuple[list[tuple[int, int]], list[int]]:
    pairs, stack, lonely = [], [], []
    for index, char in enumerate(masked):
        if char == "(":
            stack.append(index)
        elif char == ")":
            if stack:
                pairs.append((stack.pop(), index))
            else:
                lonely.append(index)
    return pairs, lonely + stack


def _positions_to_convert(masked: str, chinese_text: bool) -> set[int]:
    def near_chinese(index: int) -> bool:
        return any(_chinese_side(_neighbour(masked, index, step), chinese_text) for step in (-1, 1))

    convert = set()
    pairs, lonely = _paren_pairs(masked)
    for start, end in pairs:
        if has_han(masked[start:end]) or near_chinese(start) or near_chinese(end):
            convert |= {start, end}
    convert |= {index for index in lonely if near_chinese(index)}
    for index, char in enumerate(masked):
        if char in ",:;?!" and near_chinese(index):
            before, after = _neighbour(masked, index, -1), _neighbour(masked, index, 1)
            if not (before.isdigit() and after.isdigit()):
                convert.add(index)
    return convert


def is_chinese(text: str) -> bool:
    """Chinese text, or a template of placeholders only (e.g. '{name}:{amount}') in a Chinese catalog."""
    outside = _PLACEHOLDER.sub("", text)
    return has_han(text) or (text != outside and not any(c.isascii() and c.isalpha() for c in outside))


def fix_text(text: str) -> str:
    """Full-width punctuation next to Chinese, official clause ids, no spaces around full-width marks."""
    if not is_chinese(text):
        return text
    text = clause_id(text)
    masked = _masked(text)
    chars = list(text)
    changed = False
    # Paren pairs are decided before the commas so that '(四(一))' is seen whole; repeat until stable.
    while True:
        convert = _positions_to_convert("".join(masked), True)
        if not convert:
            break
        masked_chars = list(masked)
        for index in convert:
            chars[index] = masked_chars[index] = HALF_TO_FULL[chars[index]]
        masked = "".join(masked_chars)
        changed = True
    result = "".join(chars)
    return _SPACES_AROUND.sub("", result) if changed else result


def problems(text: str) -> list[str]:
    """Half-width punctuation next to a Chinese character, and 你: each as a short excerpt."""
    found = []
    masked = _masked(text)
    chinese = is_chinese(text)
    for index, char in enumerate(masked):
        sides = (_neighbour(masked, index, step) for step in (-1, 1))
        if char in HALF_TO_FULL and any(_chinese_side(side, chinese) for side in sides):
            found.append(f"half-width {char!r} in …{text[max(0, index - 8) : index + 8]}…")
    found += [f"你 in …{text[max(0, m.start() - 8) : m.start() + 8]}…" for m in re.finditer("你", text)]
    return found
