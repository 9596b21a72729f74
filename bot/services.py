"""What every channel needs at run time, built once at start-up and closed at the end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.effects import Effects
from bot.settings import Settings
from content.book import load_book
from dialogs.model import Book
from storage import migrate
from storage.conversations import open_conversations
from storage.db import Database


@dataclass
class Services:
    """The content, the stores and the effects, shared by all updates."""

    book: Book
    database: Database
    conversations: Any
    effects: Effects

    async def close(self) -> None:
        """Close the stores."""
        await self.conversations.close()
        await self.database.dispose()


async def open_services(settings: Settings) -> Services:
    """Check the content, bring the database to the latest schema, open the stores."""
    book = load_book()
    url = settings.db_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    await migrate.upgrade_async(url)
    conversations = open_conversations(url)
    await conversations.start()
    return Services(
        book=book, database=Database.from_url(url), conversations=conversations, effects=Effects()
    )
