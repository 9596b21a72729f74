"""Quick reads of the area table for commands that must answer fast (`outreach areas list`).

Plain SQLAlchemy Core on a light description of the table: importing the models (every table of
the application) would cost more than the query. The columns are those of `storage.models.Area`.
Every function takes the session as a keyword argument and never commits.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, column, false, select, table
from sqlmodel.ext.asyncio.session import AsyncSession

AREA = table(
    "area",
    column("code", String),
    column("name", String),
    column("short_name", String),
    column("parent_code", String),
    column("level", Integer),
    column("retired", Boolean),
)


async def has_imported_areas(*, session: AsyncSession) -> bool:
    """True when a list was imported since migration 0008 (else the shipped one is still to be seeded)."""
    query = select(AREA.c.code).where(AREA.c.short_name.is_not(None)).limit(1)
    return (await session.exec(query)).first() is not None


async def child_names(*, session: AsyncSession, parent_code: str | None) -> list[tuple[str, str]] | None:
    """(code, official name) of the offered areas under `parent_code` (provinces for None), by code.

    None when `parent_code` names no area.
    """
    if parent_code is not None:
        found = await session.exec(select(AREA.c.code).where(AREA.c.code == parent_code))
        if found.first() is None:
            return None
    parent = AREA.c.parent_code.is_(None) if parent_code is None else AREA.c.parent_code == parent_code
    query = select(AREA.c.code, AREA.c.name).where(parent, AREA.c.retired == false()).order_by(AREA.c.code)
    return [(code, name) for code, name in (await session.exec(query)).all()]
