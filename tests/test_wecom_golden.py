"""The golden transcripts rendered for WeCom: every screen fits the app's cards and 客服's menus.

Each turn's replies go through the WeCom renderers and the fake WeCom's own checks (the ones
that make the real API answer with an error): texts ≤ 2048 bytes, cards of ≤ 6 buttons with
unique keys and task ids, menus of ≤ 10 items; no choice is lost, and a 客服 turn needs at
most 4 messages, leaving one of the window's five for a notice.
"""

from __future__ import annotations

import pytest

from bot.channels.wecom.render import app_messages, kf_messages, split_card_key
from content.i18n import Translator
from dialogs.engine import advance
from dialogs.model import Reply, State
from tests.fakewecom import FakeWeCom, _check_kf_message
from tests.golden_runner import golden_files, load, to_input
from tests.test_intake_dialog import intake_book

KF_MESSAGES_PER_TURN = 4


def turns(transcript: dict) -> list[list[Reply]]:
    """The replies of every turn of a transcript."""
    book, state, shown, result = intake_book(), State(lang=transcript.get("lang", "zh_Hans")), [], []
    for turn in transcript["turns"]:
        state, outputs = advance(book, state, to_input(turn, shown))
        shown = [r for r in outputs if isinstance(r, Reply)]
        result.append(shown)
    return result


def ids_of(messages: list[dict]) -> list[str]:
    """Every button id on the cards and menus."""
    found = []
    for message in messages:
        if message["msgtype"] == "template_card":
            found += [split_card_key(b["key"])[0] for b in message["template_card"]["button_list"]]
        elif message["msgtype"] == "msgmenu":
            found += [item["click"]["id"] for item in message["msgmenu"]["list"]]
    return found


@pytest.mark.parametrize("path", golden_files(), ids=lambda p: p.stem)
def test_golden_screens_fit_wecom(path):
    transcript = load(path)
    translator = Translator(transcript.get("lang", "zh_Hans"))
    fake = FakeWeCom()  # its checks, without a server
    for number, replies in enumerate(turns(transcript), start=1):
        expected = [f"p:{r.token or 0}:{o.id}" for r in replies for o in r.options]
        app = app_messages(translator, replies)
        for message in app:
            if message["msgtype"] == "template_card":
                fake._check_card(message["template_card"])
            else:
                assert len(message["text"]["content"].encode()) <= 2048, f"turn {number}"
        kf = kf_messages(translator, replies)
        for message in kf:
            _check_kf_message(message)
        assert ids_of(app) == expected == ids_of(kf), f"turn {number}: a choice was lost"
        assert len(kf) <= KF_MESSAGES_PER_TURN, f"turn {number}: {len(kf)} 客服 messages"


@pytest.mark.parametrize("path", golden_files(), ids=lambda p: p.stem)
def test_golden_screens_as_numbered_text_keep_every_choice_within_the_limit(path):
    transcript = load(path)
    translator = Translator(transcript.get("lang", "zh_Hans"))
    for number, replies in enumerate(turns(transcript), start=1):
        shown = app_messages(translator, replies, cards=False)
        assert {message["msgtype"] for message in shown} <= {"text"}, f"turn {number}"
        content = "\n".join(message["text"]["content"] for message in shown)
        for message in shown:
            assert len(message["text"]["content"].encode()) <= 2048, f"turn {number}"
        for reply in replies:
            for option in reply.options:  # every choice is offered: by its number, or by its words
                label = translator.render(reply).buttons[reply.options.index(option)][1]
                assert label in content, f"turn {number}: {label!r} not offered"
