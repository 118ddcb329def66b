"""Config files as raw dicts: YAML reading, `extends` chains, `--set` overrides, data paths made absolute.

No schema here: train/config.py validates the dict these functions build.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from araclaim.train.errors import ConfigError
from araclaim.train.paths import anchored, is_inside_project


def read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    """A config file as a raw dict, its `extends` chain merged in (the file's values win); data paths of a
    file outside the project are made absolute against the file's folder."""
    if not path.is_file():
        raise ConfigError(f"config file {path} not found (configs live in configs/*.yaml)")
    if path.resolve() in chain:
        raise ConfigError(f"{path}: 'extends' loops back to itself")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    if not is_inside_project(path):
        raw = anchor_data_paths(raw, None, path.resolve().parent)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    base = read_yaml(path.parent / parent, chain + (path.resolve(),))
    return _merge(base, raw)


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def anchor_data_paths(raw: dict, keys: set[str] | None, base: Path) -> dict:
    """`raw` with the relative paths of its `data` section (only `keys` of it, when given) made absolute
    against `base`, so they no longer depend on where the command runs."""
    data = raw.get("data")
    if not isinstance(data, dict):
        return raw
    fixed = {}
    for key, value in data.items():
        if keys is not None and key not in keys:
            fixed[key] = value
        elif isinstance(value, str):
            fixed[key] = anchored(value, base)
        elif isinstance(value, list):
            fixed[key] = [anchored(v, base) if isinstance(v, str) else v for v in value]
        else:
            fixed[key] = value
    return {**raw, "data": fixed}


def override_data_keys(overrides) -> set[str] | None:
    """The `data` keys that `--set` overrides name (None: the whole section)."""
    keys: set[str] = set()
    for item in overrides:
        key = item.split("=", 1)[0].strip()
        if key == "data":
            return None
        if key.startswith("data."):
            keys.add(key.split(".")[1])
    return keys


def apply_overrides(raw: dict, overrides: list[str] | tuple[str, ...]) -> dict:
    """Apply `a.b=value` strings (value parsed as YAML) to a raw config dict."""
    raw = _merge({}, raw)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set transformer.epochs=2")
        key, text = item.split("=", 1)
        node = raw
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item!r}: '{part}' is not a section")
        node[parts[-1]] = yaml.safe_load(text)
    return raw
