"""Finding the encoder to fine-tune: a local directory, the Hugging Face cache, or the hub - or failing within
seconds, with a message that says how to supply a local copy, when none of them works.
"""
from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

from araclaim.train.errors import ModelLoadError, first_line

PROBE_TIMEOUT_S = 3.0  # how long the hub may take to accept a TCP connection before we call it unreachable


def hf_cache_dir() -> Path:
    """The hub cache as huggingface_hub resolves it, read from the environment *now* (not at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "huggingface")
    return Path(home).expanduser() / "hub"


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def hub_offline() -> bool:
    """Whether the environment forbids the hub (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)."""
    return _env_true("HF_HUB_OFFLINE") or _env_true("TRANSFORMERS_OFFLINE")


def _hub_reachable(timeout: float = PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """TCP-connect to the hub (or the HTTPS proxy in front of it) in a thread bounded by `timeout`.

    The thread also bounds DNS resolution, which socket timeouts do not cover.
    """
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    url = urlparse(proxy or os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host, port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
    outcome: list[str] = []

    def probe():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            outcome.append("")
        except OSError as exc:
            outcome.append(f"{host}:{port} {exc}")

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    if not outcome:
        return False, f"{host}:{port} did not answer within {timeout:.0f} s"
    return outcome[0] == "", outcome[0]


def _load_error(name: str, reason: str) -> ModelLoadError:
    local = "/path/to/" + (name.rstrip("/").split("/")[-1] or "model")
    return ModelLoadError(
        f"cannot load transformer model {name!r}: {reason}. Looked for it in the Hugging Face cache at "
        f"{hf_cache_dir()} (HF_HOME / HF_HUB_CACHE choose another). To use a local copy, download it where "
        f"there is internet (`hf download {name} --local-dir {local.split('/')[-1]}`), copy the directory here "
        f"and point the config at it: `transformer.name_or_path: {local}` in the YAML, or "
        f"`araclaim train --config ... --set transformer.name_or_path={local}`"
    )


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def resolve_encoder(name_or_path: str) -> tuple[str, bool]:
    """Where `from_pretrained` should load from, and whether it must stay offline.

    Order: an existing local directory; the HF cache (no network); then, unless HF_HUB_OFFLINE is set,
    the hub after a 3-second reachability probe. Raises ModelLoadError within seconds otherwise.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise _load_error(name_or_path, f"directory {path} has no config.json (is it a save_pretrained copy?)")
        return str(path), True
    if not _HUB_ID.match(name_or_path):
        raise _load_error(name_or_path, f"no such directory {path}")
    from huggingface_hub import snapshot_download

    from huggingface_hub.errors import EntryNotFoundError

    try:  # a complete enough snapshot in the cache: config + tokenizer files, no network
        snapshot = Path(snapshot_download(name_or_path, cache_dir=str(hf_cache_dir()), local_files_only=True))
        if (snapshot / "config.json").is_file():
            return str(snapshot), True
    except (OSError, ValueError, EntryNotFoundError):  # not cached (LocalEntryNotFoundError), or a bad cache entry
        pass
    if hub_offline():
        raise _load_error(name_or_path, "it is not in the cache and HF_HUB_OFFLINE is set")
    ok, why = _hub_reachable()
    if not ok:
        raise _load_error(name_or_path, f"it is not in the cache and the hub is unreachable ({why})")
    return name_or_path, False


def from_pretrained(loader, source: str, local_only: bool, name: str, **kwargs):
    """`loader.from_pretrained(source)` (a model, config or tokenizer class) with failures as ModelLoadError
    naming `name` and how to supply a local copy."""
    try:
        return loader.from_pretrained(source, cache_dir=str(hf_cache_dir()), local_files_only=local_only, **kwargs)
    except ModelLoadError:
        raise
    except (OSError, ValueError) as exc:
        first = first_line(exc)
        raise _load_error(name, f"loading from {source} failed: {first}") from None
