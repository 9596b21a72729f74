"""What every channel needs at run time, built once at start-up and closed at the end."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bot.core import drafts
from bot.core.effects import Effects
from bot.core.outbound import Outbound
from bot.core.settings import Settings, SettingsError
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
from storage.files import private_database, private_dir
from storage.repositories import areas, keys


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


async def open_services(settings: Settings, *, production: bool = False) -> Services:
    """Check the content and DATA_KEY, bring the database to the latest schema, open the stores.

    With real people's chats (`production`: Telegram, WeCom) DATA_KEY must be set: the development
    key is for the console and tests.
    """
    book = load_book()
    cipher = Cipher.from_secret(settings.cipher_secrets(required=production))
    url = settings.db_url
    if url.startswith("sqlite"):
        private_dir(settings.data_dir)
        private_database(url)
    await migrate.upgrade_async(url)
    database = Database.from_url(url)
    await _check_key(database, cipher)
    book = replace(book, context={**book.context, "areas": await _area_index(database)})
    conversations = open_conversations(url)
    await conversations.start()
    outbound = Outbound()
    effects = _effects(settings, cipher, outbound, database)
    drafts.register(outbound, conversations, cipher)  # a reminder that did not arrive is tried again
    return Services(
        book=book, database=database, conversations=conversations, effects=effects, cipher=cipher,
        outbound=outbound,
    )  # fmt: skip


def _effects(settings: Settings, cipher: Cipher, outbound: Outbound, database: Database) -> Effects:
    """The event handlers of every feature, and what runs whenever a user writes."""
    effects = Effects()
    intake_effects.register(effects, cipher=cipher)
    access_effects.register(effects, cipher=cipher, bot_username=settings.bot_username)
    notices.register(effects, outbound, database)  # HR news held for a household goes out when it writes
    return effects


async def _check_key(database: Database, cipher: Cipher) -> None:
    """Refuse a DATA_KEY that did not seal the stored data (one line, before anything is stored)."""
    async with database.session() as session:
        try:
            await keys.check_key(session=session, cipher=cipher)
        except keys.KeyMismatch as exc:
            await database.dispose()
            raise SettingsError(f"setting DATA_KEY: {exc}") from None


async def _area_index(database: Database) -> AreaIndex:
    """Load the place hierarchy (seeding the shipped lists into an empty table) into memory."""
    async with database.session() as session:
        await areas.seed_if_empty(session=session, csv_paths=areas.seed_csv_paths())
        rows = await areas.index_rows(session=session)
    return AreaIndex.build(rows)
