"""The place picker on real codes (兰考县): the index, the listers, typed search, deep links, start_at."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialogs import hooks, validators
from dialogs.areas import AreaIndex, Place, area_name, start_at
from dialogs.engine import advance
from dialogs.model import Book, Choice, Flow, Input, Ref, Reply, State, Step
from tests.area_support import (
    CHENGNEI,
    GUYANG,
    KAIFENG,
    LANKAO,
    LANKAO_CSV,
    NANJIAPO,
    PUTAOJIA,
    QIXIAN,
    ZHANGZHUANG,
    ZHOUCHANG,
    henan_index,
    index_rows,
    lankao_index,
)

INDEX = lankao_index()


def area_steps(*, city: bool = False) -> dict[str, Step]:
    """County (or city first), township and village steps as a flow would declare them.

    The steps above the village `keep_going`, so that an edit from the review goes down to the village.
    """
    steps = {
        "intro": Step("intro", "t.intro", (Choice("go", "t.go", apply="village_from_deep_link"),),
                      next="city" if city else "county"),
        "county": Step("county", "t.county", choices_from="area_counties", save_as="county",
                       input="choice_or_text", validate="area_search",
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
    """Area buttons of the last reply: id -> the text shown (a village with its township as `村（镇）`)."""
    shown = {}
    for option in replies[-1].options:
        params = dict(option.params)
        if option.label == "area.name":
            shown[option.id] = params["name"]
        elif option.label == "area.village_in":
            shown[option.id] = f"{params['village']}（{params['township']}）"
    return shown


def keys(replies: list) -> list[str]:
    """Message keys of the replies."""
    return [r.key for r in replies if isinstance(r, Reply)]


# ---------------------------------------------------------------- the index


def test_index_children_ancestors_and_descendants():
    assert [p.code for p in INDEX.children(None)] == ["410000"]
    assert [p.name for p in INDEX.children(KAIFENG)] == ["杞县", "兰考县"]  # by code
    assert [p.code for p in INDEX.ancestors(ZHOUCHANG)] == ["410000", KAIFENG, LANKAO, GUYANG]
    assert INDEX.ancestors("999999") == () and INDEX.get("999999") is None and INDEX.get(None) is None
    assert INDEX.get("4102251012") is None and INDEX.get("41022510124７") is None
    assert INDEX.ancestor(ZHOUCHANG, 3) == Place(LANKAO, "兰考县", KAIFENG, 3)
    assert [p.code for p in INDEX.descendants("410000", 3)] == [QIXIAN, LANKAO, "419001"]
    assert len(INDEX.children(LANKAO)) == 22 and len(INDEX.children(GUYANG)) == 48
    assert len(INDEX.descendants(None, 5)) == 470 and len(INDEX) == 498
    assert INDEX.first_province() == Place("410000", "河南省", None, 1)


def test_index_search_within_a_county():
    assert [p.code for p in INDEX.search("周场", LANKAO)] == [ZHOUCHANG]
    assert [p.code for p in INDEX.search(" 周 场 ", None)] == [ZHOUCHANG]  # spaces ignored
    assert [p.code for p in INDEX.search("张庄村", LANKAO)] == list(ZHANGZHUANG)  # exact names win
    assert len(INDEX.search("张庄", LANKAO)) > 4
    assert [p.code for p in INDEX.search("葡萄", LANKAO, level=4)] == [PUTAOJIA]
    assert INDEX.search("", LANKAO) == () and INDEX.search("周场", QIXIAN) == ()


def test_index_describes_a_place_without_placeholder_levels():
    assert INDEX.describe(ZHOUCHANG) == "河南省 开封市 兰考县 堌阳镇 周场村"
    assert INDEX.describe("419001") == "河南省 济源市"
    assert INDEX.describe("1") == ""


def test_villages_of_a_county_sharing_a_name_are_known():
    assert {"张庄村", "王庄村"} <= INDEX.shared_names(LANKAO) and "周场村" not in INDEX.shared_names(LANKAO)


def test_retired_areas_are_kept_but_not_offered():
    rows = [(*row, row[0] == ZHOUCHANG) for row in index_rows(LANKAO_CSV)]
    index = AreaIndex.build(rows)
    assert index.get(ZHOUCHANG).retired and index.describe(ZHOUCHANG).endswith("周场村")  # old records
    assert ZHOUCHANG not in {p.code for p in index.children(GUYANG)}
    assert index.search("周场", LANKAO) == ()


def test_the_whole_list_is_quick_to_search():
    index = henan_index()
    assert len(index) == 55164 and len(index.descendants("410000", 3)) == 181
    assert [p.code for p in index.search("周场", None)] == ["410212204202", ZHOUCHANG]
    assert [p.code for p in index.search("周场", LANKAO)] == [ZHOUCHANG]
    assert index.get(ZHOUCHANG).name == "周场村" and index.get("410102001002").name == "碧沙岗社区"


def test_hooks_are_registered():
    known = hooks.known()
    assert {"area_cities", "area_counties", "area_townships", "area_villages"} <= known["choices_from"]
    assert {"village_known", "area_known"} <= known["skip_if"]
    assert {"area_chosen", "village_from_deep_link", "area_city_pressed"} <= known["apply"]
    assert "area_place" in known["compute"] and "area_search" in validators.names()


# ---------------------------------------------------------------- listers


def test_counties_of_the_province_then_townships_then_villages():
    state, replies = start()
    assert state.step == "county" and buttons(replies) == {
        QIXIAN: "杞县",
        LANKAO: "兰考县",
        "419001": "济源市",
    }
    state, replies = feed(state, Input.choice(LANKAO))
    assert state.step == "township" and buttons(replies)[GUYANG] == "堌阳镇" and len(buttons(replies)) == 10
    assert len(hooks.lister("area_townships")(BOOK, state)) == 22  # paged, ten at a time
    state, replies = feed(state, Input.choice(GUYANG))
    assert list(buttons(replies))[:2] == [CHENGNEI, "410225101201"]
    listed = {c.id: c for c in hooks.lister("area_villages")(BOOK, state)}
    assert listed[ZHOUCHANG].params == (("name", "周场村"),)
    assert listed["410225101215"].params == (
        ("village", "张庄村"),
        ("township", "堌阳镇"),
    )  # 4 张庄村 in 兰考
    state, replies = feed(state, Input.choice(ZHOUCHANG))
    assert state.step == "review"
    assert state.answers == {"county": LANKAO, "township": GUYANG, "village": ZHOUCHANG}
    assert dict(replies[-1].params)["place"] == "河南省 开封市 兰考县 堌阳镇 周场村"


def test_many_counties_are_grouped_by_city():
    book = make_book(henan_index())
    state, replies = start(book=book)
    cities = {c.id: dict(c.params)["name"] for c in hooks.lister("area_counties")(book, state)}
    assert len(cities) == 18 and cities[KAIFENG] == "开封市"
    listed = hooks.lister("area_counties")(book, state)
    assert next(c for c in listed if c.id == "419000").label == "area.province_counties"
    state, replies = feed(state, Input.choice(KAIFENG), book=book)
    assert state.step == "county" and "county" not in state.answers
    assert buttons(replies)[LANKAO] == "兰考县" and len(buttons(replies)) == 9
    assert "area_cities" in {o.id for o in replies[-1].options}
    state, replies = feed(state, Input.choice(LANKAO), book=book)
    assert state.step == "township" and state.answers == {"county": LANKAO}
    state, replies = feed(state, Input.choice("back"), Input.choice("area_cities"), book=book)
    assert state.step == "county" and KAIFENG in buttons(replies) and "county" not in state.answers


def test_a_typed_county_name_at_the_county_step_finds_the_county():
    book = make_book(henan_index())
    state, replies = start(Input.text("兰考"), book=book)
    assert keys(replies) == ["area.found", "t.township"] and state.answers == {"county": LANKAO}
    assert replies[0].notice and dict(replies[0].params)["place"] == Ref("area.name", (("name", "兰考县"),))


def test_a_flow_with_a_city_step_lists_the_counties_of_that_city():
    book = make_book(city=True)
    state, replies = start(book=book)
    assert state.step == "city" and buttons(replies) == {KAIFENG: "开封市", "419000": "省直辖县级行政区划"}
    state, replies = feed(state, Input.choice("419000"), book=book)
    assert buttons(replies) == {"419001": "济源市"}
    state, _ = feed(state, Input.choice("419001"), book=book)
    assert state.answers == {"city": "419000", "county": "419001"}


def test_a_county_without_villages_says_so_and_leads_back():
    state, replies = start(Input.choice(QIXIAN))
    assert state.step == "township" and replies[-1].options[0].label == "area.no_villages"
    state, replies = feed(state, Input.choice("area_none"))
    assert state.step == "county" and "township" not in state.answers and LANKAO in buttons(replies)
    result = validators.run(
        "area_search", "周场", {"county": QIXIAN}, {"areas": INDEX, "save_as": "township"}
    )
    assert (result.ok, result.error) == (False, "area.err_no_villages")


def test_choosing_another_county_forgets_the_township_and_village():
    state, _ = start(Input.choice(LANKAO), Input.choice(GUYANG), Input.choice(ZHOUCHANG))
    state, _ = feed(state, Input.choice("edit_county"), Input.choice("419001"))
    assert state.step == "township" and state.answers == {"county": "419001"}


def test_lists_are_empty_without_an_index_or_an_answer():
    book = make_book(None)
    state, replies = start(book=book)
    assert state.step == "county" and buttons(replies) == {}
    assert hooks.lister("area_villages")(BOOK, State(flow="f", step="village")) == []


# ---------------------------------------------------------------- typed search


def test_one_hit_at_the_village_step_is_taken_and_named():
    state, replies = start(Input.choice(LANKAO), Input.choice(GUYANG), Input.text("南家坡"))
    assert state.step == "review" and keys(replies)[0] == "area.found"
    assert dict(replies[0].params)["place"] == Ref(
        "area.village_in", (("village", "南家坡村"), ("township", "葡萄架乡"))
    )
    # the village is in another township than the one chosen: the township follows the village
    assert state.answers == {"county": LANKAO, "township": PUTAOJIA, "village": NANJIAPO}


def test_search_at_the_township_step_skips_the_village_step():
    state, _ = start(Input.choice(LANKAO), Input.text("周场"))
    assert state.step == "review" and state.answers["township"] == GUYANG
    assert state.answers["village"] == ZHOUCHANG
    state, replies = feed(state, Input.choice("back"))
    assert state.step == "township" and GUYANG in buttons(replies)  # back to where it was typed


def test_a_village_typed_at_the_county_step_answers_the_rest():
    state, replies = start(Input.text("周场"))
    assert state.step == "review" and keys(replies)[0] == "area.found"
    assert state.answers == {"county": LANKAO, "township": GUYANG, "village": ZHOUCHANG}
    state, replies = feed(state, Input.choice("back"))
    assert state.step == "county" and LANKAO in buttons(replies)  # back to where it was typed


def test_back_to_a_village_chosen_by_button_shows_the_village_step():
    state, _ = start(Input.choice(LANKAO), Input.choice(GUYANG), Input.choice(CHENGNEI))
    state, replies = feed(state, Input.choice("back"))
    assert state.step == "village" and CHENGNEI in buttons(replies)


def test_several_hits_become_the_buttons_of_the_step():
    state, replies = start(Input.choice(LANKAO), Input.text("张庄村"))
    assert keys(replies) == ["area.err_search_many", "t.township"] and state.step == "township"
    assert dict(replies[0].params) == {"count": 4, "typed": "张庄村"}
    assert buttons(replies) == {
        "410225101215": "张庄村（堌阳镇）",
        "410225105235": "张庄村（谷营镇）",
        "410225106207": "张庄村（东坝头镇）",
        "410225107204": "张庄村（小宋镇）",
    }
    state, replies = feed(state, Input.choice("410225106207"))
    assert state.step == "review" and state.answers["village"] == "410225106207"
    assert state.answers["township"] == "410225106" and "area_hits" not in state.data


def test_hit_buttons_belong_to_the_step_where_the_name_was_typed():
    state, _ = start(Input.choice(LANKAO), Input.text("张庄村"))
    state, replies = feed(state, Input.choice("back"))
    assert state.step == "county" and LANKAO in buttons(replies)  # the counties, not the hits
    state, replies = feed(state, Input.choice(LANKAO))
    assert GUYANG in buttons(replies)  # a county pressed again forgets the hits


def test_search_lists_at_most_twenty_buttons():
    state, replies = start(Input.choice(LANKAO), Input.text("村"))
    assert keys(replies)[0] == "area.err_search_many" and dict(replies[0].params)["count"] > 20
    assert len(state.data["area_hits"]["codes"]) == 20


def test_search_without_a_hit_gives_an_example():
    _, replies = start(Input.choice(LANKAO), Input.text("赵钱孙"))
    assert keys(replies) == ["area.err_search_none", "t.township"] and replies[0].notice
    first = INDEX.descendants(LANKAO, 5)[0]
    assert dict(replies[0].params) == {"typed": "赵钱孙", "example": first.name}


def test_search_without_any_area_says_so():
    assert validators.run("area_search", "赵", {}, {}).error == "area.err_no_villages"


# ---------------------------------------------------------------- deep links and start_at


def test_deep_link_fills_the_answers_and_skips_the_area_steps():
    state, replies = start(payload=f"v_{NANJIAPO}")
    assert state.step == "review"
    assert state.answers == {"county": LANKAO, "township": PUTAOJIA, "village": NANJIAPO}
    assert dict(replies[-1].params)["place"] == "河南省 开封市 兰考县 葡萄架乡 南家坡村"


def test_deep_link_fills_the_city_when_the_flow_asks_for_it():
    book = make_book(city=True)
    state, _ = start(book=book, payload=f"v_{NANJIAPO}")
    assert state.step == "review" and state.answers["city"] == KAIFENG


def test_editing_a_deep_linked_village_shows_the_village_step():
    state, _ = start(payload=f"v_{NANJIAPO}")
    state, replies = feed(state, Input.choice("edit_village"))
    assert state.step == "village" and NANJIAPO in buttons(replies)
    state, _ = feed(state, Input.choice("410225208200"))
    assert state.step == "review" and state.answers["village"] == "410225208200"


@pytest.mark.parametrize("payload", ["v_410225208299", "v_410225208", "x_410225208201", "v_41022520820１"])
def test_unknown_deep_links_change_nothing(payload):
    state, _ = start(payload=payload)
    assert state.step == "county" and state.answers == {}


def test_a_retired_village_of_a_deep_link_is_not_taken():
    index = AreaIndex.build([(*row, row[0] == NANJIAPO) for row in index_rows(LANKAO_CSV)])
    state, _ = start(book=make_book(index), payload=f"v_{NANJIAPO}")
    assert state.step == "county" and state.answers == {}


def test_village_known_needs_an_answer_even_with_a_deep_link():
    state = State(flow="f", step="village", data={"start_payload": f"v_{NANJIAPO}"})
    assert not hooks.predicate("village_known")(BOOK, state)
    state.answers = {"county": LANKAO, "township": PUTAOJIA, "village": NANJIAPO}
    assert hooks.predicate("village_known")(BOOK, state)
    state.answers["township"] = GUYANG  # the village no longer fits the township
    assert not hooks.predicate("village_known")(BOOK, state)
    assert not hooks.predicate("village_known")(BOOK, replace(state, answers={}, data={}))


def test_start_at_a_township_opens_the_picker_at_its_villages():
    state, _ = start()
    assert start_at(BOOK, state, GUYANG) and state.answers == {"county": LANKAO, "township": GUYANG}
    state, replies = feed(state, Input.choice("back"), Input.choice("go"))  # into the picker again
    assert state.step == "village" and CHENGNEI in buttons(replies)
    state, _ = feed(state, Input.choice(CHENGNEI))
    assert state.step == "review" and state.answers["village"] == CHENGNEI


def test_start_at_refuses_what_is_not_offered():
    state = State(flow="f", step="county")
    assert not start_at(BOOK, state, "410200") and not start_at(BOOK, state, "999999999")
    assert state.answers == {} and state.data == {}


def test_transform_ignores_a_village_not_in_the_index():
    state = State(flow="f", step="intro", data={"start_payload": "v_410225208299"})
    hooks.transform("village_from_deep_link")(BOOK, state)
    assert state.answers == {}


def test_back_after_a_village_typed_at_the_intake_township_step_shows_that_step():
    from tests.test_intake_dialog import intake_book

    book = intake_book()
    state, _ = feed(State(), Input.command("intake"), Input.choice("worker"), Input.choice(LANKAO), book=book)
    state, replies = feed(state, Input.text("周场"), book=book)
    assert keys(replies) == ["area.found", "intake.q.head"] and state.answers["village"] == ZHOUCHANG
    state, replies = feed(state, Input.choice("back"), book=book)
    assert state.step == "township" and keys(replies) == ["intake.q.township"]


def test_area_name_names_a_village_with_its_township():
    assert area_name(BOOK, ZHOUCHANG) == Ref(
        "area.village_in", (("village", "周场村"), ("township", "堌阳镇"))
    )
    assert area_name(BOOK, LANKAO) == Ref("area.name", (("name", "兰考县"),))
    assert area_name(BOOK, "999999") is None and area_name(BOOK, None) is None
