"""Drop templated sentences from the written sentence corpus (issue #10, item 3).

    python scripts/clean_templates.py data/train.jsonl data/dev.jsonl

A first-three-word opener (normalised, train/shape.first_three) used more than 8 times across the given
files marks a template ("من المرجح أن…"، "لا بد من…"). The first 8 uses in file order are kept; the rest are
dropped, and the files are rewritten in place. Prints what was dropped, by opener, to stderr.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from araclaim.train import atomic  # noqa: E402
from araclaim.train.shape import SENTENCE_CORPUS_MAX_FIRST_THREE, first_three  # noqa: E402


def main(paths: list[str]) -> int:
    seen, dropped = Counter(), Counter()
    for raw in paths:
        path = Path(raw)
        kept = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            opener = first_three(json.loads(line)["text"])
            if opener:
                seen[opener] += 1
                if seen[opener] > SENTENCE_CORPUS_MAX_FIRST_THREE:
                    dropped[opener] += 1
                    continue
            kept.append(line)
        atomic.write_text(path, "\n".join(kept) + "\n")
        print(f"{path}: {len(kept)} sentences kept", file=sys.stderr)
    for opener, n in dropped.most_common():
        print(f"  dropped {n} starting '{' '.join(opener)}'", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
