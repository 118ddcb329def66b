"""The MLflow pyfunc face of an araclaim model: text in, label and class probabilities out.

Kept free of araclaim's MLflow bookkeeping so that `mlflow.pyfunc.load_model` and
`mlflow.pyfunc.spark_udf` can use it anywhere the `train` package is shipped (it is, as code_paths).
"""
from __future__ import annotations

import mlflow.pyfunc
import pandas as pd

from araclaim.train import context
from araclaim.train.model import Classifier


def output_frame(clf: Classifier, texts: list[str], articles: list | None = None) -> pd.DataFrame:
    """Predictions as a frame: `label`, then `prob_<label>` per class.

    `articles` (one id per row, rows of an article in reading order) gives each sentence its article
    context for models that read one; without it every row is a standalone sentence.
    """
    ctx = None
    if articles is not None and clf.context_size:
        ctx = context.contexts([None if a is None or a != a or a == "" else a for a in articles], list(texts),
                               clf.context_size)
    probs = clf.predict_proba(list(texts), ctx)
    frame = pd.DataFrame({"label": [clf.labels[i] for i in probs.argmax(axis=1)]})
    for j, label in enumerate(clf.labels):
        frame[f"prob_{label}"] = probs[:, j]
    return frame


class ClaimClassifierModel(mlflow.pyfunc.PythonModel):
    """Wraps the saved model directory (artifact `model_dir`)."""

    def load_context(self, context):
        self.classifier = Classifier.load(context.artifacts["model_dir"])

    # The DataFrame hint is one MLflow infers no schema from and validates nothing against (the signature logged
    # with the model checks inputs; a plain list of texts still works). Without a hint MLflow warns "Add type
    # hints to the `predict` method" whenever this class is defined, under a "once" filter of its own that
    # overrides the caller's warning filters.
    def predict(self, context, model_input: pd.DataFrame, params=None):
        articles = None
        if isinstance(model_input, pd.DataFrame):
            texts = model_input["text" if "text" in model_input else model_input.columns[0]]
            if "article" in model_input:
                articles = list(model_input["article"])
        else:
            texts = model_input
        return output_frame(self.classifier, [str(t) for t in texts], articles)
