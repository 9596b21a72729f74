"""The console channel: a scripted conversation piped into `outreach chat`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

OUTREACH = Path(sys.executable).with_name("outreach")


def chat(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `outreach chat` with the script on stdin and a fresh data directory."""
    env = {**os.environ, "DATA_DIR": str(tmp_path), "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
    env.pop("DATABASE_URL", None)
    env.pop("BOT_TOKEN", None)
    return subprocess.run(
        [str(OUTREACH), "chat", *args],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_piped_conversation_explains_tuition_with_citation_in_both_languages(tmp_path):
    result = chat(tmp_path, "1\n3\n/language\n2\n/quit\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[1] 了解政策" in out  # the menu as numbered choices
    assert "> 3" in out  # piped inputs are echoed into the transcript
    assert "1700元" in out and "来源：豫人社〔2017〕57号 四（一）" in out
    assert "1,700 yuan" in out and "Source: 豫人社〔2017〕57号 四（一）" in out  # same step, now in English
    assert "aiogram" not in result.stderr


def test_conversation_is_kept_between_runs(tmp_path):
    chat(tmp_path, "/language\n2\n/quit\n")
    result = chat(tmp_path, "/quit\n")
    assert "What would you like to do?" in result.stdout  # the language chosen last time
    assert (tmp_path / "outreach.sqlite3").exists()


def test_bad_input_in_console_gets_friendly_reply(tmp_path):
    result = chat(tmp_path, "99\n" + "字" * 5000 + "\n/nonsense\n")
    assert result.stdout.count("请点下面的按钮来回答。") == 1  # "99" is no button: typed text at a menu
    assert "这段话太长了" in result.stdout
    assert "这个命令我不认识" in result.stdout


def test_console_does_not_import_aiogram(tmp_path):
    code = (
        "import sys, asyncio, io;"
        "from bot.channels.console.chat import run_console; from bot.core.settings import load_settings;"
        f"asyncio.run(run_console(load_settings(data_dir={str(tmp_path)!r}), stdin=io.StringIO('/quit\\n')));"
        "print('aiogram' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_typed_numbers_are_answers_where_a_number_is_asked_and_odd_digits_never_crash(tmp_path):
    # ⑨ at the menu (no 9th button: typed text), [3] intake, worker, a village typed, head, status [1],
    # the number skipped by its words, phone, then the member: name, relation [3] child, sex [1] male,
    # and the age 3, which must not press [3].
    script = "⑨\n3\n1\n周场\n王建国\n1\n不知道，跳过\n13812345678\n王小明\n3\n1\n3\n/quit\n"
    result = chat(tmp_path, script)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert "王小明不满14岁" in out  # the age 3 was read as the age: a child, the guardian is asked
    assert "[主菜单]" in out  # where an answer is typed, buttons are shown by their words, not numbers


def test_digits_pressing_buttons_fold_full_width_and_circled_forms():
    from bot.channels.console.chat import parse_line

    buttons = (("a", "A"), ("b", "B"), ("c", "C"))
    assert parse_line("②", buttons, 7).value == "b"
    assert parse_line("３", buttons, 7).value == "c"
    assert parse_line("²", buttons, 7).value == "b"
    assert parse_line("⑳", buttons, 7).kind == "text"  # no 20th button: typed text, never a crash
    assert parse_line("3", buttons, 7, typed=True).kind == "text"  # a number asked for: the answer
