"""The place picker: the area index, the listers, the search validator, the deep-link skip and transform."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import pytest

from dialogs import hooks, validators
from dialogs.areas import AreaIndex, Place
from dialogs.engine import advance
from dialogs.model import Book, Choice, Flow, Input, Items, Ref, Reply, State, Step

ROWS = [
    ("410000", "河南省", None, 1),
    ("410200", "开封市", "410000", 2),
    ("419000", "省直辖县级行政区划", "410000", 2),
    ("410221", "杞县", "410200", 3),
    ("410225", "兰考县", "410200", 3),
    ("419001", "济源市", "419000", 3),
    ("410225101", "堌阳镇", "410225", 4),
    ("410225201", "东坝头乡", "410225", 4),
    ("410221101", "城关镇", "410221", 4),
    ("410225101201", "徐场村", "410225101", 5),
    ("410225101202", "大李庄村", "410225101", 5),
    ("410225101203", "张庄村", "410225101", 5),
    ("410225201201", "张庄村", "410225201", 5),
    ("410225201202", "小李庄村", "410225201", 5),
    ("410225201203", "张寨村", "410225201", 5),
    ("410221101201", "李庄村", "410221101", 5),
]
INDEX = AreaIndex.build(reversed(ROWS))
XUCHANG, ZHANGZHAI = "410225101201", "410225201203"


def area_steps(*, city: bool = False) -> dict[str, Step]:
    """County (or city first), township and village steps as a flow would declare them.

    The steps above the village `keep_going`, so that an edit from the review goes down to the village.
    """
    steps = {
        "intro": Step("intro", "t.intro", (Choice("go", "t.go", apply="village_from_deep_link"),),
                      next="city" if city else "county"),
        "county": Step("county", "t.county", choices_from="area_counties", save_as="county",
                       apply="area_chosen", skip_if="area_known", next="township", keep_going=True),
        "township": Step("township", "t.township", choices_from="area_townships", save_as="township",
                         input="choice_or_text", validate="area_search", apply="area_chosen",
                         skip_if="area_known", next="village", keep_going=True),
        "village": Step("village", "t.village", choices_from="area_villages", save_as="village",
                        input="choice_or_text", validate="area_search", apply="area_chosen",
                        skip_if="village_known", next="review"),
        "review": Step("review", "t.review", (Choice("edit_village", "t.edit", goto="village", edit=True),
                                              Choice("edit_county", "t.edit", goto="county", edit=True),
                                              Choice("send", "t.send", goto="@end")), compute="area_place"),
    }  # fmt: skip
    if city:
        steps["city"] = Step("city", "t.city", choices_from="area_cities", save_as="city",
                             apply="area_chosen", skip_if="area_known", next="county",
                             keep_going=True)  # fmt: skip
    return steps


def make_book(index: AreaIndex | None = INDEX, *, city: bool = False) -> Book:
    """A menu and one flow choosing a village."""
    menu = Flow("menu", "main", {"main": Step("main", "m.main", (Choice("go", "m.go", goto=">f"),))})
    context = {"areas": index} if index is not None else {}
    return Book(
        flows={"menu": menu, "f": Flow("f", "intro", area_steps(city=city))}, clauses={}, context=context
    )


BOOK = make_book()


def feed(state: State, *inputs: Input, book: Book = BOOK) -> tuple[State, list]:
    """Feed several inputs; buttons get the current token."""
    replies: list = []
    for user_input in inputs:
        if user_input.kind == "choice":
            user_input = Input.choice(user_input.value, state.seq)
        state, replies = advance(book, state, user_input)
    return state, replies


def start(*inputs: Input, book: Book = BOOK, payload: str = "") -> tuple[State, list]:
    """Open the flow (after an optional deep link) and feed the inputs."""
    opening = Input.command("start", payload) if payload else Input.command("menu")
    return feed(State(), opening, Input.choice("go"), Input.choice("go"), *inputs, book=book)


def buttons(replies: list) -> dict[str, str]:
    """Area buttons of the last reply: id -> the name shown."""
    return {o.id: dict(o.params)["name"] for o in replies[-1].options if o.label == "area.name"}


def keys(replies: list) -> list[str]:
    """Message keys of the replies."""
    return [r.key for r in replies if isinstance(r, Reply)]


# ---------------------------------------------------------------- the index


def test_index_children_ancestors_and_descendants():
    assert [p.code for p in INDEX.children(None)] == ["410000"]
    assert [p.name for p in INDEX.children("410200")] == ["杞县", "兰考县"]  # by code
    assert [p.code for p in INDEX.ancestors(XUCHANG)] == ["410000", "410200", "410225", "410225101"]
    assert INDEX.ancestors("999999") == () and INDEX.get("999999") is None and INDEX.get(None) is None
    assert INDEX.ancestor(XUCHANG, 3) == Place("410225", "兰考县", "410200", 3)
    assert [p.code for p in INDEX.descendants("410000", 3)] == ["410221", "410225", "419001"]
    assert len(INDEX.descendants(None, 5)) == 7 and len(INDEX) == len(ROWS)
    assert INDEX.first_province() == Place("410000", "河南省", None, 1)


def test_index_search_within_a_county():
    assert [p.code for p in INDEX.search("李庄", "410225")] == ["410225101202", "410225201202"]
    assert [p.code for p in INDEX.search("李庄", None)] == ["410221101201", "410225101202", "410225201202"]
    assert [p.code for p in INDEX.search("李庄村", "410221")] == ["410221101201"]  # exact name wins
    assert [p.code for p in INDEX.search(" 徐 场 ", "410225")] == [XUCHANG]  # spaces ignored
    assert [p.code for p in INDEX.search("城关", "410221", level=4)] == ["410221101"]
    assert INDEX.search("", "410225") == () and INDEX.search("王", "410225") == ()


def test_index_describes_a_place_without_placeholder_levels():
    assert INDEX.describe(XUCHANG) == "河南省 开封市 兰考县 堌阳镇 徐场村"
    assert INDEX.describe("419001") == "河南省 济源市"
    assert INDEX.describe("1") == ""


def test_index_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        INDEX.by_code = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        INDEX.by_code["1"] = Place("1", "x", None, 1)  # type: ignore[index]


def test_hooks_are_registered():
    known = hooks.known()
    assert {"area_cities", "area_counties", "area_townships", "area_villages"} <= known["choices_from"]
    assert {"village_known", "area_known"} <= known["skip_if"]
    assert {"area_chosen", "village_from_deep_link"} <= known["apply"]
    assert "area_place" in known["compute"] and "area_search" in validators.names()


# ---------------------------------------------------------------- listers


def test_counties_of_the_province_then_townships_then_villages():
    state, replies = start()
    assert state.step == "county" and buttons(replies) == {
        "410221": "杞县",
        "410225": "兰考县",
        "419001": "济源市",
    }
    assert all(o.label == "area.name" for o in replies[-1].options if o.id.isdigit())
    state, replies = feed(state, Input.choice("410225"))
    assert state.step == "township" and buttons(replies) == {"410225101": "堌阳镇", "410225201": "东坝头乡"}
    state, replies = feed(state, Input.choice("410225101"))
    assert list(buttons(replies)) == [XUCHANG, "410225101202", "410225101203"]
    state, replies = feed(state, Input.choice(XUCHANG))
    assert state.step == "review"
    assert state.answers == {"county": "410225", "township": "410225101", "village": XUCHANG}
    assert dict(replies[-1].params)["place"] == "河南省 开封市 兰考县 堌阳镇 徐场村"


def test_a_flow_with_a_city_step_lists_the_counties_of_that_city():
    book = make_book(city=True)
    state, replies = start(book=book)
    assert state.step == "city" and buttons(replies) == {"410200": "开封市", "419000": "省直辖县级行政区划"}
    state, replies = feed(state, Input.choice("419000"), book=book)
    assert buttons(replies) == {"419001": "济源市"}
    state, _ = feed(state, Input.choice("419001"), book=book)
    assert state.answers == {"city": "419000", "county": "419001"}


def test_choosing_another_county_forgets_the_township_and_village():
    state, _ = start(Input.choice("410225"), Input.choice("410225101"), Input.choice(XUCHANG))
    state, _ = feed(state, Input.choice("edit_county"), Input.choice("410221"))
    assert state.step == "township" and state.answers == {"county": "410221"}
    state, replies = feed(state, Input.choice("410221101"))
    assert state.step == "village" and buttons(replies) == {"410221101201": "李庄村"}


def test_lists_are_empty_without_an_index_or_an_answer():
    book = make_book(None)
    state, replies = start(book=book)
    assert state.step == "county" and buttons(replies) == {}
    assert hooks.lister("area_villages")(BOOK, State(flow="f", step="village")) == []


# ---------------------------------------------------------------- typed search


def test_search_at_the_village_step_answers_it():
    state, _ = start(Input.choice("410225"), Input.choice("410225101"), Input.text("张寨"))
    assert state.step == "review"  # the step's next
    # the village is in another township than the one chosen: the township follows the village
    assert state.answers == {"county": "410225", "township": "410225201", "village": ZHANGZHAI}


def test_search_at_the_township_step_skips_the_village_step():
    state, _ = start(Input.choice("410225"), Input.text("徐场"))
    assert state.step == "review" and state.answers["township"] == "410225101"
    assert state.answers["village"] == XUCHANG
    state, replies = feed(state, Input.choice("back"))
    assert state.step == "township" and "410225201" in buttons(replies)  # back to where it was typed


def test_back_to_a_village_chosen_by_button_shows_the_village_step():
    state, _ = start(Input.choice("410225"), Input.choice("410225101"), Input.choice(XUCHANG))
    state, replies = feed(state, Input.choice("back"))
    assert state.step == "village" and XUCHANG in buttons(replies)


def test_search_with_several_hits_lists_them_and_keeps_the_step():
    state, replies = start(Input.choice("410225"), Input.text("张"))
    assert keys(replies) == ["area.err_search_many", "t.township"] and state.step == "township"
    params = dict(replies[0].params)
    assert params["count"] == 3 and params["example"] == "张庄村"
    assert isinstance(params["names"], Items)
    assert params["names"].items[0] == Ref("area.village_in", (("village", "张庄村"), ("township", "堌阳镇")))
    assert "village" not in state.answers


def test_search_lists_at_most_five_names():
    rows = [*ROWS, *((f"41022520130{i}", f"王{i}村", "410225201", 5) for i in range(1, 8))]
    result = validators.run("area_search", "王", {"county": "410225"}, {"areas": AreaIndex.build(rows)})
    assert not result.ok and result.params["count"] == 7 and len(result.params["names"].items) == 5


def test_search_without_a_hit_gives_an_example():
    _, replies = start(Input.choice("410225"), Input.text("赵"))
    assert keys(replies) == ["area.err_search_none", "t.township"] and replies[0].notice
    assert dict(replies[0].params) == {"typed": "赵", "example": "徐场村"}


def test_search_without_any_village_says_so():
    result = validators.run("area_search", "赵", {}, {"areas": AreaIndex.build(ROWS[:6])})
    assert (result.ok, result.error) == (False, "area.err_no_villages")
    assert validators.run("area_search", "赵", {}, {}).error == "area.err_no_villages"


def test_search_without_a_county_looks_everywhere():
    result = validators.run("area_search", "李庄村", {}, {"areas": INDEX})
    assert result.ok and result.value == "410221101201"


# ---------------------------------------------------------------- deep links


def test_deep_link_fills_the_answers_and_skips_the_area_steps():
    state, replies = start(payload=f"v_{ZHANGZHAI}")
    assert state.step == "review"
    assert state.answers == {"county": "410225", "township": "410225201", "village": ZHANGZHAI}
    assert dict(replies[-1].params)["place"] == "河南省 开封市 兰考县 东坝头乡 张寨村"


def test_deep_link_fills_the_city_when_the_flow_asks_for_it():
    book = make_book(city=True)
    state, _ = start(book=book, payload=f"v_{ZHANGZHAI}")
    assert state.step == "review" and state.answers["city"] == "410200"


def test_editing_a_deep_linked_village_shows_the_village_step():
    state, _ = start(payload=f"v_{ZHANGZHAI}")
    state, replies = feed(state, Input.choice("edit_village"))
    assert state.step == "village" and ZHANGZHAI in buttons(replies)
    state, _ = feed(state, Input.choice("410225201201"))
    assert state.step == "review" and state.answers["village"] == "410225201201"


@pytest.mark.parametrize("payload", ["v_410225201299", "v_410225201", "x_410225201203", "v_41022520120３"])
def test_unknown_deep_links_change_nothing(payload):
    state, _ = start(payload=payload)
    assert state.step == "county" and state.answers == {}


def test_village_known_needs_an_answer_even_with_a_deep_link():
    state = State(flow="f", step="village", data={"start_payload": f"v_{ZHANGZHAI}"})
    assert not hooks.predicate("village_known")(BOOK, state)
    state.answers = {"county": "410225", "township": "410225201", "village": ZHANGZHAI}
    assert hooks.predicate("village_known")(BOOK, state)
    state.answers["township"] = "410225101"  # the village no longer fits the township
    assert not hooks.predicate("village_known")(BOOK, state)
    assert not hooks.predicate("village_known")(BOOK, replace(state, answers={}, data={}))


def test_transform_ignores_a_village_not_in_the_index():
    state = State(flow="f", step="intro", data={"start_payload": "v_410225201299"})
    hooks.transform("village_from_deep_link")(BOOK, state)
    assert state.answers == {}
