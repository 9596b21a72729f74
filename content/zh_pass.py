"""Apply the Chinese house style (content/zh_text.py) to the catalogs and the content files, in place.

    python -m content.zh_pass            # rewrite zh_Hans catalogs and the Chinese texts of content/*.yaml
    python -m content.zh_pass --check    # list what would change, change nothing

A .po file keeps its layout: only the strings of msgstr change. A YAML file keeps its comments and layout:
only the scalars change, found with the YAML scanner, and English texts only get the new clause ids.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from content.zh_text import LINE_JOIN, clause_id, fix_text

CONTENT = Path(__file__).parent
_QUOTED = re.compile(r'^(msgstr(?:\[\d+\])?\s+|)"(.*)"\s*$')


def is_english(text: str) -> bool:
    text = re.sub(r"\{[^{}]*\}", "", text)
    letters = sum(char.isascii() and char.isalpha() for char in text)
    han = sum("\u4e00" <= char <= "\u9fff" for char in text)
    return letters > han


def fix_po(source: str, chinese: bool) -> str:
    """Rewrite the msgstr strings of a .po file, one message at a time (its lines seen as one text)."""
    lines = source.split("\n")
    out, block = [], []

    def flush() -> None:
        if not block:
            return
        pieces = [_QUOTED.match(lines[i]).group(2) for i in block]
        joined = LINE_JOIN.join(pieces)
        fixed = (fix_text(joined) if chinese else clause_id(joined)).split(LINE_JOIN)
        for i, piece in zip(block, fixed, strict=True):
            prefix = _QUOTED.match(lines[i]).group(1)
            out[i] = f'{prefix}"{piece}"'
        block.clear()

    in_msgstr = False
    for index, line in enumerate(lines):
        out.append(line)
        match = _QUOTED.match(line)
        if match and match.group(1).startswith("msgstr"):
            flush()
            in_msgstr = True
            block.append(index)
        elif match and in_msgstr:
            block.append(index)
        else:
            flush()
            in_msgstr = False
    flush()
    return "\n".join(out)


def fix_yaml(source: str) -> str:
    """Rewrite every scalar of a YAML file through the house style (English scalars: clause ids only)."""
    spans = []
    for token in yaml.scan(source, Loader=yaml.SafeLoader):
        if isinstance(token, yaml.ScalarToken):
            spans.append((token.start_mark.index, token.end_mark.index))
    out, last = [], 0
    for start, end in spans:
        raw = source[start:end]
        out.append(source[last:start])
        out.append(clause_id(raw) if is_english(raw) else fix_text(raw))
        last = end
    out.append(source[last:])
    return "".join(out)


def targets() -> list[tuple[Path, str]]:
    """(file, kind) for every file the pass covers."""
    found = [(p, "po_zh") for p in sorted((CONTENT / "locales/zh_Hans/LC_MESSAGES").glob("*.po"))]
    found += [(p, "po_en") for p in sorted((CONTENT / "locales/en/LC_MESSAGES").glob("*.po"))]
    found += [(p, "yaml") for p in sorted((CONTENT / "policy").glob("**/*.yaml"))]
    found += [(p, "yaml") for p in sorted((CONTENT / "flows").glob("*.yaml"))]
    return found


def main(argv: list[str]) -> int:
    check = "--check" in argv
    changed = []
    for path, kind in targets():
        source = path.read_text(encoding="utf-8")
        fixed = fix_yaml(source) if kind == "yaml" else fix_po(source, chinese=kind == "po_zh")
        if fixed != source:
            changed.append(path)
            if not check:
                path.write_text(fixed, encoding="utf-8")
    for path in changed:
        print(path.relative_to(CONTENT.parent))
    return 1 if check and changed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
