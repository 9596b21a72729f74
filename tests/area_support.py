"""Real area data for tests: a small extract of the official list (兰考县) and the whole shipped list.

tests/data/areas_lankao.csv holds, unchanged from content/areas/henan-nbs-2023.csv.gz: 河南省, 开封市,
杞县 (without its townships: a county with no villages), 兰考县 with its 22 townships and 470 villages,
and 省直辖县级行政区划 with 济源市.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from content.area_names import short_name
from dialogs.areas import AreaIndex
from storage.repositories.areas import read_csv, shipped_csv_paths

LANKAO_CSV = Path(__file__).resolve().parent / "data" / "areas_lankao.csv"
LANKAO, QIXIAN, KAIFENG = "410225", "410221", "410200"
GUYANG, PUTAOJIA = "410225101", "410225208"  # 堌阳镇, 葡萄架乡
ZHOUCHANG = "410225101247"  # 周场村, 堌阳镇: the only 周场 of the extract (Henan has two)
CHENGNEI = "410225101200"  # 城内村, 堌阳镇: the first village of 兰考县
NANJIAPO = "410225208201"  # 南家坡村, 葡萄架乡
ZHANGZHUANG = ("410225101215", "410225105235", "410225106207", "410225107204")  # four 张庄村 of 兰考县


def index_rows(path: Path) -> list[tuple[str, str, str | None, int]]:
    """(code, short name, parent code, level) of an area CSV, as the bot's index gets them."""
    return [
        (r["code"], short_name(r["name"], int(r["level"])), r["parent_code"] or None, int(r["level"]))
        for r in read_csv(path)
    ]


@cache
def lankao_index() -> AreaIndex:
    """The extract's index."""
    return AreaIndex.build(index_rows(LANKAO_CSV))


@cache
def henan_index() -> AreaIndex:
    """The whole shipped list's index (55,164 areas)."""
    return AreaIndex.build(row for path in shipped_csv_paths() for row in index_rows(path))
