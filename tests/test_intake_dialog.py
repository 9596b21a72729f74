"""The intake dialog (content/flows/intake.yaml): validation, members, review edits, consent, resume."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from typing import Any

import pytest
from stdnum.cn import ric

from bot.features.intake.effects import with_consent_text
from content.book import load_book
from content.i18n import Translator
from dialogs import validators
from dialogs.areas import AreaIndex
from dialogs.engine import advance
from dialogs.intake_submission import build_submission
from dialogs.model import LANGUAGES, Book, Event, Input, Reply, State
from storage.submission import parse_submission
from tests.area_support import NANJIAPO, PUTAOJIA, ZHOUCHANG, lankao_index
from tests.golden_runner import golden_files, load, play

TODAY = "2026-11-27"
XUCHANG = ZHOUCHANG  # 周场村, 堌阳镇, 兰考县: the name typed at the county step ("周场")
DALIZHUANG = NANJIAPO  # 南家坡村, 葡萄架乡: the village of a poster


def resident_id(body: str) -> str:
    """A resident ID number: 17 digits and the check character stdnum computes."""
    return body + ric.calc_check_digit(body + "0")


SON_ID = resident_id("41022520100301123")  # male, born 2010-03-01: 16 on TODAY
KID_ID = resident_id("41022520150601222")  # female, born 2015-06-01: 11 on TODAY
HEAD_ID = resident_id("41022519780512131")  # male, born 1978-05-12: 48 on TODAY


def area_index() -> AreaIndex:
    """The real areas of 兰考县 (tests/data/areas_lankao.csv), as the bot loads them."""
    return lankao_index()


@cache
def intake_book() -> Book:
    """The shipped content with the shipped area index."""
    book = load_book()
    return replace(book, context={**book.context, "areas": area_index()})


# ---------------------------------------------------------------- driving the engine


def cmd(name: str, arg: str = "") -> Input:
    return Input.command(name, arg)


def text(value: str) -> Input:
    return Input.text(value)


def press(choice_id: str) -> Input:
    return Input.choice(choice_id)


def step(state: State, user_input: Input, today: str | None = TODAY) -> tuple[State, list]:
    """One input, stamped with the date, a button with the current token."""
    if user_input.kind == "choice":
        user_input = Input.choice(user_input.value, state.seq)
    return advance(intake_book(), state, replace(user_input, today=today))


def feed(state: State, *inputs: Input, today: str | None = TODAY) -> tuple[State, list]:
    """Several inputs; the outputs of all of them."""
    out: list = []
    for user_input in inputs:
        state, replies = step(state, user_input, today)
        out += replies
    return state, out


def keys(outputs: list) -> list[str]:
    return [r.key for r in outputs if isinstance(r, Reply)]


def events(outputs: list, name: str) -> list[Event]:
    return [e for e in outputs if isinstance(e, Event) and e.name == name]


HOUSEHOLD_FACTS = (press("worker"), text("周场"), text("王建国"), press("registered_poor"),
                   text("4102251012010001"), text("13812345678"))  # fmt: skip
SON = (text("王小明"), press("child"), press("male"), text("16"), text(SON_ID), press("junior_current"),
       press("full"), press("at_home"), press("technical_school"), press("electrician"), press("yes"),
       press("evening"), press("ok"))  # fmt: skip
KID = (text("王小红"), press("child"), press("female"), text("11"), press("agree"), text(KID_ID),
       press("in_school"), press("none"), press("in_school"), press("none"), press("ok"))  # fmt: skip
WORKER_RUN = (cmd("intake"), *HOUSEHOLD_FACTS, *SON, press("add"), *KID, press("no_more"), press("next"),
              press("agree"))  # fmt: skip


def run_until(target: str, inputs: tuple[Input, ...] = WORKER_RUN) -> State:
    """Feed the worker's run until the flow stands at `target`."""
    state = State()
    for user_input in inputs:
        state, _ = step(state, user_input)
        if state.step == target:
            return state
    raise AssertionError(f"never reached {target}")


# ---------------------------------------------------------------- golden transcripts


@pytest.mark.parametrize("path", golden_files("intake_*.yaml"), ids=lambda p: p.stem)
def test_intake_golden_transcript(path):
    transcript = load(path)
    for number, (expected, actual) in enumerate(play(intake_book(), transcript), start=1):
        assert actual == expected, f"{transcript['name']}: turn {number}"


# ---------------------------------------------------------------- validators


def check(name: str, typed: str, answers: dict | None = None, today: str | None = TODAY):
    return validators.run(name, typed, answers or {}, {"today": today, "data": {}})


@pytest.mark.parametrize("typed", ["🙂", "🙂🙂🙂", "123", "!!!", "  "])
def test_a_name_needs_letters(typed):
    assert check("person_name", typed).error == "intake.err.name_letters"


@pytest.mark.parametrize(
    "typed",
    ["王小明1", "<b>王</b>", "王\n小明", "王小明🙂", "王@小明", "·王", "王·", "王··明", "https://x.cn"],
)
def test_a_name_has_no_digits_signs_emoji_markup_or_line_breaks(typed):
    assert check("person_name", typed).error == "intake.err.name_chars"


def test_a_name_is_trimmed_and_at_most_20_characters():
    assert check("person_name", "  王  小明 ").value == "王 小明"
    assert check("person_name", "Li Wei").value == "Li Wei"
    assert check("person_name", "阿依古丽·买买提").value == "阿依古丽·买买提"
    assert check("person_name", "阿依古丽 ・ 买买提").value == "阿依古丽·买买提"  # another dot, spaced
    assert check("person_name", "𠮷娃").ok  # a character outside the basic block
    assert check("person_name", "王" * 20).ok
    result = check("person_name", "王" * 200)
    assert (result.error, result.params) == ("intake.err.name_long", {"limit": 20, "count": 200})


@pytest.mark.parametrize(
    "typed", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "１３８１２３４５６７８"]
)
def test_mobile_numbers_are_kept_as_11_digits(typed):
    assert check("cn_mobile", typed).value == "13812345678"


@pytest.mark.parametrize(
    ("typed", "key"),
    [("12345", "intake.err.phone"), ("12345678901", "intake.err.phone"), ("phone", "intake.err.phone"),
     ("+1 212 555 0100", "intake.err.phone"), ("0371-66612345", "intake.err.phone_landline"),
     ("010 12345678", "intake.err.phone_landline")],
)  # fmt: skip
def test_other_numbers_are_not_mobile_numbers(typed, key):
    assert check("cn_mobile", typed).error == key


def test_household_numbers():
    assert check("household_number", "4102 2510 1201 0001").value == "4102251012010001"
    assert check("household_number", "４１０２２５１０１２０１０００１２").value == "41022510120100012"
    # The real shape: a village's 12-digit code and a serial, 16 to 19 digits, starting with a province code.
    for typed in ("12", "ab12cd", "ABCDEF", "户编号", "1" * 33, "410225101201", "0000000000000000",
                  "9902251012010001", "41022510120100011234", "4102251012O10001"):  # fmt: skip
        assert check("household_number", typed).error == "intake.err.household_number"


def test_a_typed_trade_is_kept_as_other():
    assert check("trade_text", " 挖掘机 ").value == "other:挖掘机"
    assert check("trade_text", "🚜").error == "intake.err.trade"
    assert check("trade_text", "挖" * 41).error == "intake.err.trade"


def test_resident_ids_are_checked_with_their_checksum():
    assert check("resident_id", SON_ID).value == SON_ID
    assert check("resident_id", SON_ID[:14] + " " + SON_ID[14:]).value == SON_ID
    assert check("resident_id", resident_id("11010519491231002")).value == "11010519491231002X"
    assert check("resident_id", "11010519491231002x").value == "11010519491231002X"
    wrong = SON_ID[:-1] + ("0" if SON_ID[-1] != "0" else "1")
    assert check("resident_id", wrong).error == "intake.err.id_checksum"
    result = check("resident_id", SON_ID[:-2])
    assert (result.error, result.params) == ("intake.err.id_format", {"count": 16})
    assert check("resident_id", "41022520101301123X").error == "intake.err.id_checksum"


def test_resident_ids_with_impossible_birth_dates_are_refused():
    assert check("resident_id", resident_id("41022520101301123")).error == "intake.err.id_birth"  # month 13
    assert check("resident_id", resident_id("41022520300101123")).error == "intake.err.id_birth"  # future
    assert check("resident_id", resident_id("41022518000101123")).error == "intake.err.id_birth"  # 226 years


def test_an_id_that_contradicts_the_typed_sex_or_age_is_explained():
    result = check("resident_id", SON_ID, {"m.sex": "female"})
    assert result.error == "intake.err.id_sex"
    assert {k: v.key for k, v in result.params.items()} == {
        "id_sex": "intake.a.male",
        "typed": "intake.a.female",
    }
    result = check("resident_id", SON_ID, {"m.sex": "male", "m.age": 12})
    assert (result.error, result.params) == (
        "intake.err.id_age",
        {"birth": "2010-03-01", "id_age": 16, "typed": 12},
    )
    assert check("resident_id", SON_ID, {"m.sex": "male", "m.age": 17}).ok  # a year off: 虚岁 or a birthday


def test_an_id_already_given_to_another_member_is_refused():
    answers = {"members": [{"m.name": "王建国", "m.id": HEAD_ID}], "m.index": 1}
    result = check("resident_id", HEAD_ID, answers)
    assert (result.error, result.params) == ("intake.err.id_duplicate", {"name": "王建国"})
    assert check("resident_id", HEAD_ID, {**answers, "m.index": 0}).ok  # the same member, changed


@pytest.mark.parametrize(("typed", "age"), [("0", 0), ("16", 16), ("16岁", 16), ("16 周岁", 16), ("１６", 16),
                                            ("120", 120), ("7 years", 7), ("十六", 16), ("十六岁", 16),
                                            ("两岁", 2), ("二十一", 21), ("一百零二", 102),
                                            ("十", 10)])  # fmt: skip
def test_ages(typed, age):
    assert check("age", typed).value == age


@pytest.mark.parametrize("typed", ["-1", "121", "999", "abc", "十十", "一二", "二百", "1.5", "16 months"])
def test_impossible_ages_are_refused(typed):
    result = check("age", typed)
    assert (result.error, result.params) == ("intake.err.age", {"limit": 120})


def test_an_age_must_fit_the_id_number_given_before():
    assert check("age", "16", {"m.id": SON_ID}).ok and check("age", "15", {"m.id": SON_ID}).ok
    result = check("age", "12", {"m.id": SON_ID})
    assert result.error == "intake.err.age_id"
    assert result.params == {"id": "4102*************8", "birth": "2010-03-01", "id_age": 16, "typed": 12}
    assert check("age", "12", {"m.id": SON_ID}, today=None).ok  # without the channel's date: not compared


# ---------------------------------------------------------------- errors in the dialog keep every answer


@pytest.mark.parametrize(
    ("at", "typed", "key"),
    [("h_name", "🙂🙂", "intake.err.name_letters"), ("h_name", "王" * 200, "intake.err.name_long"),
     ("h_phone", "12345", "intake.err.phone"), ("h_number", "12", "intake.err.household_number"),
     ("m_id", SON_ID[:-1] + "0", "intake.err.id_checksum"), ("m_age", "130", "intake.err.age"),
     ("m_age", "十十", "intake.err.age"), ("m_name", "🙂", "intake.err.name_letters"),
     ("m_name", "王小明2", "intake.err.name_chars")],
)  # fmt: skip
def test_a_wrong_answer_is_explained_and_nothing_is_lost(at, typed, key):
    state = run_until(at)
    before = json.loads(state.to_json())["answers"]
    state, out = step(state, text(typed))
    assert keys(out) == [key, f"intake.q.{QUESTION_KEYS[at]}"] and out[0].notice
    assert state.step == at and state.answers == before
    for lang in LANGUAGES:
        rendered = Translator(lang).render(out[0]).text
        assert "{" not in rendered and "intake." not in rendered
        assert ("比如" if lang == "zh_Hans" else "for example") in rendered


QUESTION_KEYS = {"h_name": "head", "h_phone": "phone", "h_number": "number", "m_id": "id", "m_age": "age",
                 "m_name": "name"}  # fmt: skip


def test_an_id_contradicting_the_sex_is_explained_in_the_dialog():
    state = run_until("m_id")
    state, _ = feed(state, press("back"), press("back"), press("female"), text("16"))
    state, out = step(state, text(SON_ID))
    assert keys(out) == ["intake.err.id_sex", "intake.q.id"] and state.answers["m.sex"] == "female"
    text_zh = Translator("zh_Hans").render(out[0]).text
    assert "男性" in text_zh and "选的是女" in text_zh


@pytest.mark.parametrize("at", ["h_name", "h_phone", "m_name", "m_id", "m_age", "w_kind", "review"])
def test_a_photo_instead_of_an_answer_is_explained(at):
    state = run_until(at)
    before = state.answers
    state, out = step(state, Input("other"))
    assert keys(out)[0] == "core.text_only" and state.step == at and state.answers == before


def test_typing_where_buttons_are_expected_keeps_the_step():
    state = run_until("h_status")
    state, out = step(state, text("贫困户"))
    assert keys(out) == ["core.use_buttons", "intake.q.status"] and state.step == "h_status"


# ---------------------------------------------------------------- the member loop


def test_the_age_comes_before_the_id_number_and_may_be_unknown():
    state = run_until("m_age")
    assert "m.id" not in state.answers  # the ID number is asked after the age (and the guardian)
    _, out = step(state, cmd("help"))
    assert out[-1].options[0].id == "unknown"
    state, _ = feed(state, press("unknown"))
    assert state.answers["m.age"] == "unknown" and state.step == "m_guardian1"  # a child of unknown age


def test_an_id_number_contradicting_the_typed_age_is_explained():
    state = run_until("m_age")
    state, out = feed(state, text("12"))
    assert keys(out) == ["intake.q.guardian"]  # 12: a child, the guardian first
    state, out = feed(state, press("agree"), text(SON_ID))
    assert keys(out)[-2:] == ["intake.err.id_age", "intake.q.id"] and "m.id" not in state.answers


def test_a_child_under_14_needs_the_guardian_and_is_dropped_without_consent():
    state = run_until("m_guardian1")
    assert state.answers["m.name"] == "王小红"
    state, out = feed(state, press("refuse"))
    assert keys(out) == ["intake.guardian_refused"]
    assert "王小红" not in state.to_json() and KID_ID not in state.to_json()
    state, out = feed(state, press("go_on"))
    assert keys(out) == ["intake.q.more"] and len(state.answers["members"]) == 1


def test_a_changed_age_that_makes_a_child_asks_the_guardian_before_the_id_number():
    state = run_until("more")  # after the son (16) was confirmed
    state, out = feed(
        state, press("no_more"), press("member_0"), press("e_identity"), press("male"), text("13")
    )
    assert keys(out)[-1] == "intake.q.guardian" and "m.id" not in state.answers
    state, out = feed(state, press("agree"))
    assert keys(out) == ["intake.q.id"]
    state, out = feed(state, press("skip"))
    assert state.step == "m_done" and state.answers["m.age"] == 13 and state.answers["m.id"] == ""
    state, out = feed(state, press("ok"))
    assert keys(out) == ["intake.review"] and state.answers["members"][0]["m.guardian"] is True


def test_a_child_whose_age_is_only_in_the_id_number_is_asked_the_guardian_before_saving():
    state = run_until("m_name")
    state, out = feed(state, text("王小红"), press("other"), press("female"), press("unknown"), text(KID_ID))
    assert keys(out)[-1] == "intake.q.education"  # "other" of unknown age: not known to be a child before
    state, out = feed(
        state, press("in_school"), press("none"), press("in_school"), press("none"), press("ok")
    )
    assert keys(out)[-1] == "intake.q.guardian"


def test_removing_a_member_from_their_card():
    state = run_until("more")
    state, out = feed(state, press("no_more"), press("member_0"), press("remove"))
    assert keys(out)[-1] == "intake.review" and state.answers["members"] == []
    assert [o.id for o in out[-1].options if o.id not in ("back", "menu")] == ["household", "add"]


def test_a_household_answering_for_itself_may_add_another_member():
    household = (cmd("start", f"v_{DALIZHUANG}"), press("household"), text("李桂花"), press("lifted_out"),
                 press("skip"), press("skip"), *SON)  # fmt: skip
    state, out = feed(State(), *household)
    assert keys(out)[-1] == "intake.q.more"  # a family with two school-leavers enters both in one go
    assert "intake.q.county" not in keys(out) and state.answers["village"] == DALIZHUANG
    state, out = feed(state, press("no_more"))
    assert [o.id for o in out[-1].options if o.id not in ("back", "menu")] == [
        "next",
        "household",
        "member_0",
        "add",
    ]


# ---------------------------------------------------------------- editing from the review


def test_the_review_masks_the_id_and_phone_numbers():
    _, out = feed(run_until("more"), press("no_more"))
    for lang in LANGUAGES:
        rendered = Translator(lang).render(out[-1]).text
        assert (
            "4102*************8" in rendered
            and "*******5678" in rendered
            and "兰考县 堌阳镇 周场村" in rendered
        )
        assert SON_ID not in rendered and "13812345678" not in rendered


def test_editing_a_household_fact_comes_back_to_the_review():
    state, _ = feed(run_until("more"), press("no_more"))
    state, out = feed(state, press("household"), press("phone"), text("13987654321"))
    assert keys(out)[-1] == "intake.review" and state.answers["h.phone"] == "13987654321"
    assert state.return_to is None and len(state.answers["members"]) == 1


def test_editing_the_place_goes_down_to_the_village():
    state, _ = feed(run_until("more"), press("no_more"), press("household"), press("place"))
    assert state.step == "county"
    state, out = feed(state, press("410225"), press(PUTAOJIA), press(DALIZHUANG))
    assert keys(out)[-1] == "intake.review" and state.answers["village"] == DALIZHUANG


def test_editing_one_part_of_a_member_comes_back_to_their_card_then_to_the_review():
    state, _ = feed(run_until("more"), press("no_more"), press("member_0"))
    state, out = feed(state, press("e_name"), text("王晓明"))
    assert keys(out) == ["intake.q.name", "intake.q.member_done"] and state.step == "m_done"
    state, out = feed(state, press("ok"))
    assert keys(out) == ["intake.review"] and state.answers["members"][0]["m.name"] == "王晓明"
    assert len(state.answers["members"]) == 1


def test_back_out_of_an_edit_does_not_bounce_a_members_changes():
    state, _ = feed(run_until("more"), press("no_more"), press("household"), press("back"))
    state, out = feed(state, press("member_0"), press("e_wish"))
    assert keys(out)[-1] == "intake.q.kind"
    state, out = feed(state, press("none"), press("ok"))
    assert keys(out)[-1] == "intake.review" and state.answers["members"][0]["w.kind"] == "none"


def test_back_out_of_an_edit_does_not_bounce_the_consent():
    state, _ = feed(run_until("more"), press("no_more"), press("household"), press("phone"),
                    press("back"), press("back"))  # fmt: skip
    assert state.step == "review"
    state, out = feed(state, press("next"), press("agree"))
    assert keys(out) == ["intake.consent.ask", "intake.done"] and len(events(out, "intake_submitted")) == 1


# ---------------------------------------------------------------- consent and submission


def test_consent_refused_sends_nothing_and_says_why():
    state = run_until("consent")
    state, out = feed(state, press("refuse"))
    assert keys(out) == ["intake.refused"] and not events(out, "intake_submitted")
    assert "submission" not in state.answers
    state, out = feed(state, press("finish"))
    assert keys(out) == ["menu.main"] and state.answers == {} and not events(out, "intake_submitted")


def test_the_submission_is_sent_once_and_validates_against_storage():
    state, out = feed(State(), *WORKER_RUN)
    (event,) = events(out, "intake_submitted")
    submission = dict(event.data)["answers"]["submission"]
    parsed = parse_submission(with_consent_text(submission))
    assert parsed.answered_by == "worker" and parsed.village_code == XUCHANG
    assert parsed.household.phone == "13812345678" and parsed.household.household_number == "4102251012010001"
    son, kid = parsed.members
    assert (son.age, str(son.birth_date), son.id_number, son.two_after) == (
        16,
        "2010-03-01",
        SON_ID,
        "current",
    )
    assert (son.wish.kind, son.wish.trade, son.wish.outside_county_ok) == (
        "technical_school",
        "electrician",
        True,
    )
    assert (kid.age, kid.guardian_consent, kid.wish.kind) == (11, True, "none")
    assert (
        parsed.consent.given
        and parsed.consent.text_version == "2026-11-1"
        and "/forget" in parsed.consent.text
    )
    assert "start_payload" not in state.data
    for again in (
        cmd("help"),
        text("谢谢"),
        cmd("language"),
    ):  # the thank-you screen is shown again, not sent again
        state, out = step(state, again)
        assert not events(out, "intake_submitted")


def submission_of(**member: Any) -> dict[str, Any]:
    """A submission with one member's answers."""
    saved = {"m.name": "李小军", "m.relation": "grandchild", "m.sex": "male", "m.age": 17,
             "m.edu": {"education": "junior_high_graduate", "two_after": "previous"}, "m.labour": "full",
             "m.situation": "working_away", **member}  # fmt: skip
    answers = {"answered_by": "household", "village": DALIZHUANG, "h.name": "李桂花",
               "h.status": "lifted_out",
               "h.number": "", "h.phone": "", "members": [saved],
               "consent": {"given": True, "text_version": "1", "language": "en"}}  # fmt: skip
    return build_submission(answers, {"today": TODAY})


@pytest.mark.parametrize(
    ("member", "wish"),
    [({"w.kind": "entrepreneurship", "w.project": "unsure", "w.outside": False, "w.contact": "morning"},
      {"kind": "entrepreneurship", "has_business_project": None, "outside_county_ok": False, "trade": None}),
     ({"w.kind": "vocational_training", "w.training": "entrepreneurship", "w.project": True,
       "w.trade": "cnc"},
      {"kind": "vocational_training", "training_type": "entrepreneurship", "has_business_project": True,
       "trade": None}),
     ({"w.kind": "apprenticeship", "w.trade": "other:挖掘机", "w.project": True},
      {"kind": "apprenticeship", "trade": "other:挖掘机", "has_business_project": None}),
     ({"w.kind": "none", "w.trade": "cnc"}, {"kind": "none"})],
)  # fmt: skip
def test_build_submission_keeps_only_the_details_of_the_wish(member, wish):
    raw = submission_of(**member)
    parsed = parse_submission(with_consent_text(raw))
    assert {k: v for k, v in raw["members"][0]["wish"].items() if k in wish} == wish
    assert parsed.household.phone is None and parsed.household.household_number is None


def test_build_submission_derives_age_and_sex_from_the_id_number():
    raw = submission_of(**{"m.age": "unknown", "m.sex": None, "m.id": SON_ID, "w.kind": "none"})
    member = raw["members"][0]
    assert (member["age"], member["sex"], member["birth_date"]) == (16, "male", "2010-03-01")
    assert member["guardian_consent"] is None
    parse_submission(with_consent_text(raw))


def test_a_childs_guardian_consent_goes_into_the_submission_only_for_children():
    child = submission_of(**{"m.age": 12, "m.guardian": True, "w.kind": "none"})["members"][0]
    adult = submission_of(**{"m.age": 30, "m.guardian": True, "w.kind": "none"})["members"][0]
    assert (child["guardian_consent"], adult["guardian_consent"]) == (True, None)


# ---------------------------------------------------------------- leaving half-way loses nothing


def test_resume_after_a_restart_at_every_step():
    """Serialise the state between inputs; at each step /start offers to continue, which repeats the step."""
    state, sent, shown = State(), 0, None
    for user_input in WORKER_RUN:
        state = State.from_json(state.to_json())
        if state.flow == "intake" and state.step != "who":
            answers = state.answers
            state, out = step(state, cmd("start"))
            assert keys(out) == ["core.resume"]
            state, out = step(State.from_json(state.to_json()), press("continue"))
            assert keys(out) == [shown] and state.answers == answers
            sent += len(events(out, "intake_submitted"))
        state, out = step(state, user_input)
        shown = keys(out)[-1]
        sent += len(events(out, "intake_submitted"))
    # A finished intake is not offered for resuming: /start greets and shows the menu, nothing is re-sent.
    state, out = feed(State.from_json(state.to_json()), cmd("start"))
    assert keys(out) == ["core.welcome", "menu.main"] and not events(out, "intake_submitted")
    assert sent == 1


def test_start_over_forgets_the_answers():
    state = run_until("m_age")
    state, out = feed(state, cmd("start"), press("restart"))
    assert keys(out) == ["core.resume", "intake.q.who"] and state.answers == {}


def test_the_check_flow_leads_to_the_intake():
    book = intake_book()
    steps = book.flows["check"].steps
    assert [c.goto for s in ("result", "detail") for c in steps[s].choices if c.id == "contact"] == [
        ">intake"
    ] * 2
    assert book.commands["intake"] == "intake" and book.flows["intake"].resumable


def test_every_screen_of_the_runs_renders_in_both_languages():
    runs = [WORKER_RUN, (cmd("start", f"v_{DALIZHUANG}"), press("household"), text("李桂花"),
                         press("unknown"), press("skip"), press("skip"), *SON, press("no_more"),
                         press("next"), press("refuse"))]  # fmt: skip
    for run in runs:
        _, out = feed(State(), *run)
        for reply in (r for r in out if isinstance(r, Reply)):
            for lang in LANGUAGES:
                rendered = Translator(lang).render(reply)
                shown = rendered.text + "".join(label for _, label in rendered.buttons)
                assert "intake." not in shown and "{" not in shown, (reply.key, lang)


# ---------------------------------------------------------------- the poster's village


def test_the_posters_village_is_named_on_the_first_screen():
    _, out = feed(State(), cmd("start", f"v_{DALIZHUANG}"))
    place = dict(out[-1].params)["place"]
    assert place.key == "intake.poster_place"
    rendered = Translator("zh_Hans").render(out[-1]).text
    assert "您在葡萄架乡 南家坡村登记。" in rendered
    assert "You are signing up in 南家坡村, 葡萄架乡." in Translator("en").render(out[-1]).text


@pytest.mark.parametrize("code", ["v_999999999999", "v_abc", "v_4102251012"])
def test_an_unknown_poster_code_is_said_before_the_county_list(code):
    state, out = feed(State(), cmd("start", code))
    assert keys(out) == ["core.welcome", "intake.q.who"]
    assert dict(out[-1].params)["place"].key == "intake.poster_unknown"
    assert code in Translator("zh_Hans").render(out[-1]).text
    state, out = feed(state, press("household"))
    assert keys(out) == ["intake.q.county"] and "start_payload" not in state.data
    _, out = feed(state, cmd("cancel"), press("discard"), cmd("intake"))
    assert keys(out)[-1] == "intake.q.who" and dict(out[-1].params)["place"] == ""  # said once


def test_no_place_is_said_without_a_poster():
    _, out = feed(State(), cmd("intake"))
    assert dict(out[-1].params)["place"] == ""


def test_the_english_review_says_what_a_yes_is_about():
    _, out = feed(run_until("more"), press("no_more"))
    rendered = Translator("en").render(out[-1]).text
    assert "Able to work: yes" in rendered and "; Yes;" not in rendered
    assert "能干活" in Translator("zh_Hans").render(out[-1]).text


@pytest.mark.parametrize(("at", "typed", "pressed"), [("m_sex", "男", "m_age"), ("h_status", "不清楚", "h_number"),
                                                     ("h_number", "不知道，跳过", "h_phone")])  # fmt: skip
def test_typing_a_buttons_words_presses_it(at, typed, pressed):
    state, _ = step(run_until(at), text(typed))
    assert state.step == pressed
