"""`outreach poster`: print-ready QR posters that open the county's channel with the village chosen."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli import checks, common
from bot.core.settings import Settings


def register(app: typer.Typer) -> None:
    """Add `poster` to the root app."""
    app.command("poster")(poster)


def poster(
    out: Annotated[Path, typer.Option(help="PDF file to write (A4, one page per village)")],
    village: Annotated[str | None, typer.Option(help="one village (12 digits)")] = None,
    township: Annotated[str | None, typer.Option(help="every village of a township (9 digits)")] = None,
    county: Annotated[str | None, typer.Option(help="every village of a county (6 digits)")] = None,
    channel: Annotated[
        str | None, typer.Option(help="telegram, wecom or web (default: the configured one)")
    ] = None,
    bot_username: Annotated[
        str | None, typer.Option(help="the bot's @username (default BOT_USERNAME)")
    ] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
) -> None:
    """Print-ready QR posters: scanning a village's page opens the bot with the village chosen."""
    from bot.cli.poster import PosterRequest, poster_command

    checks.language(lang)
    checks.output_file(out)
    settings, url = common.settings_and_db()
    request = PosterRequest(
        out=out,
        areas={"village": village, "township": township, "county": county},
        channel=channel or configured_channel(settings),
        options={
            "bot_username": bot_username or settings.bot_username,
            "wecom_kf_link": settings.wecom_kf_link,
            "web_url": settings.web_base_url,
        },
        lang=lang,
    )
    raise typer.Exit(poster_command(url, request))


def configured_channel(settings: Settings) -> str:
    """The channel a county's posters lead to: WeCom's 客服 when its link is set and Telegram is not;
    the web chat when neither runs but WEB_BASE_URL is set; else Telegram."""
    if settings.wecom_kf_link and not settings.bot_token:
        return "wecom"
    return "web" if settings.web_base_url and not settings.bot_token else "telegram"
