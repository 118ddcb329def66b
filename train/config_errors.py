"""pydantic validation errors of the config, in the project's words: the dotted key, the value, the fix.

train/config.py raises them as one ConfigError, every problem on its own line, prefixed with the file.
"""
from __future__ import annotations

import difflib
import typing
from typing import Annotated, Any

from pydantic import BaseModel

_TYPE_NAMES = {"int_type": "int", "int_parsing": "int", "float_type": "float", "float_parsing": "float",
               "string_type": "str", "bool_type": "bool", "bool_parsing": "bool", "tuple_type": "a list",
               "list_type": "a list", "literal_error": None}
_BOUNDS = {"greater_than_equal": "at least {ge}", "greater_than": "more than {gt}", "less_than_equal": "at most {le}",
           "less_than": "less than {lt}", "too_short": "at least {min_length} character(s) or item(s)"}


def _unwrap(annotation: Any) -> Any:
    """The model class behind `Optional[Model]` / `Annotated[...]`, else the annotation itself."""
    if typing.get_origin(annotation) is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Union and len(args) == 1:
        return _unwrap(args[0])
    return annotation


def _node(loc: tuple, root: type[BaseModel]) -> tuple[type[BaseModel] | None, Any]:
    """(the model under `root` that owns the last string in `loc`, that field's FieldInfo or None)."""
    model, info = root, None
    names = [part for part in loc if isinstance(part, str)]
    for i, name in enumerate(names):
        info = model.model_fields.get(name)
        if info is None or i == len(names) - 1:
            return model, info
        inner = _unwrap(info.annotation)
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return model, info
        model = inner
    return model, info


def _dotted(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if isinstance(part, str))


def describe(err: dict, root: type[BaseModel]) -> str:
    """One pydantic error of a `root` model validation in the project's words: the dotted key, the value and
    the fix (a did-you-mean for unknown keys; the field's `fix`, else its bound, for impossible values)."""
    kind, loc, value, ctx = err["type"], err["loc"], err.get("input"), err.get("ctx") or {}
    key = _dotted(loc)
    model, info = _node(loc, root)
    if kind == "extra_forbidden":
        prefix, name = key.rpartition(".")[0], key.rpartition(".")[2]
        prefix = f"{prefix}." if prefix else ""
        lower = {known.lower(): known for known in model.model_fields}
        close = difflib.get_close_matches(name.lower(), lower, n=1, cutoff=0.5)
        hint = f"did you mean '{prefix}{lower[close[0]]}'?" if close else f"known keys: {', '.join(model.model_fields)}"
        return f"unknown key '{key}'; {hint}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{key or 'config'} must be a mapping of keys, got {value!r}"
    if kind == "cross_field":
        full = f"{key}.{ctx['key']}" if key else ctx["key"]
        return f"{full} = {ctx['value']!r} {ctx['why']}; {ctx['fix']}"
    if kind == "bad_value":
        return f"{key} = {value!r} {ctx['why']}; {ctx['fix']}"
    fix = (info.json_schema_extra or {}).get("fix") if info is not None else None
    if kind in _TYPE_NAMES and kind != "literal_error":
        want = _TYPE_NAMES[kind]
        quoted = " (write numbers without quotes)" if isinstance(value, str) and want in ("int", "float") else ""
        default = f"; e.g. {info.default!r}" if info is not None and info.default is not None else ""
        return f"{key} = {value!r} should be {want}, got {type(value).__name__}{quoted}{default}"
    if kind in _BOUNDS and not fix:
        fix = _BOUNDS[kind].format(**ctx)
    if kind == "literal_error" and not fix:
        fix = f"one of {ctx.get('expected')}"
    return f"{key} = {value!r} is impossible; use {fix or err['msg'].lower()}"
