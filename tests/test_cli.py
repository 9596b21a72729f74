"""The `outreach` command: one-line setting errors, `db upgrade`, and the console chat."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

OUTREACH = Path(sys.executable).with_name("outreach")


def outreach(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """Run the console script with a clean environment rooted in tmp_path."""
    base = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL"}}
    return subprocess.run(
        [str(OUTREACH), *args], input=stdin, capture_output=True, text=True, timeout=60, check=False,
        env={**base, "DATA_DIR": str(tmp_path), **env}, cwd=tmp_path,
    )  # fmt: skip


def test_malformed_token_is_one_line_error(tmp_path):
    result = outreach(tmp_path, "run", BOT_TOKEN="not-a-token")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "BOT_TOKEN" in result.stderr


def test_malformed_database_url_is_one_line_error(tmp_path):
    result = outreach(tmp_path, "db", "upgrade", DATABASE_URL="mysql://x@y/z")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "DATABASE_URL" in result.stderr


def test_db_upgrade_creates_the_schema(tmp_path):
    result = outreach(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "database at" in result.stdout and (tmp_path / "outreach.sqlite3").exists()


def test_chat_opens_the_console_chat(tmp_path):
    result = outreach(tmp_path, "chat", stdin="/quit\n")
    assert result.returncode == 0, result.stderr
    assert "您想做什么？" in result.stdout  # `outreach run` serves the web pages: see test_web_run.py


def test_broken_content_stops_start_up_with_one_line_naming_it(tmp_path):
    code = (
        "import sys, io, asyncio;"
        "from pathlib import Path; from unittest import mock;"
        "from content import book;"
        "from content.errors import ContentError;"
        "err = ContentError(Path('content/flows/explain.yaml'), \"step 'what'\", 'text',"
        " 'a message key is needed');"
        "book.load_book = mock.Mock(side_effect=err);"
        "import bot.core.services; bot.core.services.load_book = book.load_book;"
        "from bot.cli.main import build_app; app = build_app();"
        "sys.argv = ['outreach', 'chat'];"
        "app()"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", code], input="/quit\n", capture_output=True, text=True, timeout=60,
        env={**env, "DATA_DIR": str(tmp_path)}, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: content/flows/explain.yaml: step 'what': text: a message key is needed"
    )
