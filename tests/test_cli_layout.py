"""The CLI is one module per command group: `bot/cli/main.py` only assembles them, `outreach --help`
imports no heavy library, and every command of the real app comes from a group module."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys

import typer
from typer.main import get_command

import bot.cli.commands
from bot.cli import main

HEAVY = ("aiogram", "sqlalchemy", "sqlmodel", "aiohttp", "openpyxl", "fpdf", "storage.db")


def _walk(command, path=()):
    """(path, callback) for every leaf command of a click command tree."""
    children = getattr(command, "commands", None)
    if children is None:
        yield path, command.callback
        return
    if getattr(command, "invoke_without_command", False):
        yield path, command.callback  # `outreach invite --role ...` is a command in itself
    for name, child in children.items():
        yield from _walk(child, (*path, name))


def test_every_group_module_registers_its_commands_and_main_holds_none():
    modules = {info.name for info in pkgutil.iter_modules(bot.cli.commands.__path__)}
    assert modules == {group.__name__.rsplit(".", 1)[1] for group in main.GROUPS}
    commands = list(_walk(get_command(main.build_app())))
    owners = {callback.__module__ for _, callback in commands}
    assert owners == {group.__name__ for group in main.GROUPS}  # each group module adds at least one
    assert {" ".join(path) for path, _ in commands} >= {
        "run", "chat", "deliver", "hr add", "db upgrade", "areas import", "web link", "invite",
        "invite revoke", "reconcile decide", "report progress", "export", "poster", "eligibility",
    }  # fmt: skip


def test_each_group_module_registers_only_on_the_app_it_is_given():
    first, second = typer.Typer(), typer.Typer()
    bot.cli.commands.db.register(first)
    assert not second.registered_commands and not second.registered_groups
    assert [group.name for group in first.registered_groups] == ["db"]


def test_help_and_building_the_app_import_no_heavy_library():
    code = (
        "import sys; from bot.cli.main import build_app; build_app();"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, env=os.environ
    )
    assert result.stdout.strip() == ""
    help_text = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "--help"], capture_output=True, text=True, timeout=60,
        check=False, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert help_text.returncode == 0, help_text.stderr
    for command in ("run", "deliver", "reconcile", "invite", "areas", "report"):
        assert f" {command} " in help_text.stdout
