"""The logged MLflow model works unchanged as a Spark UDF (skipped when pyspark is not installed).

Install the optional extra to run it: `.venv/bin/pip install -e '.[spark]'` (needs Java 17+).
"""
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")

from araclaim.train.config import load_config  # noqa: E402
from araclaim.train.labels import LABELS  # noqa: E402
from araclaim.train.pipeline import train  # noqa: E402

from conftest import REPO, shrink  # noqa: E402

RESULT_TYPE = ", ".join(["label string"] + [f"prob_{lab} double" for lab in LABELS])


@pytest.fixture
def spark(monkeypatch):
    from pyspark.sql import SparkSession

    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)  # workers use this venv
    session = (SparkSession.builder.master("local[1]").appName("araclaim-test")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1").getOrCreate())
    yield session
    session.stop()


def test_logged_model_as_spark_udf_matches_pyfunc(workdir, tiny_data, spark):
    import mlflow

    result = train(load_config(REPO / "configs/baseline.yaml", shrink(tiny_data) + ["baseline.min_df=1"]))
    texts = ["نفت الوزارة صحة الأنباء", "قال الوزير إن الخطة جاهزة", "يجب أن نتحرك الآن", "افتتحت البلدية حديقة"]
    classify = mlflow.pyfunc.spark_udf(spark, result.model_uri, result_type=RESULT_TYPE, env_manager="local")
    frame = spark.createDataFrame([(i, t) for i, t in enumerate(texts)], ["id", "text"])
    got = frame.withColumn("pred", classify("text")).select("id", "pred.*").orderBy("id").toPandas()
    local = mlflow.pyfunc.load_model(result.model_uri).predict(pd.DataFrame({"text": texts}))
    assert list(got["label"]) == list(local["label"])
    cols = [f"prob_{lab}" for lab in LABELS]
    assert np.allclose(got[cols].to_numpy(), local[cols].to_numpy(), atol=1e-9)
