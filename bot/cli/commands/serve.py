"""`outreach run` (every configured channel) and `outreach chat` (the console channel)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.cli import checks, common
from bot.core.settings import SettingsError
from content.errors import ContentError


def register(app: typer.Typer) -> None:
    """Add `run` and `chat` to the root app."""
    app.command("run")(run)
    app.command("chat")(chat)


def run(
    webhook: Annotated[
        bool, typer.Option("--webhook", help="serve a webhook instead of long polling")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="webhook worker processes (more than 1 needs PostgreSQL)")
    ] = 1,
) -> None:
    """Serve every configured channel: the web chat and HR console always, Telegram when BOT_TOKEN is set,
    WeCom when its settings are complete."""
    from bot.cli.run import run_command
    from bot.features.delivery.config import load_delivery_config

    settings = common.settings()
    if workers > 1 and not webhook:
        raise common.usage("--workers needs --webhook (long polling is one process)")
    load_delivery_config(settings)  # a malformed DIGEST_* setting stops start-up, not the first digest
    if settings.bot_token is None and webhook:
        raise common.usage("setting BOT_TOKEN: needed for --webhook (without it, use `outreach chat`)")
    common.db_url(settings)  # DATA_DIR (and the SQLite file's folder) usable before anything starts
    try:
        raise typer.Exit(run_command(settings, webhook=webhook, workers=workers))
    except (SettingsError, ContentError) as exc:
        raise common.fail(exc) from None


def chat(
    user: Annotated[str, typer.Option(help="console user name; each keeps its own conversation")] = "local",
    lang: Annotated[str | None, typer.Option(help="zh or en for a new conversation")] = None,
) -> None:
    """Talk to the bot in this terminal (or pipe a script into it), on the configured database.

    In a terminal, log lines go to DATA_DIR/outreach.log so that they never break into the conversation.
    """
    from bot.channels.console.chat import run_console

    if lang is not None:
        checks.language(lang)
    settings = common.settings(log_file=Path(common.LOG_FILE) if sys.stdin.isatty() else None)
    common.db_url(settings)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_console(settings, user=user, lang=lang))
    except ContentError as exc:  # a broken content file: name it in one line, do not start
        raise common.fail(exc) from None
