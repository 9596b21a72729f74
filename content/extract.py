"""Babel extractor for message keys in flow files, so `pybabel extract` finds them too.

Registered as the `outreach_flows` extraction method (see pyproject.toml and babel.cfg).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import yaml

KEY_FIELDS = ("text", "help", "label")


def extract_flow_keys(
    fileobj: BinaryIO, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Yield (line, funcname, key, comments) for every message key a flow file names."""
    data = yaml.safe_load(fileobj.read().decode("utf-8")) or {}
    for step_id, step in (data.get("steps") or {}).items():
        for key in step_keys(step or {}):
            yield 0, "", key, [f"flow {data.get('id')}, step {step_id}"]


def step_keys(step: dict[str, Any]) -> Iterator[str]:
    """The message keys of one step and its buttons."""
    for field in KEY_FIELDS:
        if step.get(field):
            yield str(step[field])
    for choice in step.get("choices") or []:
        if choice.get("label"):
            yield str(choice["label"])
