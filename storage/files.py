"""Files that hold personal data (the SQLite database, exports, invitation QR codes): private.

Whatever the umask, they are created 0600 and their folders 0700. An export is written to a
temporary file made by `mkstemp` in the target folder (O_CREAT|O_EXCL|O_NOFOLLOW, a name
nobody can guess or plant a symlink at) and renamed over the target only when complete.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from storage.urls import parse_url

PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700


def private_dir(path: str | os.PathLike[str]) -> Path:
    """A folder only its owner can enter, created if missing, whatever the umask."""
    folder = Path(path)
    folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    os.chmod(folder, PRIVATE_DIR)
    return folder


def private_database(url: str) -> None:
    """The SQLite file of `url` created (or narrowed to) 0600 before anything opens it."""
    path = parse_url(url).sqlite_path
    if not path:
        return  # PostgreSQL, or an in-memory database
    if not Path(path).parent.is_dir():
        return  # a mistyped DATABASE_URL: SQLite's own "unable to open" names it, nothing is created
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE)
    os.close(descriptor)
    for companion in ("", "-wal", "-shm", "-journal"):  # SQLite copies the file's mode to these
        if os.path.exists(path + companion):
            os.chmod(path + companion, PRIVATE_FILE)


@contextmanager
def output_file(target: str | os.PathLike[str] | IO[Any], mode: str, **open_args: Any) -> Iterator[IO[Any]]:
    """The file itself, or a private temporary file beside the path that replaces it on success."""
    if not isinstance(target, str | os.PathLike):
        yield target
        return
    path = os.fspath(target)
    folder, name = os.path.split(path)
    descriptor, part = tempfile.mkstemp(dir=folder or ".", prefix=f".{name}.", suffix=".part")
    try:
        with open(descriptor, mode, **open_args) as file:
            yield file
        os.replace(part, path)  # a symlink planted at `path` is replaced, never followed
    finally:
        if os.path.exists(part):
            os.remove(part)
