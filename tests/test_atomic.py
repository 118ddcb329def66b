"""train/atomic.py: a write is all or nothing, and a failed one leaves the old file or folder as it was."""
import os
import stat

import pytest

from araclaim.train import atomic


class Stop(Exception):
    pass


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = atomic.write_text(tmp_path / "f.jsonl", "old\n")
    with pytest.raises(Stop), atomic.open_atomic(path) as fh:
        fh.write("new, half written")
        raise Stop
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["f.jsonl"]
    atomic.write_bytes(path, b"new\n")
    assert path.read_bytes() == b"new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_umask()  # not mkstemp's 0600


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path):
    target = tmp_path / "model"
    with atomic.directory(target) as tmp:
        (tmp / "a").write_text("1")
    with pytest.raises(Stop), atomic.directory(target) as tmp:
        (tmp / "b").write_text("2")
        raise Stop
    assert sorted(os.listdir(target)) == ["a"] and os.listdir(tmp_path) == ["model"]
    with atomic.directory(target) as tmp:
        (tmp / "b").write_text("2")
    assert sorted(os.listdir(target)) == ["b"] and os.listdir(tmp_path) == ["model"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
