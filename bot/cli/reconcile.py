"""`outreach reconcile list` / `outreach reconcile decide`: HR's view of held entries, and its decision.

A held entry is a household's own submission that matched a family somebody else entered (see
storage.repositories.intake_hold). `list` prints each beside the household it matched, numbers
masked; `decide` keeps the stored family alone (the held entry is deleted) or keeps both.
Plain functions returning exit codes, free of typer and aiogram; decisions are audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.cli.access import CHANNEL, EXIT_NOT_FOUND, EXIT_OK, _fail, _run, actor


def reconcile_list(db_url: str, secrets: Sequence[str], county: str | None = None) -> int:
    """Print the open links, held entry and stored household side by side."""
    from storage.crypto import Cipher
    from storage.repositories import reconcile

    cipher = Cipher.from_secret(list(secrets))

    async def work(session: Any) -> list[Any]:
        return await reconcile.open_links(session=session, cipher=cipher, county=county)

    pairs = _run(db_url, work)
    for pair in pairs:
        print(f"link {pair.link_id} (matched by {pair.matched_by})")
        for line in _side_by_side(pair.held, pair.stored):
            print(line)
    print(f"{len(pairs)} open")
    return EXIT_OK


def _side_by_side(held: Any, stored: Any) -> list[str]:
    """Two columns: the held entry, the stored household."""

    def rows(side: Any) -> list[str]:
        people = [f"  {name} ({relation}) {masked or '-'}" for name, relation, masked in side.members]
        return [
            f"household {side.id}, village {side.village_code}",
            f"head {side.head_name}, phone {side.phone or '-'}, number {side.household_number or '-'}",
            f"entered by {side.created_by} as {side.answered_by}, {side.created_at:%Y-%m-%d %H:%M} UTC",
            *people,
        ]

    left, right = ["HELD", *rows(held)], ["STORED", *rows(stored)]
    width = max(len(text) for text in left) + 4
    left += [""] * (len(right) - len(left))
    right += [""] * (len(left) - len(right))
    return [f"  {a:<{width}}{b}" for a, b in zip(left, right, strict=True)]


def reconcile_decide(db_url: str, link_id: int, decision: str) -> int:
    """Apply HR's decision on one open link (keep_stored or keep_both); audited."""
    from storage.repositories import reconcile

    if decision not in reconcile.DECISIONS:
        return _fail(f"decision must be one of {', '.join(reconcile.DECISIONS)}")

    async def work(session: Any) -> bool:
        return await reconcile.decide(
            session=session, link_id=link_id, decision=decision, actor=actor(), channel=CHANNEL
        )

    if not _run(db_url, work):
        return _fail(f"no open link {link_id}", EXIT_NOT_FOUND)
    print(f"link {link_id}: {decision}")
    return EXIT_OK
