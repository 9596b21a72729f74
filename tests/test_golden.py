"""Replays every golden transcript in tests/golden against the shipped content."""

from __future__ import annotations

import pytest

from content.book import load_book
from tests.golden_runner import golden_files, load, play


@pytest.mark.parametrize("path", golden_files(), ids=lambda p: p.stem)
def test_golden_transcript(path):
    transcript = load(path)
    for number, (expected, actual) in enumerate(play(load_book(), transcript), start=1):
        assert actual == expected, f"{transcript['name']}: turn {number}"
