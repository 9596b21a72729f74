"""The `outreach` command: the root app, built from one module per command group (`bot/cli/commands/`).

The app is built when the command runs, not when this module is imported. Each command imports
its work when it runs, so that the ones that do not talk to Telegram never pay for aiogram.
"""

from __future__ import annotations

import sys

import typer

from bot.cli import checks
from bot.cli.checks import CliError
from bot.cli.commands import access, areas, db, delivery, eligibility, poster, reconcile, reports, serve, web
from bot.core.settings import SettingsError
from content.errors import ContentError

# In the order `outreach --help` lists them: serving first, then the county's data, then people.
GROUPS = (serve, web, db, areas, eligibility, poster, delivery, reports, reconcile, access)


def build_app() -> typer.Typer:
    """The root app with every command group registered."""
    app = typer.Typer(
        help="Village outreach bot: explains the 技能脱贫 policy and collects wishes.",
        no_args_is_help=False,
        # main() turns errors into one line; a real bug keeps its plain traceback
        pretty_exceptions_enable=False,
    )
    for group in GROUPS:
        group.register(app)
    return app


def main() -> None:
    """Entry point of the console script: an error a user can fix is one line on stderr, never a traceback."""
    try:
        build_app()()
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        sys.exit(130)  # Ctrl-C: leave at once, quietly
    except CliError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (SettingsError, ContentError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(checks.EXIT_USAGE)
    except Exception as exc:
        message = checks.explain(exc)
        if message is None:
            raise
        typer.echo(f"error: {message}", err=True)
        sys.exit(checks.EXIT_FAILURE)


if __name__ == "__main__":
    sys.exit(main())
