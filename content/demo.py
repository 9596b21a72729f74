"""The pools `outreach demo seed` draws synthetic people from (content/demo/people.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from content.errors import ContentError

DEFAULT_PATH = Path(__file__).parent / "demo" / "people.yaml"


@dataclass(frozen=True)
class Pools:
    """Surnames and given names to combine."""

    surnames: tuple[str, ...]
    given_names: tuple[str, ...]


def load_pools(path: str | Path = DEFAULT_PATH) -> Pools:
    """The checked pools."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    lists = {name: (data or {}).get(name) for name in ("surnames", "given_names")}
    for name, items in lists.items():
        if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
            raise ContentError(Path(path).name, "file", name, "must be a non-empty list of names")
    return Pools(tuple(lists["surnames"]), tuple(lists["given_names"]))
