"""`outreach export`, `outreach report progress` and `outreach demo seed`: what county HR offices send on,
and synthetic data to show it with."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli import checks, common


def register(app: typer.Typer) -> None:
    """Add `export` and the `report` and `demo` groups to the root app."""
    app.command("export")(export)
    report = typer.Typer(help="Reports county HR offices send on.")
    report.command("progress")(progress)
    app.add_typer(report, name="report")
    demo = typer.Typer(help="Synthetic data for demonstrations and benchmarks.")
    demo.command("seed")(demo_seed)
    app.add_typer(demo, name="demo")


def export(
    county: Annotated[str, typer.Option(help="6-digit county code")],
    out: Annotated[Path, typer.Option(help="file to write")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx or csv (UTF-8 with BOM)")] = "xlsx",
    since: Annotated[str | None, typer.Option(help="only records registered on or after YYYY-MM-DD")] = None,
    unmasked: Annotated[bool, typer.Option("--unmasked", help="full ID and phone numbers (admins)")] = False,
    as_telegram_id: Annotated[
        int | None, typer.Option("--as-telegram-id", help="your Telegram id; --unmasked needs an admin's")
    ] = None,
    lang: Annotated[str, typer.Option(help="zh or en headers and labels")] = "zh",
    workers: Annotated[int | None, typer.Option(help="processes for a large CSV (default: CPUs)")] = None,
) -> None:
    """Export a county's wishes for Excel (XLSX, or CSV in UTF-8 with BOM); ID and phone numbers masked unless
    an admin asks for --unmasked, which is audited."""
    from bot.cli.hr import export_command

    language = checks.language(lang)
    checks.output_file(out)
    settings, url = common.settings_and_db()
    county = checks.area(url, county, "county")
    raise typer.Exit(
        export_command(
            url, county=county, fmt=fmt, out=out, since=since, unmasked=unmasked,
            as_telegram_id=as_telegram_id, cipher_secrets=settings.cipher_secrets, lang=language,
            workers=workers,
        )
    )  # fmt: skip


def progress(
    year: Annotated[int, typer.Option(help="the year, e.g. 2026")],
    out: Annotated[Path, typer.Option(help="XLSX file to write")],
    county: Annotated[str | None, typer.Option(help="one county (default: every county)")] = None,
    lang: Annotated[str, typer.Option(help="zh or en headers")] = "zh",
) -> None:
    """Fill 《技能脱贫千校行动进展情况表》 (layout: content/reports/progress_table.yaml)."""
    from bot.cli.hr import progress_command

    language = checks.language(lang)
    checks.output_file(out)
    url = common.settings_and_db()[1]
    county = checks.area(url, county, "county") if county is not None else None
    raise typer.Exit(progress_command(url, year=year, out=out, county=county, lang=language))


def demo_seed(
    households: Annotated[int, typer.Option(help="how many households")],
    county: Annotated[str | None, typer.Option(help="6-digit county code (default: every county)")] = None,
    bulk: Annotated[bool | None, typer.Option("--bulk/--no-bulk", help="default: bulk above 500")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
) -> None:
    """Fill the database with synthetic but valid households, wishes, consents and statuses."""
    from bot.cli.hr import demo_seed_command

    settings, url = common.settings_and_db()
    if county is not None:
        county = checks.area(url, county, "county")
    raise typer.Exit(
        demo_seed_command(
            url, households=households, county=county, bulk=bulk, seed=seed,
            cipher_secrets=settings.cipher_secrets,
        )
    )  # fmt: skip
