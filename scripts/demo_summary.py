"""Print what `make demo` produced: run id, gold-article scores, labelled file, and the UI hint."""
import json
import sys
from collections import Counter
from pathlib import Path

demo = Path(sys.argv[1] if len(sys.argv) > 1 else "outputs/demo")
config = sys.argv[2] if len(sys.argv) > 2 else "ensemble"
run_id = (demo / f"{config}.run_id").read_text().strip()
gold = json.loads((demo / "eval" / "gold_article.json").read_text(encoding="utf-8"))
labelled = demo / "labelled.jsonl"
counts = Counter(json.loads(line)["label"] or "skipped" for line in labelled.read_text(encoding="utf-8").splitlines())

print(f"\nMLflow run id:        {run_id} ({config})")
print(f"gold article (n={gold['n']}, {gold['n_skipped']} skipped):")
print(f"  macro-F1  {gold['macro_f1']:.3f}  95% CI [{gold['macro_f1_ci_low']:.3f}, {gold['macro_f1_ci_high']:.3f}]")
print(f"  accuracy  {gold['accuracy']:.3f}  95% CI [{gold['accuracy_ci_low']:.3f}, {gold['accuracy_ci_high']:.3f}]")
for name, ref in gold["reference"].items():
    print(f"  reference {name}: macro-F1 {ref['macro_f1']:.3f}, accuracy {ref['accuracy']:.3f}")
print(f"full report:          {demo / 'eval' / 'gold_article.md'}")
print(f"labelled sample:      {labelled} ({sum(counts.values())} sentences: "
      + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ")")
print("\nCompare the runs:     make ui   (or .venv/bin/araclaim ui), then open the link it prints")
