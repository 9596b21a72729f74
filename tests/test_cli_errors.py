"""Every CLI command and start-up error: one line on stderr naming what is wrong, a non-zero exit."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from pathlib import Path

import pytest

from bot.cli import checks
from bot.cli.checks import CliError
from tests.test_cli import OUTREACH, outreach

VILLAGE = "410225101201"


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """The run failed with exactly one line on stderr that holds every word."""
    notices = (" WARNING ", "BOT_TOKEN is not set: starting the console chat")  # said before the error
    lines = [
        line for line in result.stderr.splitlines() if line.strip() and not any(n in line for n in notices)
    ]
    assert result.returncode != 0, result.stdout
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
    assert all(word in lines[0] for word in words), lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("poster", "--village", VILLAGE, "--out", "/nonexistent/dir/p.png", "--bot-username", "b"),
         ("--out", "/nonexistent/dir")),
        (("export", "--county", "410225", "--out", "{tmp}"), ("--out", "folder")),
        (("report", "progress", "--year", "2026", "--out", "/nonexistent/r.xlsx"), ("/nonexistent",)),
        (("db", "upgrade", "9999"), ("9999",)),
        (("db", "downgrade", "bogus"), ("bogus",)),
        (("run", "--webhook"), ("BOT_TOKEN", "--webhook")),
        (("eligibility", "--lang", "fr"), ("--lang", "'fr'")),
        (("chat", "--lang", "fr"), ("--lang", "'fr'")),
        (("export", "--county", "410225", "--out", "{tmp}/e.xlsx", "--lang", "de"), ("--lang", "'de'")),
        (("admin", "add", "--telegram-id", "0"), ("--telegram-id 0",)),
        (("admin", "add", "--telegram-id=-5"), ("--telegram-id -5",)),
        (("purge", "--draft-days", "0"), ("at least one day",)),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_line(tmp_path, args, words):
    result = outreach(tmp_path, *(arg.replace("{tmp}", str(tmp_path)) for arg in args))
    one_line_error(result, *words)


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DATABASE_URL": "sqlite:////nonexistent/dir/x.db"}, ("database", "unable to open")),
        ({"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x"}, ("cannot reach the database",)),
        ({"LOG_LEVEL": "LOUD"}, ("LOG_LEVEL", "LOUD")),
        ({"DATA_DIR": "/proc/x"}, ("DATA_DIR", "/proc/x")),
        ({"DIGEST_INTERVAL_MINUTES": "abc"}, ("DIGEST_INTERVAL_MINUTES",)),
        ({"DATA_KEY": ",,,"}, ("DATA_KEY", "no key")),
        ({"WEBHOOK_SECRET": "bad secret!"}, ("WEBHOOK_SECRET",)),
    ],
)
def test_start_up_errors_are_one_line(tmp_path, env, words):
    one_line_error(outreach(tmp_path, "run", stdin="/quit\n", **env), *words)


def test_a_database_that_cannot_be_opened_is_one_line_for_other_commands_too(tmp_path):
    one_line_error(
        outreach(tmp_path, "hr", "list", DATABASE_URL="sqlite:////nonexistent/dir/x.db"), "database"
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("hr", "add", "--county", "999999", "--chat", "5"), ("999999", "no such area")),
        (("hr", "add", "--county", "410100", "--chat", "5"), ("410100", "郑州市", "a city", "county")),
        (("report", "progress", "--year", "2026", "--county", "999999", "--out", "{tmp}/r.xlsx"),
         ("999999",)),
        (("export", "--county", "999999", "--out", "{tmp}/e.xlsx"), ("999999",)),
        (("invite", "--role", "worker", "--village", "999999999999"), ("999999999999",)),
        (("invite", "--role", "worker", "--village", "410225"), ("410225", "county", "village")),
        (("demo", "seed", "--households", "1", "--county", "999999"), ("999999",)),
    ],
)  # fmt: skip
def test_area_codes_must_exist_at_the_right_level(tmp_path, args, words):
    result = outreach(tmp_path, *(arg.replace("{tmp}", str(tmp_path)) for arg in args))
    one_line_error(result, *words)
    assert not (tmp_path / "r.xlsx").exists() and not (tmp_path / "e.xlsx").exists()


def test_an_invitation_is_not_created_when_its_qr_cannot_be_written(tmp_path):
    result = outreach(
        tmp_path, "invite", "--role", "worker", "--village", VILLAGE, "--qr", "/nonexistent/q.png"
    )
    one_line_error(result, "--qr")
    users = outreach(tmp_path, "audit")
    assert "invite" not in users.stdout


def test_export_help_names_no_source_file(tmp_path):
    result = outreach(tmp_path, "export", "--help")
    assert result.returncode == 0 and ".py" not in result.stdout


def test_ctrl_c_leaves_the_chat_at_once_and_quietly(tmp_path):
    process = subprocess.Popen(
        [str(OUTREACH), "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=tmp_path, env={**outreach_env(tmp_path)},
    )  # fmt: skip
    assert process.stdout is not None
    process.stdout.readline()  # the welcome: the chat waits for input now
    time.sleep(0.5)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert time.monotonic() - started < 5
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def outreach_env(tmp_path: Path) -> dict[str, str]:
    """The environment `outreach` gets in these tests."""
    import os

    base = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL"}}
    return {**base, "DATA_DIR": str(tmp_path)}


# ---------------------------------------------------------------- the checks themselves


@pytest.mark.parametrize(("given", "lang"), [("zh", "zh_Hans"), ("ZH", "zh_Hans"), ("zh_Hans", "zh_Hans"),
                                             ("en", "en")])  # fmt: skip
def test_languages(given, lang):
    assert checks.language(given) == lang


@pytest.mark.parametrize("given", ["fr", "english", "", "zh-TW"])
def test_other_languages_are_refused(given):
    with pytest.raises(CliError, match="--lang"):
        checks.language(given)


def test_explain_knows_database_and_file_errors_but_not_bugs():
    assert checks.explain(FileNotFoundError(2, "No such file or directory", "/x/y")) == (
        "/x/y: No such file or directory"
    )
    assert checks.explain(ConnectionRefusedError(111, "Connection refused")).startswith(
        "cannot reach the database"
    )
    assert checks.explain(KeyError("bug")) is None


def test_one_county_is_one_county(tmp_path):
    result = outreach(tmp_path, "report", "progress", "--year", "2026", "--county", "410225",
                      "--out", str(tmp_path / "p.xlsx"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "(1 county)" in result.stderr and "counties" not in result.stderr


def test_eligibility_help_documents_every_fact_of_the_profile(tmp_path):
    from content.benefits import FACT_DOMAINS

    result = outreach(tmp_path, "eligibility", "--help", COLUMNS="160")
    assert result.returncode == 0
    for name, domain in FACT_DOMAINS.items():
        section, fact = name.split(".")
        assert f'"{section}"' in result.stdout and f'"{fact}"' in result.stdout, name
        for value in domain if isinstance(domain, tuple) else ():
            assert value in result.stdout, (name, value)


async def test_telegram_out_of_reach_is_retried_with_back_off(caplog):
    from aiogram.exceptions import TelegramNetworkError
    from aiogram.methods import GetMe

    from bot.channels.telegram.app import until_reached

    calls = []

    async def flaky() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise TelegramNetworkError(method=GetMe(), message="ClientConnectorError: cannot connect")

    await until_reached(flaky, first_wait=0.01)
    assert len(calls) == 3
    said = [r.getMessage() for r in caplog.records if "Telegram could not be reached" in r.getMessage()]
    assert len(said) == 2 and all("\n" not in line for line in said)


def test_log_lines_of_a_chat_in_a_terminal_go_to_a_file_not_into_the_conversation(tmp_path):
    import os
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(OUTREACH), "chat"], stdin=follower, stdout=follower, stderr=follower, cwd=tmp_path,
        env={**outreach_env(tmp_path), "DATA_KEY": ""}, close_fds=True,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 30
    while b"> " not in seen and time.monotonic() < deadline:
        seen += os.read(leader, 4096)
    os.write(leader, b"/quit\n")
    process.wait(timeout=30)
    with contextlib.suppress(OSError):
        seen += os.read(leader, 65536)
    os.close(leader)
    assert "DATA_KEY is not set" not in seen.decode("utf-8", "replace")  # the warning is not in the chat
    assert "DATA_KEY is not set" in (tmp_path / "outreach.log").read_text(encoding="utf-8")
