"""A compact, read-only index of the place hierarchy (55,000 areas in about 1.5 MB).

Codes are held as 12-digit integers (410225 -> 410225000000, 410225101 -> 410225101000), sorted:
every area's descendants then follow it in one contiguous range, found by bisection. Names are one
string with a separator and an array of offsets, not 55,000 string objects. What a chat needs again
(the children of a parent, the search text of a county, the names two villages of a county share)
is built the first time it is asked for and kept.
"""

from __future__ import annotations

import unicodedata
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import Any, NamedTuple

PROVINCE, CITY, COUNTY, TOWNSHIP, VILLAGE = 1, 2, 3, 4, 5
CODE_LENGTHS = {1: 6, 2: 6, 3: 6, 4: 9, 5: 12}
OWN_DIGITS = {0: 0, 1: 2, 2: 4, 3: 6, 4: 9, 5: 12}  # leading digits an area passes on to its children
FULL = 12
SEPARATOR = "\x00"
MAX_HITS = 200  # a search stops counting there: nobody reads further


class Place(NamedTuple):
    """One area of the index; `name` is the name shown (the short form for villages)."""

    code: str
    name: str
    parent_code: str | None
    level: int
    retired: bool = False


def normalize(text: str) -> str:
    """Text compared in searches: full-width forms folded, spaces removed, lower case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _key(code: str) -> int | None:
    """The 12-digit integer of a code, None when it is not one."""
    if not isinstance(code, str) or not code.isascii() or not code.isdigit() or len(code) > FULL:
        return None
    return int(code.ljust(FULL, "0"))


def parent_of(code: str, level: int) -> str | None:
    """The parent's code, which the code's own digits give (None for a province)."""
    if level <= PROVINCE:
        return None
    return code[: OWN_DIGITS[level - 1]].ljust(CODE_LENGTHS[level - 1], "0")


class AreaIndex:
    """All areas, by code; build it with `AreaIndex.build`. Read-only once built."""

    __slots__ = ("_cache", "_keys", "_levels", "_names", "_offsets", "_retired")

    def __init__(self, keys: array, levels: bytes, retired: bytes, names: str, offsets: array) -> None:
        """Use `build`."""
        self._keys, self._levels, self._retired = keys, levels, retired
        self._names, self._offsets = names, offsets
        self._cache: dict[tuple[Any, ...], Any] = {}

    @classmethod
    def build(cls, rows: Iterable[Sequence[Any]]) -> AreaIndex:
        """An index of (code, name, parent_code, level[, retired]) rows; the parent follows from the code.

        A row whose code is not 1 to 12 ASCII digits is left out. One pass, no call per row:
        55,000 rows take about a tenth of a second.
        """
        entries = []
        for row in rows:
            code = str(row[0])
            if 0 < len(code) <= FULL and code.isascii() and code.isdigit():
                retired = bool(row[4]) if len(row) > 4 else False
                entries.append((int(code.ljust(FULL, "0")), str(row[1]), int(row[3]), retired))
        entries.sort()
        names = [entry[1] for entry in entries]
        offsets = array("I", [0])
        offsets.extend(accumulate(len(name) + 1 for name in names))
        return cls(
            array("q", [entry[0] for entry in entries]),
            bytes([entry[2] for entry in entries]),
            bytes([entry[3] for entry in entries]),
            SEPARATOR.join(names) + SEPARATOR if names else "",
            offsets,
        )

    def __len__(self) -> int:
        """The number of areas."""
        return len(self._keys)

    # ------------------------------------------------------------ single areas

    def _position(self, code: Any) -> int | None:
        """Where the code is, or None."""
        key = _key(code) if isinstance(code, str) else None
        if key is None:
            return None
        at = bisect_left(self._keys, key)
        found = at < len(self._keys) and self._keys[at] == key
        return at if found and len(code) == CODE_LENGTHS[self._levels[at]] else None

    def _place(self, at: int) -> Place:
        """The area at a position."""
        level = self._levels[at]
        code = str(self._keys[at])[: CODE_LENGTHS[level]]
        name = self._names[self._offsets[at] : self._offsets[at + 1] - 1]
        return Place(code, name, parent_of(code, level), level, bool(self._retired[at]))

    def get(self, code: Any) -> Place | None:
        """The area of a code (retired ones too), or None."""
        at = self._position(code)
        return self._place(at) if at is not None else None

    # ------------------------------------------------------------ ranges

    def _range(self, code: str | None) -> tuple[int, int]:
        """Positions of the areas under `code` (everything for None); empty for an unknown code."""
        if code is None:
            return 0, len(self._keys)
        at = self._position(code)
        if at is None:
            return 0, 0
        span = 10 ** (FULL - OWN_DIGITS[self._levels[at]])
        return at + 1, bisect_left(self._keys, self._keys[at] + span, at + 1)

    def _under(self, code: str | None, level: int) -> tuple[int, ...]:
        """Positions of the offered (not retired) areas of `level` under `code`, kept once computed."""
        cache_key = ("under", code, level)
        if cache_key not in self._cache:
            low, high = self._range(code)
            levels, retired = self._levels, self._retired
            self._cache[cache_key] = tuple(
                at for at in range(low, high) if levels[at] == level and not retired[at]
            )
        return self._cache[cache_key]

    def children(self, code: str | None) -> tuple[Place, ...]:
        """The offered areas directly under `code` (the provinces for None), by code."""
        place = self.get(code) if code is not None else None
        if code is not None and place is None:
            return ()
        level = place.level + 1 if place is not None else PROVINCE
        return tuple(self._place(at) for at in self._under(code, level))

    def descendants(self, code: str | None, level: int) -> tuple[Place, ...]:
        """The offered areas of `level` under `code` (the whole index for None), by code."""
        return tuple(self._place(at) for at in self._under(code, level))

    def has(self, code: str | None, level: int) -> bool:
        """True when an offered area of `level` lies under `code`."""
        return bool(self._under(code, level))

    def ancestors(self, code: str) -> tuple[Place, ...]:
        """The areas above `code`, the province first (empty for an unknown code)."""
        place = self.get(code)
        chain: list[Place] = []
        while place is not None and place.parent_code:
            place = self.get(place.parent_code)
            if place is not None:
                chain.append(place)
        return tuple(reversed(chain))

    def ancestor(self, code: str, level: int) -> Place | None:
        """The area of `level` above or at `code`, or None."""
        place = self.get(code)
        if place is not None and place.level == level:
            return place
        return next((p for p in self.ancestors(code) if p.level == level), None)

    def first_province(self) -> Place | None:
        """The first top-level area (the province when only one is loaded)."""
        return next(iter(self.children(None)), None)

    # ------------------------------------------------------------ names

    def search(self, text: str, within: str | None, level: int = VILLAGE) -> tuple[Place, ...]:
        """Offered areas of `level` under `within` whose name contains `text`; exact names win."""
        needle = normalize(text)
        if not needle or SEPARATOR in needle:
            return ()
        haystack, starts, positions = self._search_text(within, level)
        hits: list[int] = []
        found = haystack.find(needle)
        while found >= 0 and len(hits) < MAX_HITS:
            item = bisect_left(starts, found + 1) - 1
            hits.append(item)
            found = haystack.find(needle, starts[item + 1] if item + 1 < len(starts) else len(haystack))
        places = tuple(self._place(positions[i]) for i in hits)
        exact = tuple(p for p in places if normalize(p.name) == needle)
        return exact or places

    def _search_text(self, within: str | None, level: int) -> tuple[str, array, tuple[int, ...]]:
        """The normalized names of the areas searched, joined, with where each starts; kept."""
        cache_key = ("text", within, level)
        if cache_key not in self._cache:
            positions = self._under(within, level)
            names = [normalize(self._place(at).name) + SEPARATOR for at in positions]
            starts = array("I", [0])
            for name in names[:-1]:
                starts.append(starts[-1] + len(name))
            self._cache[cache_key] = ("".join(names), starts, positions)
        return self._cache[cache_key]

    def shared_names(self, county: str) -> frozenset[str]:
        """Names that two or more offered villages of the county share (shown with their township)."""
        cache_key = ("shared", county)
        if cache_key not in self._cache:
            counts = Counter(p.name for p in self.descendants(county, VILLAGE))
            self._cache[cache_key] = frozenset(name for name, count in counts.items() if count > 1)
        return self._cache[cache_key]

    def describe(self, code: str) -> str:
        """Names from the province down to `code` ("河南省 开封市 兰考县 ..."), "" if unknown."""
        place = self.get(code)
        if place is None:
            return ""
        chain = (*self.ancestors(code), place)
        return " ".join(p.name for p in chain if not is_placeholder_city(p))


def is_placeholder_city(place: Place) -> bool:
    """True for a city-level code that only groups counties run by the province (e.g. 419000)."""
    return place.level == CITY and place.code[2:4] == "90"
