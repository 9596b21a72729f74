"""bot.cli.areas: `areas import` and `areas list`, their output and exit codes, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from bot.cli.areas import areas_import, areas_list
from storage.repositories.areas import shipped_csv_paths
from tests.db_fixtures import EMPTY_BACKENDS as BACKENDS

AREAS_DIR = shipped_csv_paths()[0].parent  # content/areas
HENAN, SAMPLE = AREAS_DIR / "henan.csv", AREAS_DIR / "sample_lankao.csv"
LINE = re.compile(r"^[0-9]{6,12}\t\S+$")


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest) -> str:
    """An empty database (not migrated: the commands migrate first)."""
    return request.getfixturevalue(request.param)


def test_import_then_list(url, capsys):
    assert areas_import(url, HENAN) == 0
    assert capsys.readouterr().out == "imported 176 areas from henan.csv\n"
    assert areas_list(url, None) == 0
    assert capsys.readouterr().out == "410000\t河南省\n"
    assert areas_list(url, "410200") == 0
    out = capsys.readouterr().out
    assert out.startswith("410202\t龙亭区\n") and "410225\t兰考县\n" in out
    assert all(LINE.match(line) for line in out.splitlines()) and len(out.splitlines()) == 9


def test_import_of_a_file_whose_parents_are_stored(url, capsys):
    assert areas_import(url, HENAN) == 0 and areas_import(url, SAMPLE) == 0
    assert "imported 61 areas from sample_lankao.csv" in capsys.readouterr().out
    assert areas_list(url, "410225201") == 0
    assert capsys.readouterr().out.splitlines()[0] == "410225201201\t张庄村"


def test_list_of_an_area_without_children_prints_nothing(url, capsys):
    areas_import(url, HENAN)
    capsys.readouterr()
    assert areas_list(url, "410225") == 0
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
    # Listing seeds the shipped Henan list into the empty table; the bad file's rows are not there.
    assert areas_list(url, None) == 0 and capsys.readouterr().out == "410000\t河南省\n"


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
