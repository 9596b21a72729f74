"""The place picker: an in-memory index of areas and the hooks flows use to choose a village.

Pure: the bot builds an `AreaIndex` from the area table at start-up and puts it in
`book.context["areas"]`; the hooks below read it from there.

Answers hold codes: "county", "township", "village" (and "city" or "province" when a flow
has a step saving them). Each area step should `apply: area_chosen`, which fills in the
levels above the answer and drops the answers below it that no longer fit; the steps above
the village should `keep_going`, so that an edit from a review goes down to the village.
A step before them may `apply: village_from_deep_link`; `skip_if: area_known` (city, county,
township) and `skip_if: village_known` (village) then skip what the link already answered.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, NamedTuple

from dialogs import hooks
from dialogs.model import Book, Choice, Items, Ref, State
from dialogs.validators import Validated, error, ok, validator

CONTEXT_KEY = "areas"
LEVEL_KEYS = {1: "province", 2: "city", 3: "county", 4: "township", 5: "village"}
KEY_LEVELS = {key: level for level, key in LEVEL_KEYS.items()}
ALWAYS_FILLED = ("county", "township", "village")  # city and province only when the flow asks for them
PROVINCE, CITY, COUNTY, TOWNSHIP, VILLAGE = 1, 2, 3, 4, 5
POSTER_PREFIX = "v_"  # a village poster's /start payload: v_<12-digit village code>
DEEP_LINK = re.compile(r"v_([0-9]{12})")
FOUND_KEY = "area_found"  # state.data: a village found by a search made before the village step
MAX_LISTED_HITS = 5
MAX_SHOWN_TEXT = 20  # characters of the typed text repeated in the "not found" message
LABEL = "area.name"


class Place(NamedTuple):
    """One area of the index."""

    code: str
    name: str
    parent_code: str | None
    level: int


@dataclass(frozen=True)
class AreaIndex:
    """All areas by code and by parent; build it with `AreaIndex.build`."""

    by_code: Mapping[str, Place]
    by_parent: Mapping[str | None, tuple[Place, ...]]

    @classmethod
    def build(cls, rows: Iterable[tuple[str, str, str | None, int]]) -> AreaIndex:
        """An index of (code, name, parent_code, level) rows."""
        places = sorted((Place(str(c), str(n), p or None, int(lv)) for c, n, p, lv in rows), key=_code_key)
        by_parent: dict[str | None, list[Place]] = {}
        for place in places:
            by_parent.setdefault(place.parent_code, []).append(place)
        frozen = {parent: tuple(kids) for parent, kids in by_parent.items()}
        return cls(MappingProxyType({p.code: p for p in places}), MappingProxyType(frozen))

    def __len__(self) -> int:
        """The number of areas."""
        return len(self.by_code)

    def get(self, code: Any) -> Place | None:
        """The area of a code, or None."""
        return self.by_code.get(code) if isinstance(code, str) else None

    def children(self, code: str | None) -> tuple[Place, ...]:
        """The areas directly under `code` (the top-level areas for None), by code."""
        return self.by_parent.get(code, ())

    def descendants(self, code: str | None, level: int) -> tuple[Place, ...]:
        """The areas of `level` under `code` (the whole index for None), by code."""
        found: list[Place] = []
        frontier = list(self.children(code))
        while frontier:
            place = frontier.pop()
            if place.level == level:
                found.append(place)
            elif place.level < level:
                frontier.extend(self.children(place.code))
        return tuple(sorted(found, key=_code_key))

    def ancestors(self, code: str) -> tuple[Place, ...]:
        """The areas above `code`, the province first (empty for an unknown code)."""
        chain: list[Place] = []
        place = self.get(code)
        while place is not None and place.parent_code and len(chain) < len(LEVEL_KEYS):
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

    def search(self, text: str, within: str | None, level: int = VILLAGE) -> tuple[Place, ...]:
        """Areas of `level` under `within` whose name contains `text`; exact names win."""
        needle = normalize(text)
        if not needle:
            return ()
        hits = tuple(p for p in self.descendants(within, level) if needle in normalize(p.name))
        exact = tuple(p for p in hits if normalize(p.name) == needle)
        return exact or hits

    def first_province(self) -> Place | None:
        """The first top-level area (the province when only one is loaded)."""
        return next((p for p in self.children(None) if p.level == PROVINCE), None)

    def describe(self, code: str) -> str:
        """Names from the province down to `code` ("河南省 开封市 兰考县 ..."), "" if unknown."""
        place = self.get(code)
        if place is None:
            return ""
        chain = (*self.ancestors(code), place)
        return " ".join(p.name for p in chain if not is_placeholder_city(p))


def _code_key(place: Place) -> tuple[int, str]:
    """Sort by level, then by code."""
    return place.level, place.code


def normalize(text: str) -> str:
    """Text compared in searches: full-width forms folded, spaces removed, lower case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def is_placeholder_city(place: Place) -> bool:
    """True for a city-level code that only groups counties run by the province (e.g. 419000)."""
    return place.level == CITY and place.code[2:4] == "90"


# ---------------------------------------------------------------- reading the state


def index_of(book: Book) -> AreaIndex:
    """The book's area index (an empty one when the bot loaded none)."""
    found = book.context.get(CONTEXT_KEY)
    return found if isinstance(found, AreaIndex) else _empty_index()


@cache
def _empty_index() -> AreaIndex:
    """An index without areas."""
    return AreaIndex.build(())


def _flow_saves(book: Book, state: State, key: str) -> bool:
    """True when the current flow has a step that saves `key`."""
    flow = book.flows.get(state.flow or "")
    return flow is not None and any(step.save_as == key for step in flow.steps.values())


def _current_key(book: Book, state: State) -> str | None:
    """The answer key of the current step, when it is an area level."""
    flow = book.flows.get(state.flow or "")
    step = flow.steps.get(state.step or "") if flow is not None else None
    return step.save_as if step is not None and step.save_as in KEY_LEVELS else None


def deep_link_village(index: AreaIndex, data: Mapping[str, Any]) -> Place | None:
    """The village named by a `v_<12 digits>` start payload, when it is known."""
    match = DEEP_LINK.fullmatch(str(data.get("start_payload") or ""))
    place = index.get(match.group(1)) if match else None
    return place if place is not None and place.level == VILLAGE else None


def _province(index: AreaIndex, answers: Mapping[str, Any]) -> Place | None:
    """The province answered, or the first one of the index."""
    chosen = index.get(answers.get("province"))
    return chosen if chosen is not None and chosen.level == PROVINCE else index.first_province()


def _fits(index: AreaIndex, answers: Mapping[str, Any], code: str) -> bool:
    """True when every answered level above `code` is the area's own ancestor."""
    place = index.get(code)
    if place is None:
        return False
    lineage = {LEVEL_KEYS[above.level]: above.code for above in index.ancestors(code)}
    return all(
        answers[key] == lineage.get(key)
        for key in KEY_LEVELS
        if key in answers and KEY_LEVELS[key] < place.level
    )


def _fill(book: Book, state: State, code: str) -> None:
    """Answer every level above and at `code`; forget the answers below it."""
    index = index_of(book)
    place = index.get(code)
    if place is None:
        return
    for above in (*index.ancestors(code), place):
        key = LEVEL_KEYS[above.level]
        if key in ALWAYS_FILLED or _flow_saves(book, state, key):
            state.answers[key] = above.code
    for level in range(place.level + 1, VILLAGE + 1):
        state.answers.pop(LEVEL_KEYS[level], None)


# ---------------------------------------------------------------- listers


def _choices(places: Iterable[Place]) -> list[Choice]:
    """One button per area: the code as id and value, the name shown as it is."""
    return [Choice(p.code, LABEL, value=p.code, params=(("name", p.name),)) for p in places]


@hooks.lists("area_cities")
def area_cities(book: Book, state: State) -> list[Choice]:
    """The cities of the province."""
    index = index_of(book)
    province = _province(index, state.answers)
    return _choices(index.children(province.code)) if province is not None else []


@hooks.lists("area_counties")
def area_counties(book: Book, state: State) -> list[Choice]:
    """The counties of the chosen city when the flow asks for one, else of the province."""
    index = index_of(book)
    city = index.get(state.answers.get("city"))
    if city is not None and _flow_saves(book, state, "city"):
        return _choices(index.children(city.code))
    province = _province(index, state.answers)
    return _choices(index.descendants(province.code, COUNTY)) if province is not None else []


@hooks.lists("area_townships")
def area_townships(book: Book, state: State) -> list[Choice]:
    """The townships of the chosen county."""
    county = state.answers.get("county")
    return _choices(index_of(book).children(county)) if isinstance(county, str) else []


@hooks.lists("area_villages")
def area_villages(book: Book, state: State) -> list[Choice]:
    """The villages of the chosen township."""
    township = state.answers.get("township")
    return _choices(index_of(book).children(township)) if isinstance(township, str) else []


# ---------------------------------------------------------------- typed search


@validator("area_search")
def area_search(text: str, answers: Mapping[str, Any], context: Mapping[str, Any]) -> Validated:
    """Find a village of the chosen county by part of its name; one hit answers the question."""
    index = context.get(CONTEXT_KEY)
    index = index if isinstance(index, AreaIndex) else _empty_index()
    scope = answers.get("county") if index.get(answers.get("county")) is not None else None
    hits = index.search(text, scope)
    if len(hits) == 1:
        # The step's `next` follows; `area_chosen` fills the township, `village_known` skips
        # the village step when the search was made before it.
        return ok(hits[0].code)
    if hits:
        listed = Items(tuple(_hit_label(index, p) for p in hits[:MAX_LISTED_HITS]))
        return error("area.err_search_many", count=len(hits), names=listed, example=hits[0].name)
    example = next(iter(index.descendants(scope, VILLAGE)), None)
    if example is None:
        return error("area.err_no_villages")
    return error("area.err_search_none", typed=text[:MAX_SHOWN_TEXT], example=example.name)


def _hit_label(index: AreaIndex, place: Place) -> Ref:
    """A village with its township, so that villages of the same name can be told apart."""
    township = index.get(place.parent_code)
    return Ref("area.village_in", (("village", place.name), ("township", township.name if township else "")))


# ---------------------------------------------------------------- transforms and skips


@hooks.transforms("area_chosen")
def area_chosen(book: Book, state: State) -> None:
    """After an area step: fill the levels above the answer, drop the ones below that no longer fit."""
    key = _current_key(book, state)
    code = state.answers.get(key) if key else None
    place = index_of(book).get(code)
    if key is None or place is None:
        return
    _fill(book, state, place.code)
    if place.level > KEY_LEVELS[key]:
        state.data[FOUND_KEY] = place.code  # found by a search at an earlier step
    else:
        state.data.pop(FOUND_KEY, None)


def start_at(book: Book, state: State, code: str) -> bool:
    """Start the picker at an area: its levels (and those above) answered, the levels below open.

    For "the next household of the same township": the flow then goes to the step below `code`.
    False (nothing changed) when the code is not in the index.
    """
    if index_of(book).get(code) is None:
        return False
    _fill(book, state, code)
    return True


@hooks.transforms("village_from_deep_link")
def village_from_deep_link(book: Book, state: State) -> None:
    """Fill county, township and village from a `v_<code>` start payload of a known village."""
    village = deep_link_village(index_of(book), state.data)
    if village is not None:
        _fill(book, state, village.code)


@hooks.skips("village_known")
def village_known(book: Book, state: State) -> bool:
    """Skip the village step when the village came from a deep link or an earlier search."""
    index = index_of(book)
    village = state.answers.get("village")
    if state.return_to is not None or not isinstance(village, str):
        return False  # while editing from a review, every step is shown
    linked = deep_link_village(index, state.data)
    came_from = {linked.code if linked else None, state.data.get(FOUND_KEY)}
    return village in came_from and _fits(index, state.answers, village)


@hooks.skips("area_known")
def area_known(book: Book, state: State) -> bool:
    """Skip a city, county or township step whose answer came from the deep link."""
    index = index_of(book)
    key = _current_key(book, state)
    linked = deep_link_village(index, state.data)
    if state.return_to is not None or key is None or linked is None:
        return False
    above = index.ancestor(linked.code, KEY_LEVELS[key])
    return above is not None and state.answers.get(key) == above.code


@hooks.computes("area_place")
def area_place(book: Book, state: State) -> dict[str, Any]:
    """The chosen place as names, province to village, for a review screen (`{place}`)."""
    index = index_of(book)
    for level in range(VILLAGE, PROVINCE - 1, -1):
        code = state.answers.get(LEVEL_KEYS[level])
        if index.get(code) is not None:
            return {"place": index.describe(code)}
    return {"place": ""}
