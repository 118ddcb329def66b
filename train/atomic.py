"""The one way araclaim writes files and folders: to a temporary name beside the target, then renamed.

A reader (or a process killed half-way, kill -9 included) therefore sees either the old content or the
new, never a torn file: `write_text`/`write_bytes` for whole files, `open_atomic` for streamed ones,
`directory` for folders (model directories, run folders), `replace` for a temporary file that a caller
wrote itself (`araclaim label`'s `<out>.partial`). `file_lock` serialises processes that share a resource
(the first use of a local MLflow store).

Temporary names start with a dot and end in `.tmp`, so a kill leaves at most a hidden stray that no
reader picks up (data files are found by their `.jsonl` suffix).
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _temp_name(path: Path, kind: str = "tmp") -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.{kind}")


def _fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace(tmp: str | Path, path: str | Path) -> None:
    """Rename a complete, already flushed temporary file (or folder) over `path`, durably."""
    os.replace(tmp, path)
    _fsync_dir(Path(path).parent)


@contextlib.contextmanager
def open_atomic(path: str | Path, mode: str = "w", *, encoding: str | None = None,
                newline: str | None = None) -> Iterator[IO]:
    """A file object for `path` that becomes `path` only when the block ends without an exception.

    Created with the usual permissions (0666 less the umask), not mkstemp's 0600, so a rewritten data
    file keeps being readable by the team.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        if "b" not in mode and encoding is None:
            encoding = "utf-8"
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` atomically; returns the path."""
    with open_atomic(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically; returns the path."""
    with open_atomic(path, "w", encoding=encoding, newline="") as fh:
        fh.write(text)
    return Path(path)


def _fsync_tree(root: Path) -> None:
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            with contextlib.suppress(OSError), open(os.path.join(dirpath, name), "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(Path(dirpath))


@contextlib.contextmanager
def directory(path: str | Path) -> Iterator[Path]:
    """A fresh temporary folder to fill; it becomes `path` when the block ends without an exception.

    An existing `path` is replaced whole (moved aside first, removed after the rename). On an exception
    the temporary folder is removed and `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    os.mkdir(tmp)
    try:
        yield tmp
        _fsync_tree(tmp)
        old = None
        if path.exists():
            old = _temp_name(path, "old")
            os.replace(path, old)
        replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the block; other processes wait.

    An advisory flock: the kernel releases it when the holder exits, kill -9 included, so a dead
    process never leaves the resource locked.
    """
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
