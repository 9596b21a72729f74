"""bot.cli.areas: `areas import` and `areas list`, their output and exit codes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import re

import pytest

from bot.cli.areas import areas_import, areas_list, progress_on_terminal
from tests.area_support import LANKAO_CSV
from tests.db_fixtures import EMPTY_BACKENDS as BACKENDS

LINE = re.compile(r"^[0-9]{6,12}\t\S+$")


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest) -> str:
    """An empty database (not migrated: the commands migrate first)."""
    return request.getfixturevalue(request.param)


def test_import_then_list(url, capsys):
    assert areas_import(url, LANKAO_CSV) == 0
    out, err = capsys.readouterr()
    assert out == "areas_lankao.csv: 498 areas; added 498, renamed 0, retired 0, restored 0, unchanged 0\n"
    assert err == ""  # no progress when stderr is not a terminal
    assert areas_list(url, None) == 0
    assert capsys.readouterr().out == "410000\t河南省\n"
    assert areas_list(url, "410200") == 0
    assert capsys.readouterr().out == "410221\t杞县\n410225\t兰考县\n"
    assert areas_list(url, "410225101") == 0
    out = capsys.readouterr().out
    assert out.startswith("410225101200\t城内村\n") and "410225101247\t周场村\n" in out
    assert all(LINE.match(line) for line in out.splitlines()) and len(out.splitlines()) == 48


def test_a_second_import_says_what_changed(url, capsys, tmp_path):
    areas_import(url, LANKAO_CSV)
    lines = LANKAO_CSV.read_text(encoding="utf-8").splitlines()
    changed = [line.replace("周场村", "周场新村") for line in lines if not line.startswith("410225101200,")]
    path = tmp_path / "later.csv"
    path.write_text("\n".join(changed) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert areas_import(url, path) == 0
    assert (
        capsys.readouterr().out
        == "later.csv: 497 areas; added 0, renamed 1, retired 1, restored 0, unchanged 496\n"
    )
    assert areas_list(url, "410225101") == 0
    out = capsys.readouterr().out
    assert "410225101200" not in out and "410225101247\t周场新村\n" in out


def test_list_of_an_area_without_children_prints_nothing(url, capsys):
    areas_import(url, LANKAO_CSV)
    capsys.readouterr()
    assert areas_list(url, "410221") == 0
    assert capsys.readouterr() == ("", "")


def test_list_of_an_unknown_parent_is_an_error(url, capsys):
    assert areas_list(url, "999999") == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "error: no area with code 999999\n"


def test_import_of_a_bad_row_names_the_line_and_writes_nothing(url, capsys, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "code,name,parent_code,level\n420000,湖北省,,1\n420100,武汉市,420000,3\n", encoding="utf-8"
    )
    assert areas_import(url, path) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: bad.csv line 3: ") and err.count("\n") == 1
    assert areas_list(url, "420000") == 2  # nothing of the bad file was written


def test_import_of_a_missing_file_is_an_error(capsys, tmp_path):
    assert areas_import(f"sqlite:///{tmp_path}/db.sqlite3", tmp_path / "none.csv") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "none.csv: cannot read" in err and err.count("\n") == 1


def test_import_of_a_file_that_is_not_an_area_list_is_an_error(capsys, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,age\n张三,40\n", encoding="utf-8")
    assert areas_import(f"sqlite:///{tmp_path}/db.sqlite3", path) == 2
    assert (
        capsys.readouterr().err
        == "error: people.csv line 1: the header must be code,name,parent_code,level\n"
    )


def test_a_malformed_database_url_is_an_error(capsys):
    assert areas_list("mysql://x@y/z", None) == 2
    assert capsys.readouterr().err.startswith("error: unsupported database URL scheme")


def test_progress_shows_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress_on_terminal(io.StringIO()) is None
    screen = Terminal()
    show = progress_on_terminal(screen)
    assert show is not None
    show(500, 700)
    show(700, 700)
    assert screen.getvalue() == "\rareas written: 500/700\rareas written: 700/700\n"


def test_list_on_a_database_from_before_0008_upgrades_it_and_seeds_the_list(url, capsys):
    from sqlalchemy import text

    from storage import migrate
    from storage.db import Database

    async def add_an_invented_area() -> None:  # as the sample county of earlier versions
        database = Database.from_url(url)
        try:
            async with database.session() as session:
                insert = (
                    "INSERT INTO area (code, name, parent_code, level) VALUES ('410000', '河南省', NULL, 1)"
                )
                await session.exec(text(insert))
                await session.commit()
        finally:
            await database.dispose()

    migrate.upgrade(url, "0007")
    asyncio.run(add_an_invented_area())
    assert areas_list(url, "410225101") == 0
    assert "410225101247\t周场村\n" in capsys.readouterr().out
    assert migrate.current(url) == migrate.head()
