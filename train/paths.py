"""Where the project is, so that default data paths mean the same file from any working directory.

`PROJECT_ROOT` is the checkout that holds configs/ and data/ (the `train` package's parent: the project
is installed editable, `pip install -e .`). Relative paths in the project's configs and the defaults of
`eval`, `data check` and `data merge-review` are resolved against it; paths typed on the command line are
resolved against the working directory, as usual.
"""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def project_path(path: str | Path) -> Path:
    """`path` as an absolute path: absolute paths as given, relative ones under the project root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def is_inside_project(path: str | Path) -> bool:
    """True when `path` (resolved) lies in the project's checkout."""
    return Path(path).resolve().is_relative_to(PROJECT_ROOT)


def anchored(path: str, base: Path) -> str:
    """A relative `path` made absolute against `base` (absolute ones unchanged), as a string for configs.

    An empty string stays empty, so the config's own validation still reports it as the mistake it is.
    """
    if not path.strip():
        return path
    p = Path(path).expanduser()
    return str(p if p.is_absolute() else (base / p).resolve())
