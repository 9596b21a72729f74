"""storage.exports: the XLSX and CSV writers read back with openpyxl and csv, the chart, the progress line."""

from __future__ import annotations

import csv
import io
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from PIL import Image

from storage.exports import chart
from storage.exports.csv_export import BATCH_ROWS, write_csv
from storage.exports.progress import ProgressReporter
from storage.exports.xlsx import BATCH_ROWS as XLSX_BATCH_ROWS
from storage.exports.xlsx import Column, Sheet, column_letter, write_xlsx

CHINA = timezone(timedelta(hours=8))
CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def columns() -> list[Column]:
    """A small column set covering every kind."""
    return [
        Column("序号", 6, "int"),
        Column("姓名", 10.5),
        Column("出生日期", 12, "date"),
        Column("更新时间", 20, "datetime"),
        Column("人均年收入", 14, "float"),
        Column("备注", 30),
    ]


def three_rows() -> Iterator[tuple]:
    """Three rows from a generator, as a query would give them."""
    yield (1, "张三", date(1990, 5, 1), datetime(2025, 3, 4, 5, 6, 7), 1234.5, "技工院校")
    yield (2, "李四", None, None, None, None)
    yield (3, "王五", date(2001, 12, 31), datetime(2025, 1, 1), 0, "短期培训")


def read_xlsx(path: Path | io.BytesIO, sheet: int = 0) -> list[tuple]:
    """All cell values of one sheet."""
    book = openpyxl.load_workbook(path)
    return list(book.worksheets[sheet].iter_rows(values_only=True))


# ---------------------------------------------------------------- XLSX


def test_xlsx_headers_types_pane_widths_and_filter(tmp_path: Path) -> None:
    path = tmp_path / "名单.xlsx"
    assert write_xlsx(path, columns(), three_rows(), sheet_name="名单") == 3
    book = openpyxl.load_workbook(path)
    sheet = book["名单"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F4"
    assert [sheet.column_dimensions[column_letter(i)].width for i in range(6)] == [6, 10.5, 12, 20, 14, 30]
    assert all(cell.font.b for cell in sheet[1])
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("序号", "姓名", "出生日期", "更新时间", "人均年收入", "备注")
    assert rows[1] == (1, "张三", datetime(1990, 5, 1), datetime(2025, 3, 4, 5, 6, 7), 1234.5, "技工院校")
    assert rows[2] == (2, "李四", None, None, None, None)
    assert isinstance(rows[3][0], int) and isinstance(rows[3][4], float)
    assert sheet["C2"].number_format == "yyyy-mm-dd"
    assert sheet["D2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet["C3"].value is None and sheet["C3"].data_type == "n"


def test_xlsx_with_no_rows_has_the_header_only(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    assert write_xlsx(path, columns(), iter(())) == 0
    assert read_xlsx(path) == [("序号", "姓名", "出生日期", "更新时间", "人均年收入", "备注")]
    assert openpyxl.load_workbook(path).active.auto_filter.ref == "A1:F1"


def test_xlsx_escapes_text_and_drops_characters_xml_forbids(tmp_path: Path) -> None:
    texts = [
        'a < b & "c" > d',
        "bell\x07 and nul\x00 gone",
        "  edges kept  ",
        "tab\tand\nline",
        "lone \ud800 surrogate",
    ]
    path = tmp_path / "escaping.xlsx"
    write_xlsx(path, [Column("<头&>"), Column("n", kind="int")], ((text, i) for i, text in enumerate(texts)))
    values = [row[0] for row in read_xlsx(path)]
    assert values == [
        "<头&>",
        'a < b & "c" > d',
        "bell and nul gone",
        "  edges kept  ",
        "tab\tand\nline",
        "lone  surrogate",
    ]


def test_xlsx_escapes_literal_excel_escapes_and_converts_non_text(tmp_path: Path) -> None:
    path = tmp_path / "literal.xlsx"
    write_xlsx(path, [Column("code")], [("_x0041_",), (42,), (date(2025, 1, 2),)])
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<t>_x005F_x0041_</t>" in sheet  # Excel shows "_x0041_" rather than decoding it to "A"
    assert [row[0] for row in read_xlsx(path)][2:] == ["42", "2025-01-02"]


def test_xlsx_package_parts_are_well_formed_and_typed(tmp_path: Path) -> None:
    path = tmp_path / "package.xlsx"
    write_xlsx(path, columns(), three_rows(), extra_sheets=[Sheet("说明", [Column("项目", 20)], [("导出",)])])
    with zipfile.ZipFile(path) as book:
        assert book.testzip() is None
        names = set(book.namelist())
        assert names == {
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
            "xl/worksheets/sheet1.xml",
            "xl/worksheets/sheet2.xml",
        }
        parts = {name: ElementTree.fromstring(book.read(name)) for name in names}
    overrides = {
        o.get("PartName"): o.get("ContentType")
        for o in parts["[Content_Types].xml"].iter(f"{CONTENT_TYPES}Override")
    }
    assert overrides["/xl/workbook.xml"].endswith("spreadsheetml.sheet.main+xml")
    assert overrides["/xl/styles.xml"].endswith("spreadsheetml.styles+xml")
    assert overrides["/xl/worksheets/sheet2.xml"].endswith("spreadsheetml.worksheet+xml")
    targets = {
        r.get("Target") for r in parts["xl/_rels/workbook.xml.rels"].iter(f"{RELATIONSHIPS}Relationship")
    }
    assert targets == {"worksheets/sheet1.xml", "worksheets/sheet2.xml", "styles.xml"}
    assert read_xlsx(path, sheet=1) == [("项目",), ("导出",)]


def test_xlsx_writes_to_a_file_object_and_reports_progress() -> None:
    out = io.BytesIO()
    seen: list[int] = []
    rows = ((i, f"名{i}", None, None, i / 2, None) for i in range(25_000))
    assert write_xlsx(out, columns(), rows, progress=seen.append) == 25_000
    assert seen == [10_000, 20_000, 25_000]
    out.seek(0)
    values = read_xlsx(out)
    assert len(values) == 25_001 and values[-1][:2] == (24_999, "名24999")


def zip_version_needed(path: Path, name: str) -> int:
    """The "version needed to extract" of a member's local header: 45 when it carries ZIP64 fields."""
    with zipfile.ZipFile(path) as book:
        offset = book.getinfo(name).header_offset
    with path.open("rb") as file:
        file.seek(offset)
        return struct.unpack("<4sH", file.read(6))[1]


@pytest.mark.parametrize(
    ("text_length", "zip64", "version"),
    [(20, None, 20), (1_500, None, 45), (20, True, 45), (1_500, False, 20)],
)
def test_xlsx_uses_zip64_only_when_a_sheet_may_pass_2_gib(
    tmp_path: Path, text_length: int, zip64: bool | None, version: int
) -> None:
    # 1,500-character rows would reach 3 GiB of XML at Excel's row limit; 20-character ones stay far below.
    path = tmp_path / "zip64.xlsx"
    rows = ((f"{i:06d}" + "x" * (text_length - 6),) for i in range(XLSX_BATCH_ROWS + 1))
    write_xlsx(path, [Column("t")], rows, zip64=zip64)
    assert zip_version_needed(path, "xl/worksheets/sheet1.xml") == version
    assert read_xlsx(path)[-1][0].startswith(f"{XLSX_BATCH_ROWS:06d}")


def test_xlsx_converts_aware_datetimes_to_the_given_zone(tmp_path: Path) -> None:
    path = tmp_path / "zone.xlsx"
    utc_noon = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    write_xlsx(path, [Column("t", kind="datetime")], [(utc_noon,)], tz=CHINA)
    assert read_xlsx(path)[1] == (datetime(2025, 6, 1, 20, 0),)


def test_xlsx_leaves_nan_empty(tmp_path: Path) -> None:
    path = tmp_path / "nan.xlsx"
    write_xlsx(path, [Column("x", kind="float")], [(float("nan"),), (float("inf"),), (2,)])
    assert read_xlsx(path)[1:] == [(None,), (None,), (2.0,)]


@pytest.mark.parametrize(
    ("rows", "message"),
    [([(1, "a")], "2 values for 1 columns"), ([("x",)], "row 1"), ([(1,), ("不是数字",)], "row 2")],
)
def test_xlsx_refuses_bad_rows_and_leaves_no_file(tmp_path: Path, rows: list[tuple], message: str) -> None:
    path = tmp_path / "bad.xlsx"
    with pytest.raises(ValueError, match=message):
        write_xlsx(path, [Column("n", kind="int")], rows)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "a" * 32, "a/b", "x[1]", "'q'"])
def test_xlsx_refuses_sheet_names_excel_rejects(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="sheet name"):
        write_xlsx(tmp_path / "x.xlsx", [Column("a")], [], sheet_name=name)


def test_column_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="kind"):
        Column("a", 10, "money")  # type: ignore[arg-type]


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 701, 702, 16_383)] == ["A", "Z", "AA", "ZZ", "AAA", "XFD"]


# ---------------------------------------------------------------- CSV


def read_csv(data: bytes) -> list[list[str]]:
    """Rows of a CSV file written by write_csv (BOM checked and removed)."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def test_csv_has_bom_crlf_headers_iso_dates_and_round_trips_chinese(tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    assert write_csv(path, columns(), three_rows()) == 3
    data = path.read_bytes()
    assert data.count(b"\r\n") == 4 and data.count(b"\n") == 4
    assert read_csv(data) == [
        ["序号", "姓名", "出生日期", "更新时间", "人均年收入", "备注"],
        ["1", "张三", "1990-05-01", "2025-03-04 05:06:07", "1234.5", "技工院校"],
        ["2", "李四", "", "", "", ""],
        ["3", "王五", "2001-12-31", "2025-01-01 00:00:00", "0", "短期培训"],
    ]


def test_csv_neutralises_formulas_in_text_cells_only() -> None:
    out = io.BytesIO()
    rows = [
        ("=1+1", "+86 138", -5, "@SUM(A1)"),
        ("-2", "\tx", 3, "a=b"),
        ("plain", "中文", -1, None),
        (7, "ok", 0, "=cmd|' /C calc'!A0"),
    ]
    cols = [Column("=头"), Column("b"), Column("n", kind="int"), Column("d")]
    write_csv(out, cols, rows)
    assert read_csv(out.getvalue()) == [
        ["'=头", "b", "n", "d"],
        ["'=1+1", "'+86 138", "-5", "'@SUM(A1)"],
        ["'-2", "'\tx", "3", "a=b"],
        ["plain", "中文", "-1", ""],
        ["7", "ok", "0", "'=cmd|' /C calc'!A0"],
    ]


def test_csv_checks_every_batch_for_formulas() -> None:
    out = io.StringIO()
    rows = [(f"名{i}", date(2025, 1, 1)) for i in range(2 * BATCH_ROWS + 10)]
    rows[BATCH_ROWS + 7] = ("=HYPERLINK(1)", datetime(2025, 1, 1, 9, 30))  # also a datetime in a date column
    assert write_csv(out, [Column("a"), Column("d", kind="date")], rows) == len(rows)
    values = list(csv.reader(io.StringIO(out.getvalue().lstrip("\ufeff"), newline="")))
    assert values[BATCH_ROWS + 8] == ["'=HYPERLINK(1)", "2025-01-01"]
    assert values[BATCH_ROWS + 9] == [f"名{BATCH_ROWS + 8}", "2025-01-01"]
    assert sum(value[0].startswith("'") for value in values) == 1


def test_csv_formats_aware_and_precise_datetimes() -> None:
    out = io.StringIO()
    stamps = [(datetime(2025, 6, 1, 12, 0, 1, 999, tzinfo=UTC),), (datetime(2025, 6, 1, 1, 2, 3, 4),)]
    write_csv(out, [Column("t", kind="datetime")], stamps, tz=CHINA)
    assert out.getvalue() == "\ufefft\r\n2025-06-01 20:00:01\r\n2025-06-01 01:02:03\r\n"


def test_csv_refuses_rows_of_the_wrong_width(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2 values for 1 columns"):
        write_csv(tmp_path / "bad.csv", [Column("a")], [("x",), ("y", "z")])
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- chart


KINDS = [("school", "技工院校"), ("short", "短期培训"), ("job", "就业推荐")]
COUNTS = {"城关镇": {"school": 120, "short": 340, "job": 80}, "堌阳镇": {"school": 60}, "南彰镇": {}}


def test_chart_is_a_png_of_the_expected_size() -> None:
    png = chart.draw_wishes_chart(COUNTS, KINDS, "兰考县 意愿统计")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.verify()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == chart.chart_size(3, 3)
    assert image.text["Font"] == chart.chart_font()
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 16)) > 5  # bars, legend and text were drawn


def test_chart_falls_back_to_pillows_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    chart._font.cache_clear()
    try:
        png = chart.draw_wishes_chart({}, KINDS, "empty")
    finally:
        chart._font.cache_clear()
    image = Image.open(io.BytesIO(png))
    assert image.size == chart.chart_size(0, 3)
    assert image.text["Font"] == chart.DEFAULT_FONT


# ---------------------------------------------------------------- progress and imports


def test_progress_writes_only_to_a_terminal_unless_forced() -> None:
    quiet, forced = io.StringIO(), io.StringIO()
    for stream, force in ((quiet, False), (forced, True)):
        with ProgressReporter("xlsx", total=20, stream=stream, force=force, interval=0) as report:
            report(10)
            report(20)
    assert quiet.getvalue() == ""
    assert forced.getvalue().count("\r") == 3 and "xlsx: 20/20 rows" in forced.getvalue()
    assert forced.getvalue().endswith("\n")


def test_exports_import_neither_aiogram_nor_babel() -> None:
    code = (
        "import sys, storage.exports.xlsx, storage.exports.csv_export, storage.exports.chart, "
        "storage.exports.progress; print(sorted({'aiogram', 'babel'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
