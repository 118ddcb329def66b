"""The label scheme: the four classes, in a fixed order that every model and metric shares.

The order is part of the model format (it maps logits/probability columns to names), so never
reorder it; add new classes at the end.
"""
LABELS: tuple[str, ...] = ("assertion", "denial", "attributed_claim", "opinion")
SKIP = "skip"  # gold/dev-article rows that are not sentences (bylines, datelines, bare titles)

LABEL2ID = {label: i for i, label in enumerate(LABELS)}
ID2LABEL = dict(enumerate(LABELS))
