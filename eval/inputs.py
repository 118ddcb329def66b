"""Reading `araclaim label`'s inputs: text, JSONL and CSV articles, directories and stdin.

`.txt` files are one article each (UTF-8, a BOM, CRLF and UTF-16 with a BOM are fine); directories are searched
recursively for .txt, .jsonl and .csv, in sorted order; `.jsonl` and `.csv` files hold one article per record
(text in `--text-field`, id in `--id-field`, kept); `-` is standard input (text). Any other file named on the
command line is read as text. A file that cannot be read becomes a `Failure` in the stream, so the other
inputs are still labelled.
"""
from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

INPUT_SUFFIXES = (".txt", ".jsonl", ".csv")
MAX_BAD_RECORDS = 10  # per file, after which the rest of the file is given up
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class Article:
    """One article: `text` is what the offsets index."""

    id: str
    source: str
    text: str


@dataclass(frozen=True)
class Failure:
    """An input (or one record of it) that could not be read; `where` is a path or path:line."""

    where: str
    message: str


class Unreadable(Exception):
    """Raised by the readers for one input; becomes a Failure."""


# --------------------------------------------------------------------------------------------------
# Reading inputs
# --------------------------------------------------------------------------------------------------

def decode(raw: bytes) -> str:
    """Bytes of a text input as str: UTF-8 (BOM dropped) or UTF-16 with a BOM; Unreadable otherwise."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if b"\x00" in raw[:8192]:
        raise Unreadable("binary file (NUL bytes), not text; pass UTF-8 text, .jsonl or .csv")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text ({exc.reason} at byte {exc.start}); re-save it as UTF-8") from None


def input_files(paths: list[str], exclude: set[Path] = frozenset()) -> Iterator[tuple[str, Path | None]]:
    """(path, root) for every input: named files as given, directories walked in sorted order."""
    for raw in paths:
        path = Path(raw)
        if raw == "-" or not path.is_dir():
            yield raw, None
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            for name in sorted(filenames):
                f = Path(dirpath) / name
                if f.suffix.lower() in INPUT_SUFFIXES and f.resolve() not in exclude:
                    yield str(f), path


def read_inputs(paths: list[str], *, text_field: str = "text", id_field: str = "id",
                exclude: set[Path] = frozenset()) -> Iterator[Article | Failure]:
    """Articles (and Failures) from every input, one at a time."""
    for name, root in input_files(paths, exclude):
        suffix = Path(name).suffix.lower()
        try:
            if suffix == ".jsonl":
                yield from _jsonl_articles(Path(name), text_field, id_field)
            elif suffix == ".csv":
                yield from _csv_articles(Path(name), text_field, id_field)
            else:
                yield _text_article(name, root)
        except Unreadable as exc:
            yield Failure(name, str(exc))
        except OSError as exc:
            yield Failure(name, f"cannot read ({exc.strerror or exc})")


def _text_article(name: str, root: Path | None) -> Article:
    if name == "-":
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
        return Article("stdin", "-", decode(raw))
    path = Path(name)
    article_id = path.relative_to(root).with_suffix("").as_posix() if root else path.stem
    return Article(article_id, name, decode(path.read_bytes()))


def _jsonl_articles(path: Path, text_field: str, id_field: str) -> Iterator[Article | Failure]:
    bad = 0
    with path.open("rb") as fh:
        head = fh.read(8192)
        if b"\x00" in head:
            raise Unreadable("binary file (NUL bytes), not JSON Lines")
        fh.seek(0)
        for lineno, raw in enumerate(fh, 1):
            try:
                art = _jsonl_record(raw, path, lineno, text_field, id_field)
            except Unreadable as exc:
                bad += 1
                yield Failure(f"{path}:{lineno}", str(exc))
                if bad >= MAX_BAD_RECORDS:
                    raise Unreadable(f"{bad} bad records; giving up on the rest of the file") from None
                continue
            if art is not None:
                yield art


def _jsonl_record(raw: bytes, path: Path, lineno: int, text_field: str, id_field: str) -> Article | None:
    try:
        line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 ({exc.reason} at byte {exc.start} of the line)") from None
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise Unreadable(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    return _record_article(obj, path, lineno, text_field, id_field)


def _record_article(obj, path: Path, lineno: int, text_field: str, id_field: str) -> Article:
    if not isinstance(obj, dict):
        raise Unreadable(f"expected a JSON object, got {type(obj).__name__}")
    text = obj.get(text_field)
    if not isinstance(text, str):
        fields = ", ".join(list(obj)[:8])
        raise Unreadable(f"no text field {text_field!r} (fields: {fields}); choose one with --text-field")
    rid = obj.get(id_field)
    return Article(str(rid) if rid not in (None, "") else f"{path.stem}-{lineno}", str(path), text)


def _csv_articles(path: Path, text_field: str, id_field: str) -> Iterator[Article | Failure]:
    with path.open("rb") as fh:
        if b"\x00" in fh.read(8192):
            raise Unreadable("binary file (NUL bytes), not CSV")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if text_field not in (reader.fieldnames or []):
                cols = ", ".join(reader.fieldnames or []) or "none"
                raise Unreadable(f"no column {text_field!r} (columns: {cols}); choose one with --text-field")
            for row in reader:
                yield _record_article(row, path, reader.line_num, text_field, id_field)
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text ({exc.reason}); re-save it as UTF-8") from None
    except csv.Error as exc:
        raise Unreadable(f"malformed CSV ({exc})") from None
