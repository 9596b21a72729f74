"""`outreach export` on SQLite and PostgreSQL: XLSX and CSV for Excel, masking, scoping, unmasked exports."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import select

from bot.cli.hr import cli_actor, export_command
from storage import hr_export
from storage.crypto import Cipher, mask_id, mask_phone
from storage.db import Database
from storage.models_access import AuditEntry
from tests.db_fixtures import run_in_own_loop
from tests.hr_support import (
    ADMIN,
    COUNTY_A,
    COUNTY_B,
    HR_A,
    SECRET,
    VILLAGE_A,
    VILLAGE_B,
    open_db,
    resident_id,
    staff,
    submission,
    submit,
    url_fixture,  # noqa: F401
)

HOUSEHOLDS_A = 4
CHILD_IDS = [resident_id(COUNTY_A, "20090101", f"{100 + 10 * n + 1:03d}") for n in range(HOUSEHOLDS_A)]
HEADERS = ["记录编号", "县（区）", "乡镇", "村", "户主", "姓名", "与户主关系", "性别", "年龄",
           "身份证号（脱敏）", "联系电话（脱敏）", "户类别", "意愿类型", "培训类型", "意向工种/专业",
           "愿意到县外", "方便联系时间", "跟进状态", "跟进备注", "登记时间", "农户通知"]  # fmt: skip


async def _prepare(url: str) -> None:
    """Four households in county A, one in county B, and the staff."""
    db = await open_db(url)
    cipher = Cipher.from_secret(SECRET)
    try:
        for n in range(HOUSEHOLDS_A):
            await submit(db, cipher, submission(VILLAGE_A, f"王户{n}", f"王孩{n}", 100 + 10 * n))
        await submit(db, cipher, submission(VILLAGE_B, "李户", "李孩", 500))
        await staff(db)
    finally:
        await db.dispose()


@pytest.fixture
def prepared(url: str) -> str:
    """The database URL, with the data in."""
    run_in_own_loop(lambda: _prepare(url))
    return url


def export(url: str, out: Path, fmt: str, **options) -> int:
    """Run the CLI export function for county A."""
    return export_command(url, county=COUNTY_A, fmt=fmt, out=out, cipher_secrets=lambda: [SECRET], **options)


def audit_entries(url: str) -> list[AuditEntry]:
    """Every audit entry."""

    async def read() -> list[AuditEntry]:
        database = Database.from_url(url)
        try:
            async with database.session() as session:
                return list((await session.exec(select(AuditEntry).order_by(AuditEntry.id))).all())
        finally:
            await database.dispose()

    return run_in_own_loop(read)


def test_xlsx_has_chinese_headers_a_frozen_row_dates_and_masked_numbers(prepared, tmp_path):
    out = tmp_path / "a.xlsx"
    assert export(prepared, out, "xlsx") == 0
    book = openpyxl.load_workbook(out)
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS and sheet.freeze_panes == "A2"
    assert len(rows) == 1 + HOUSEHOLDS_A
    assert [row[9] for row in rows[1:]] == [mask_id(i) for i in CHILD_IDS]
    assert rows[1][10] == mask_phone("13800000100") and rows[1][1:4] == ("兰考县", "堌阳镇", "任庄村")
    assert rows[1][12] == "读技工院校" and rows[1][15] == "是" and rows[1][17] == "待联系"
    assert isinstance(rows[1][19], datetime) and rows[1][19].hour == 10  # 02:00 UTC is 10:00 in China
    flat = " ".join(str(cell) for row in rows for cell in row)
    assert "李孩" not in flat and not any(i in flat for i in CHILD_IDS)
    assert sheet.column_dimensions["J"].width >= 20


def test_villages_show_the_name_villagers_use(prepared, tmp_path):
    out = tmp_path / "b.csv"
    code = export_command(prepared, county=COUNTY_B, fmt="csv", out=out, cipher_secrets=lambda: [SECRET])
    text = out.read_text(encoding="utf-8-sig")
    assert code == 0 and "五里河镇,史庄村," in text and "史庄村委会" not in text  # official: 史庄村委会


def test_csv_is_utf8_with_a_bom_for_excel(prepared, tmp_path):
    out = tmp_path / "a.csv"
    assert export(prepared, out, "csv") == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == HEADERS and len(rows) == 1 + HOUSEHOLDS_A
    assert [row[9] for row in rows[1:]] == [mask_id(i) for i in CHILD_IDS]
    assert rows[1][19] == "2026-11-24 10:00:00"
    assert "李孩" not in data.decode("utf-8-sig") and not any(i in data.decode() for i in CHILD_IDS)
    (entry,) = audit_entries(prepared)
    assert (entry.action, entry.channel, entry.target_id) == ("hr.export", "cli", COUNTY_A)
    assert entry.detail == f"rows={HOUSEHOLDS_A} format=csv"


def test_since_keeps_later_records_only(prepared, tmp_path):
    out = tmp_path / "a.csv"
    assert export(prepared, out, "csv", since="2026-11-25") == 0
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 1


def test_unmasked_is_refused_for_others_and_audited(prepared, tmp_path):
    out = tmp_path / "a.csv"
    assert export(prepared, out, "csv", unmasked=True) == 3
    assert export(prepared, out, "csv", unmasked=True, as_telegram_id=HR_A) == 3
    assert not out.exists()
    assert [(e.actor, e.action, e.detail) for e in audit_entries(prepared)] == [
        (cli_actor(), "access.refused", "action=hr.export_unmasked"),
        (f"tg:{HR_A}", "access.refused", "action=hr.export_unmasked"),
    ]


def test_unmasked_for_an_admin_has_full_numbers_and_is_audited(prepared, tmp_path):
    out = tmp_path / "a.csv"
    assert export(prepared, out, "csv", unmasked=True, as_telegram_id=ADMIN) == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
    assert rows[0][9] == "身份证号" and [row[9] for row in rows[1:]] == CHILD_IDS
    assert rows[1][10] == "13800000100"
    (entry,) = audit_entries(prepared)
    assert (entry.actor, entry.action) == (f"tg:{ADMIN}", "hr.export_unmasked")


def test_bad_arguments_are_refused(prepared, tmp_path):
    out = tmp_path / "a.csv"
    assert export_command(prepared, county="4102", fmt="csv", out=out, cipher_secrets=lambda: [SECRET]) == 2
    assert export(prepared, out, "ods") == 2
    assert export(prepared, out, "csv", since="yesterday") == 2


def test_a_csv_in_parts_equals_one_written_whole(migrated_sqlite_url, tmp_path, monkeypatch):
    run_in_own_loop(lambda: _prepare(migrated_sqlite_url))
    whole, parts = tmp_path / "whole.csv", tmp_path / "parts.csv"
    assert export(migrated_sqlite_url, whole, "csv", workers=1) == 0
    monkeypatch.setattr(hr_export, "PARALLEL_MIN_ROWS", 1)
    assert export(migrated_sqlite_url, parts, "csv", workers=3) == 0
    assert parts.read_bytes() == whole.read_bytes()
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]  # none left behind
