"""The place picker: the hooks flows use to choose a village from the area index.

Pure: the bot builds an `AreaIndex` (dialogs/area_index.py) from the area table at start-up and
puts it in `book.context["areas"]`; the hooks below read it from there.

Answers hold codes: "county", "township", "village" (and "city" or "province" when a flow
has a step saving them). Each area step should `apply: area_chosen`, which fills in the
levels above the answer and drops the answers below it that no longer fit; the steps above
the village should `keep_going`, so that an edit from a review goes down to the village.
A step before them may `apply: village_from_deep_link`; `skip_if: area_known` (city, county,
township) and `skip_if: village_known` (village) then skip what the link already answered.

Other features start the picker at a known area with `start_at(book, state, code)` (a work
team's own township, the village of a poster): the levels down to that area are answered.

The county step shows the cities first when the province has more counties than fit on one
screen, then the counties of the city pressed. A name typed at the county step finds a county,
else villages of the province; typed at the township or village step, villages of the county.
Several hits become the step's buttons (with their township); one hit is taken and named.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from dialogs import hooks
from dialogs.area_index import (
    CITY,
    COUNTY,
    MAX_HITS,
    PROVINCE,
    TOWNSHIP,
    VILLAGE,
    AreaIndex,
    Place,
    is_placeholder_city,
    normalize,
)
from dialogs.model import Book, Choice, Ref, State
from dialogs.validators import Validated, error, ok, validator

__all__ = [  # what other modules use besides the hooks
    "CITY", "COUNTY", "PROVINCE", "TOWNSHIP", "VILLAGE", "AreaIndex", "Place",
    "area_name", "is_placeholder_city", "normalize", "start_at",
]  # fmt: skip

CONTEXT_KEY = "areas"
LEVEL_KEYS = {1: "province", 2: "city", 3: "county", 4: "township", 5: "village"}
KEY_LEVELS = {key: level for level, key in LEVEL_KEYS.items()}
ALWAYS_FILLED = ("county", "township", "village")  # city and province only when the flow asks for them
POSTER_PREFIX = "v_"  # a village poster's /start payload: v_<12-digit village code>
DEEP_LINK = re.compile(r"v_([0-9]{12})")
FOUND_KEY = "area_found"  # state.data: a village found by a search made before the village step
FOUND_AT_KEY = "area_found_at"  # state.data: the answer key of the step where that search was typed
START_KEY = "area_start"  # state.data: the area `start_at` answered down to
HITS_KEY = "area_hits"  # state.data: {"step": answer key, "codes": [...]} of a search with several hits
CITY_KEY = "area_city"  # state.data: the city whose counties the county step shows
MAX_SHOWN_HITS = 20  # two screens of buttons; more hits ask for more characters
MAX_SHOWN_TEXT = 20  # characters of the typed text repeated in a message
COUNTIES_ON_ONE_SCREEN = 10  # more counties than this: the county step shows the cities first
LABEL, LABEL_IN = "area.name", "area.village_in"
NO_VILLAGES = "area_none"


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


def _step_saving(book: Book, state: State, key: str) -> str | None:
    """The id of the current flow's step that saves `key`."""
    flow = book.flows.get(state.flow or "")
    steps = flow.steps.values() if flow is not None else ()
    return next((step.id for step in steps if step.save_as == key), None)


def _current_key(book: Book, state: State) -> str | None:
    """The answer key of the current step, when it is an area level."""
    flow = book.flows.get(state.flow or "")
    step = flow.steps.get(state.step or "") if flow is not None else None
    return step.save_as if step is not None and step.save_as in KEY_LEVELS else None


def deep_link_village(index: AreaIndex, data: Mapping[str, Any]) -> Place | None:
    """The offered village named by a `v_<12 digits>` start payload."""
    place = _linked_village(index, data)
    return place if place is not None and not place.retired else None


def retired_deep_link_village(index: AreaIndex, data: Mapping[str, Any]) -> Place | None:
    """The village a `v_<12 digits>` start payload names when it is retired (an import left it out)."""
    place = _linked_village(index, data)
    return place if place is not None and place.retired else None


def _linked_village(index: AreaIndex, data: Mapping[str, Any]) -> Place | None:
    """The village, offered or retired, named by a `v_<12 digits>` start payload."""
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


def start_at(book: Book, state: State, code: str) -> bool:
    """Answer the levels down to `code` (a county, township or village) before the picker opens.

    For other features: a work team's next household starts at its township, a poster names its
    village. The steps already answered are then skipped by `area_known` / `village_known`.
    Returns False (and changes nothing) for a code the index does not offer.
    """
    place = index_of(book).get(code)
    if place is None or place.retired or place.level < COUNTY:
        return False
    _fill(book, state, place.code)
    state.data[START_KEY] = place.code
    return True


# ---------------------------------------------------------------- labels


def area_name(book: Book, code: Any) -> Ref | None:
    """How a message names an area: `周场村（堌阳镇）` for a village, `兰考县` otherwise; None if unknown.

    For other features, e.g. the intake's first message naming the village of a poster.
    """
    index = index_of(book)
    place = index.get(code)
    return _found_label(index, place) if place is not None else None


def village_label(index: AreaIndex, place: Place, *, always: bool = False) -> tuple[str, tuple]:
    """A button label for a village: its name, with its township when needed to tell it apart."""
    county = index.ancestor(place.code, COUNTY)
    shared = county is not None and place.name in index.shared_names(county.code)
    township = index.get(place.parent_code)
    if (always or shared) and township is not None and place.level == VILLAGE:
        return LABEL_IN, (("village", place.name), ("township", township.name))
    return LABEL, (("name", place.name),)


def _choices(index: AreaIndex, places: Iterable[Place], *, with_township: bool = False) -> list[Choice]:
    """One button per area: the code as id and value, the short name shown (villages with their township)."""
    buttons = []
    for place in places:
        label, params = village_label(index, place, always=with_township)
        buttons.append(Choice(place.code, label, value=place.code, params=params))
    return buttons


# ---------------------------------------------------------------- listers


@hooks.lists("area_cities")
def area_cities(book: Book, state: State) -> list[Choice]:
    """The cities of the province."""
    index = index_of(book)
    province = _province(index, state.answers)
    return _choices(index, index.children(province.code)) if province is not None else []


@hooks.lists("area_counties")
def area_counties(book: Book, state: State) -> list[Choice]:
    """The counties of the chosen city; the cities first when the province has many counties."""
    index = index_of(book)
    hits = _hit_buttons(book, state)
    if hits is not None:
        return hits
    city = index.get(state.answers.get("city"))
    if city is not None and _flow_saves(book, state, "city"):
        return _choices(index, index.children(city.code))
    province = _province(index, state.answers)
    if province is None:
        return []
    counties = index.descendants(province.code, COUNTY)
    if len(counties) <= COUNTIES_ON_ONE_SCREEN:
        return _choices(index, counties)
    browsed = index.get(state.data.get(CITY_KEY))
    if browsed is None or browsed.level != CITY:
        return [_city_button(place, state) for place in index.children(province.code)]
    other = Choice("area_cities", "area.other_city", value="", apply="area_city_pressed", goto=state.step)
    return [*_choices(index, index.children(browsed.code)), other]


def _city_button(city: Place, state: State) -> Choice:
    """A city at the county step: pressing it shows its counties at the same step."""
    label = "area.province_counties" if is_placeholder_city(city) else LABEL
    params = (("name", city.name),)
    return Choice(
        city.code, label, value=city.code, apply="area_city_pressed", goto=state.step, params=params
    )


@hooks.lists("area_townships")
def area_townships(book: Book, state: State) -> list[Choice]:
    """The townships of the chosen county (a way back when the county has no villages)."""
    index = index_of(book)
    hits = _hit_buttons(book, state)
    if hits is not None:
        return hits
    county = state.answers.get("county")
    if not isinstance(county, str) or index.get(county) is None:
        return []
    if not index.has(county, VILLAGE):
        back = _step_saving(book, state, "county")
        return [Choice(NO_VILLAGES, "area.no_villages", value="", apply="area_city_pressed", goto=back)]
    return _choices(index, (t for t in index.children(county) if index.has(t.code, VILLAGE)))


@hooks.lists("area_villages")
def area_villages(book: Book, state: State) -> list[Choice]:
    """The villages of the chosen township."""
    index = index_of(book)
    hits = _hit_buttons(book, state)
    if hits is not None:
        return hits
    township = state.answers.get("township")
    return _choices(index, index.children(township)) if isinstance(township, str) else []


def _hit_buttons(book: Book, state: State) -> list[Choice] | None:
    """The areas a search with several hits found at this step, or None when there is none."""
    hits = state.data.get(HITS_KEY)
    if not isinstance(hits, Mapping) or hits.get("step") != _current_key(book, state):
        return None
    index = index_of(book)
    places = [p for p in (index.get(code) for code in hits.get("codes", ())) if p is not None]
    if hits.get("step") == "county":  # villages of the whole province: say which county too
        return [_village_in_county(index, place) for place in places]
    return _choices(index, places, with_township=True)


def _village_in_county(index: AreaIndex, place: Place) -> Choice:
    """A hit of a search at the county step: a county as it is, a village with its county and township."""
    county, township = index.ancestor(place.code, COUNTY), index.get(place.parent_code)
    if place.level != VILLAGE or county is None or township is None:
        return _choices(index, [place])[0]
    params = (("village", place.name), ("county", county.name), ("township", township.name))
    return Choice(place.code, "area.village_in_county", value=place.code, params=params)


# ---------------------------------------------------------------- typed search


@validator("area_search")
def area_search(text: str, answers: Mapping[str, Any], context: Mapping[str, Any]) -> Validated:
    """Find a county (at the county step) or villages by part of a name; one hit answers the question."""
    index = context.get(CONTEXT_KEY)
    index = index if isinstance(index, AreaIndex) else _empty_index()
    step_key = str(context.get("save_as") or _step_key(answers))
    county = index.get(answers.get("county")) if step_key != "county" else None
    counties = index.search(text, None, COUNTY) if county is None else ()
    hits = counties or index.search(text, county.code if county is not None else None)
    typed = text.strip()[:MAX_SHOWN_TEXT]
    forget = {HITS_KEY: None}
    if len(hits) == 1:
        # The step's `next` follows; `area_chosen` fills the levels above, `village_known` skips
        # the village step when the search was made before it.
        return ok(hits[0].code, note="area.found", remember=forget, place=_found_label(index, hits[0]))
    if hits:
        shown = [p.code for p in hits[:MAX_SHOWN_HITS]]
        remember = {HITS_KEY: {"step": step_key, "codes": shown}}
        key = "area.err_search_many" if len(hits) < MAX_HITS else "area.err_search_too_many"
        return error(key, remember=remember, count=len(hits), typed=typed)
    if county is not None and not index.has(county.code, VILLAGE):
        return error("area.err_no_villages", remember=forget, county=county.name)
    example = next(iter(index.descendants(county.code, VILLAGE)), None) if county is not None else None
    if example is None and county is None:
        example = next(iter(index.descendants(None, COUNTY)), None)
    if example is None:
        return error("area.err_no_villages", remember=forget, county="")
    return error("area.err_search_none", remember=forget, typed=typed, example=example.name)


def _step_key(answers: Mapping[str, Any]) -> str:
    """The answer key of the step a search was typed at (the first area level not yet answered)."""
    return next((key for key in ("county", "township", "village") if key not in answers), "village")


def _found_label(index: AreaIndex, place: Place) -> Ref:
    """What a single hit is called in the message that says it was taken: `周场村（堌阳镇）`, `兰考县`."""
    label, params = village_label(index, place, always=True)
    return Ref(label, params)


# ---------------------------------------------------------------- transforms and skips


@hooks.transforms("area_chosen")
def area_chosen(book: Book, state: State) -> None:
    """After an area step: fill the levels above the answer, drop the ones below that no longer fit."""
    key = _current_key(book, state)
    code = state.answers.get(key) if key else None
    place = index_of(book).get(code)
    if key is None or place is None:
        return
    state.data.pop(HITS_KEY, None)
    _fill(book, state, place.code)
    if place.level > KEY_LEVELS[key]:
        state.data[FOUND_KEY] = place.code  # found by a search at an earlier step
        state.data[FOUND_AT_KEY] = key
    else:
        state.data.pop(FOUND_KEY, None)
        state.data.pop(FOUND_AT_KEY, None)


@hooks.transforms("area_city_pressed")
def area_city_pressed(book: Book, state: State) -> None:
    """A city (or "other city", or "no villages here") pressed: remember it, it answers nothing."""
    key = _current_key(book, state)
    code = state.answers.pop(key, None) if key else None
    state.data.pop(HITS_KEY, None)
    if code:
        state.data[CITY_KEY] = code
    else:
        state.data.pop(CITY_KEY, None)


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
    came_from = {linked.code if linked else None, state.data.get(FOUND_KEY), state.data.get(START_KEY)}
    return village in came_from and _fits(index, state.answers, village)


@hooks.skips("area_known")
def area_known(book: Book, state: State) -> bool:
    """Skip a city, county or township step answered by the deep link, `start_at` or a search typed above."""
    index = index_of(book)
    key = _current_key(book, state)
    if state.return_to is not None or key is None:
        return False
    linked = deep_link_village(index, state.data)
    started = index.get(state.data.get(START_KEY))
    found = index.get(state.data.get(FOUND_KEY)) if _typed_above(state.data, key) else None
    for source in (linked, started, found):
        above = index.ancestor(source.code, KEY_LEVELS[key]) if source is not None else None
        if above is not None and state.answers.get(key) == above.code:
            return True
    return False


def _typed_above(data: Mapping[str, Any], key: str) -> bool:
    """True when the search that found the village was typed at a step above `key`.

    Not at `key` itself: Back from the review returns to that step, which must then be shown.
    """
    typed_at = KEY_LEVELS.get(str(data.get(FOUND_AT_KEY)))
    return typed_at is not None and typed_at < KEY_LEVELS[key]


@hooks.computes("area_place")
def area_place(book: Book, state: State) -> dict[str, Any]:
    """The chosen place as names, province to village, for a review screen (`{place}`)."""
    index = index_of(book)
    for level in range(VILLAGE, PROVINCE - 1, -1):
        code = state.answers.get(LEVEL_KEYS[level])
        if index.get(code) is not None:
            return {"place": index.describe(code)}
    return {"place": ""}
