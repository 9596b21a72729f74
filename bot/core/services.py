"""What every channel needs at run time, built once at start-up and closed at the end."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bot.core.effects import Effects
from bot.core.outbound import Outbound
from bot.core.settings import Settings
from bot.features.access import effects as access_effects
from bot.features.delivery.channel import DigestChannels
from bot.features.hr import notices
from bot.features.intake import effects as intake_effects
from content.book import load_book
from dialogs.areas import AreaIndex
from dialogs.model import Book
from storage import migrate
from storage.conversations import open_conversations
from storage.crypto import Cipher
from storage.db import Database
from storage.repositories import areas


@dataclass
class Services:
    """The content, the stores and the effects, shared by all updates."""

    book: Book
    database: Database
    conversations: Any
    effects: Effects
    cipher: Cipher
    outbound: Outbound = field(default_factory=Outbound)  # channels register their senders
    digests: DigestChannels = field(default_factory=DigestChannels)  # and their HR digest senders

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
    database = Database.from_url(url)
    book = replace(book, context={**book.context, "areas": await _area_index(database)})
    conversations = open_conversations(url)
    await conversations.start()
    cipher = Cipher.from_secret(settings.cipher_secrets())
    outbound = Outbound()
    effects = _effects(settings, cipher, outbound)
    return Services(
        book=book, database=database, conversations=conversations, effects=effects, cipher=cipher,
        outbound=outbound,
    )  # fmt: skip


def _effects(settings: Settings, cipher: Cipher, outbound: Outbound) -> Effects:
    """The event handlers of every feature, and what runs whenever a user writes."""
    effects = Effects()
    intake_effects.register(effects, cipher=cipher)
    access_effects.register(effects, cipher=cipher, bot_username=settings.bot_username)
    notices.register(effects, outbound)  # HR news held for a household goes out when it writes
    return effects


async def _area_index(database: Database) -> AreaIndex:
    """Load the place hierarchy (seeding the shipped lists into an empty table) into memory."""
    async with database.session() as session:
        await areas.seed_if_empty(session=session, csv_paths=areas.seed_csv_paths())
        rows = await areas.index_rows(session=session)
    return AreaIndex.build(rows)
