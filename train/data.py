"""Labelled data files: JSON Lines with one sentence per record.

Training files (`data/train.jsonl`) need `text` and `label`; gold files (`data/gold/*.jsonl`,
`data/articles/*.jsonl`) may also carry `id`, `article`, `index`, `line`, `alt_label`, `note`, and label rows that are
not sentences `skip`. Every problem is reported as ``file:line: what is wrong (fix)``.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from araclaim.train import context
from araclaim.train.errors import DataError
from araclaim.train.labels import LABELS, SKIP

MAX_PROBLEMS_SHOWN = 20


@dataclass(frozen=True)
class Example:
    """One labelled sentence. `where` is ``file:line`` for messages."""

    text: str
    label: str
    id: str | None = None
    alt_label: str | None = None
    line: int | None = None
    where: str = ""
    extra: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class LabelledSet:
    """A validated file: the sentences to score and the rows that were skipped."""

    name: str
    path: Path
    examples: tuple[Example, ...]
    skipped: tuple[Example, ...]
    digest: str
    paths: tuple[Path, ...] = ()  # every file, when the set was loaded from several (load_many)

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    @property
    def labels(self) -> list[str]:
        return [e.label for e in self.examples]

    @property
    def groups(self) -> list[tuple[str, str] | None]:
        """Per example, its article key (file, article id), or None for a standalone sentence."""
        return [None if e.extra.get("article") is None else (e.where.rsplit(":", 1)[0], str(e.extra["article"]))
                for e in self.examples]

    def contexts(self, k: int) -> list[list[str]]:
        """Per example, up to `k` previous sentences of its article in file order (skip rows excluded)."""
        return context.contexts(self.groups, self.texts, k)


def _check_record(obj: object, where: str, allow_skip: bool) -> list[str]:
    """Problems of one parsed record (empty list when it is valid)."""
    if not isinstance(obj, dict):
        return [f"{where}: expected a JSON object, got {type(obj).__name__}"]
    problems = []
    text = obj.get("text")
    if "text" not in obj:
        problems.append(f"{where}: missing field 'text' (add the sentence as \"text\": \"...\")")
    elif not isinstance(text, str) or not text.strip():
        problems.append(f"{where}: 'text' is empty or not a string")
    allowed = LABELS + ((SKIP,) if allow_skip else ())
    label = obj.get("label")
    if "label" not in obj:
        problems.append(f"{where}: missing field 'label' (one of {', '.join(allowed)})")
    elif label not in allowed:
        problems.append(f"{where}: unknown label {label!r} (use one of {', '.join(allowed)})")
    alt = obj.get("alt_label")
    if alt is not None and alt not in LABELS:
        problems.append(f"{where}: unknown alt_label {alt!r} (use one of {', '.join(LABELS)} or drop it)")
    return problems


def read_records(path: str | Path, *, allow_skip: bool = True) -> tuple[list[Example], list[str]]:
    """Parse and validate a JSONL file; returns (examples, problems) without raising.

    Blank lines are ignored. Duplicate `id`s and an empty file are problems too.
    """
    path = Path(path)
    if not path.is_file():
        return [], [f"{path}: no such file (check the path; data files live under data/)"]
    examples, problems, seen_ids = [], [], {}
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        return [], [f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); re-save it as UTF-8"]
    for lineno, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        found = _check_record(obj, where, allow_skip)
        if found:
            problems.extend(found)
            continue
        rid = obj.get("id")
        if rid is not None and rid in seen_ids:
            problems.append(f"{where}: duplicate id {rid!r} (first at line {seen_ids[rid]})")
        elif rid is not None:
            seen_ids[rid] = lineno
        examples.append(_to_example(obj, where))
    if not examples and not problems:
        problems.append(f"{path}: file is empty (expected one JSON object per line with 'text' and 'label')")
    return examples, problems


def _to_example(obj: dict, where: str) -> Example:
    known = {"text", "label", "id", "alt_label", "line"}
    return Example(
        text=obj["text"].strip(),
        label=obj["label"],
        id=None if obj.get("id") is None else str(obj["id"]),
        alt_label=obj.get("alt_label"),
        line=obj.get("line"),
        where=where,
        extra={k: v for k, v in obj.items() if k not in known},
    )


def raise_problems(problems: list[str]) -> None:
    """Raise one DataError listing the problems (the first MAX_PROBLEMS_SHOWN of them)."""
    if not problems:
        return
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    tail = f"\n... and {more} more" if more > 0 else ""
    raise DataError("\n".join(shown) + tail)


def load_labelled(path: str | Path, name: str | None = None, *, allow_skip: bool = True) -> LabelledSet:
    """Load a labelled file, raising DataError (with file:line) on any problem."""
    path = Path(path)
    examples, problems = read_records(path, allow_skip=allow_skip)
    raise_problems(problems)
    kept = tuple(e for e in examples if e.label != SKIP)
    skipped = tuple(e for e in examples if e.label == SKIP)
    if not kept:
        raise DataError(f"{path}: every row is labelled '{SKIP}'; nothing to score")
    return LabelledSet(
        name=name or dataset_name(path),
        path=path,
        examples=kept,
        skipped=skipped,
        digest=file_digest(path),
    )


def load_many(paths: tuple[str, ...] | list[str], name: str, *, allow_skip: bool = True) -> LabelledSet:
    """Several labelled files as one set (in the given order); skip rows are set aside, as in load_labelled."""
    parts = [load_labelled(p, name, allow_skip=allow_skip) for p in paths]
    if len(parts) == 1:
        return parts[0]
    digest = hashlib.sha256("".join(p.digest for p in parts).encode()).hexdigest()[:12]
    return LabelledSet(name=name, path=parts[0].path, examples=tuple(e for p in parts for e in p.examples),
                       skipped=tuple(e for p in parts for e in p.skipped), digest=digest,
                       paths=tuple(p.path for p in parts))


def to_hf_dataset(data: LabelledSet, split: str | None = None):
    """The set as a `datasets.Dataset` (in memory, no cache files): text, label as a `ClassLabel` over LABELS
    (ids are the models' label ids), alt_label, article and index (None where the file has no such key).

    Built from our validated records, never by `load_dataset`: the JSONL files stay the source of truth and
    their checks stay ours. `split` names the Dataset's split (the role, e.g. "select").
    """
    datasets = offline_datasets()
    rows = [{"text": e.text, "label": e.label, "alt_label": e.alt_label,
             "article": None if e.extra.get("article") is None else str(e.extra["article"]),
             "index": _index(e)} for e in data.examples]
    return datasets.Dataset.from_list(rows, features=hf_features(), split=split)


def to_hf_dataset_dict(named: list[tuple[str, LabelledSet]]):
    """Sets as one `datasets.DatasetDict`, one split per (name, set): train, dev, select, ..., gold_article."""
    names = [name for name, _ in named]
    clashes = [f"{data.path} ({name})" for name, data in named if names.count(name) > 1]
    if clashes:
        raise DataError(f"data files share a split name: {', '.join(clashes)}; rename one of them (a held-out "
                        "split is named after its file)")
    datasets = offline_datasets()
    return datasets.DatasetDict({name: to_hf_dataset(data, name) for name, data in named})


def hf_features():
    """The columns of every split: `label` is a ClassLabel whose names are LABELS, in their fixed order."""
    datasets = offline_datasets()
    return datasets.Features({
        "text": datasets.Value("string"), "label": datasets.ClassLabel(names=list(LABELS)),
        "alt_label": datasets.Value("string"), "article": datasets.Value("string"),
        "index": datasets.Value("int32")})


def _index(example: Example) -> int | None:
    value = example.extra.get("index")
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise DataError(f"{example.where}: 'index' is {value!r}; it must be the sentence's position in its article "
                    "as a whole number (1, 2, ...) or left out")


def offline_datasets():
    """The `datasets` package with its hub switched off (unless the environment says otherwise).

    Our datasets are built from validated local records (`from_list`, `map`), which never reach the network;
    HF_DATASETS_OFFLINE keeps any later `load_dataset` in the process local too, when `datasets` (which
    transformers' Trainer imports) reads it here first.
    """
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    return datasets


@contextlib.contextmanager
def quiet_datasets():
    """`datasets` (as offline_datasets) with its progress bars off inside the block, as they were after it: our
    maps run in memory in moments, and a bar per split would only bury the log."""
    datasets = offline_datasets()
    was_off = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield datasets
    finally:
        if not was_off:
            datasets.enable_progress_bars()


def dataset_name(path: str | Path) -> str:
    """A metric-friendly name for a data file: data/gold/article.jsonl -> 'gold_article'."""
    path = Path(path)
    parent = path.parent.name
    stem = path.stem.replace("-", "_").replace(".", "_")
    return f"{parent}_{stem}" if parent in {"gold"} else stem


def file_digest(path: str | Path) -> str:
    """Short content hash, so a run records exactly which data it saw."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
