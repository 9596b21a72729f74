"""Replays every golden transcript in tests/golden against the shipped content."""

from __future__ import annotations

import pytest

from tests.golden_runner import golden_files, load, play
from tests.test_intake_dialog import intake_book


@pytest.mark.parametrize("path", golden_files(), ids=lambda p: p.stem)
def test_golden_transcript(path):
    transcript = load(path)
    for number, (expected, actual) in enumerate(play(intake_book(), transcript), start=1):
        assert actual == expected, f"{transcript['name']}: turn {number}"
