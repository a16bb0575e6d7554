#!/usr/bin/env python3
"""Retrain external trainer: scikit-learn + skl2onnx on flight-delay (or any binary label).

Reads the contract named by RETRAIN_CONTRACT (docs/external-trainer.md, contract
version 1), fits Pipeline(ColumnTransformer[impute + scale numeric, one-hot categorical],
LogisticRegression | SGDClassifier), converts it to ONNX with one [N, 1] input per feature
and ZipMap disabled, and writes the contract's output.model and output.metrics.

Hyperparameters (the spec's training.trainer.hyperparameters, all optional):
  algorithm  "logistic_regression" (default) or "sgd" (SGDClassifier, log loss)
  C          inverse L2 strength of logistic_regression (default 1.0)
  max_iter   iterations of logistic_regression / epochs of sgd (default 200 / 5)
  alpha      L2 strength of sgd (default 1e-4)

Warm start: this example always trains from scratch and its model.json declares
supportsWarmStart: false, so Retrain never asks it to fine-tune. Asked anyway, it
fails (exit code 2) rather than silently training from scratch.

RETRAIN_SAVE_PICKLE=1 also writes the fitted pipeline to <output.dir>/model.pkl
(used by the parity test that compares onnxruntime with predict_proba).
"""
import json
import os
import pickle
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import sklearn
import skl2onnx
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

CONTRACT_VERSION = 1
# ai.onnx 17 / ai.onnx.ml 3: what the built-in trainer exports and every onnxruntime Retrain supports loads.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


def log(message):
    # stderr: Retrain shows the last line in the activity's heartbeat.
    print(f"[train.py] {message}", file=sys.stderr, flush=True)


def load_contract(path):
    with open(path, encoding="utf-8") as f:
        contract = json.load(f)
    version = contract.get("contractVersion")
    if version != CONTRACT_VERSION:
        raise SystemExit(f"train.py speaks contract version {CONTRACT_VERSION}, got {version!r}")
    return contract


def feature_matrix(table, features):
    """An object array with one column per feature, as the pipeline and ONNX model see them.

    Numeric: float, missing (null) as NaN. Categorical: str, missing as "" (what Retrain
    feeds the ONNX model for a missing categorical value).
    """
    X = np.empty((table.num_rows, len(features)), dtype=object)
    for j, feature in enumerate(features):
        values = table.column(feature["name"]).to_pylist()
        if feature["kind"] == "numeric":
            X[:, j] = [np.nan if v is None else float(v) for v in values]
        else:
            X[:, j] = ["" if v is None else str(v) for v in values]
    return X


def top_categories(column, limit):
    """The `limit` most frequent values (ties by value), sorted; the rest encode as all zeros."""
    values, counts = np.unique(column.astype(str), return_counts=True)
    order = sorted(range(len(values)), key=lambda i: (-counts[i], values[i]))[:limit]
    return sorted(values[i] for i in order)


def build_pipeline(features, X, hyperparameters, seed):
    numeric = [j for j, f in enumerate(features) if f["kind"] == "numeric"]
    categorical = [j for j, f in enumerate(features) if f["kind"] == "categorical"]
    transformers = []
    if numeric:
        transformers.append(("numeric", Pipeline([("impute", SimpleImputer(strategy="mean")), ("scale", StandardScaler())]), numeric))
    for j in categorical:
        # maxCategories as in the built-in trainer: rare values share one bucket (here: all-zero).
        categories = top_categories(X[:, j], features[j].get("maxCategories", 200))
        transformers.append((f"onehot_{features[j]['name']}", OneHotEncoder(categories=[categories], handle_unknown="ignore"), [j]))

    algorithm = hyperparameters.get("algorithm", "logistic_regression")
    if algorithm == "logistic_regression":
        classifier = LogisticRegression(C=float(hyperparameters.get("C", 1.0)), max_iter=int(hyperparameters.get("max_iter", 200)), random_state=seed)
    elif algorithm == "sgd":
        classifier = SGDClassifier(
            loss="log_loss",
            alpha=float(hyperparameters.get("alpha", 1e-4)),
            max_iter=int(hyperparameters.get("max_iter", 5)),
            tol=None,
            random_state=seed,
        )
    else:
        raise SystemExit(f"unknown algorithm {algorithm!r}; known: logistic_regression, sgd")
    return Pipeline([("features", ColumnTransformer(transformers)), ("classifier", classifier)]), algorithm


def to_onnx(pipeline, features):
    """One [N, 1] input per feature, named as the feature; ZipMap off so probabilities are a [N, 2] tensor."""
    initial_types = [(f["name"], FloatTensorType([None, 1]) if f["kind"] == "numeric" else StringTensorType([None, 1])) for f in features]
    return convert_sklearn(pipeline, initial_types=initial_types, options={id(pipeline): {"zipmap": False}}, target_opset=TARGET_OPSET)


def write_atomically(path, data):
    partial = f"{path}.partial"
    with open(partial, "wb") as f:
        f.write(data)
    os.replace(partial, path)


def main():
    contract = load_contract(os.environ["RETRAIN_CONTRACT"])
    if contract["mode"] != "from_scratch":
        log(f"mode {contract['mode']!r} is not supported: this trainer declares supportsWarmStart false")
        return 2
    started = time.perf_counter()
    features = contract["features"]
    table = pq.read_table(contract["trainingData"])
    X = feature_matrix(table, features)
    y = np.asarray(table.column(contract["label"]).to_pylist(), dtype=np.int64)
    log(f"loaded {len(y)} rows, {len(features)} features, positive rate {y.mean():.4f}")

    pipeline, algorithm = build_pipeline(features, X, contract["hyperparameters"], contract["seed"])
    log(f"fitting {algorithm}")
    pipeline.fit(X, y)
    auc = float(roc_auc_score(y, pipeline.predict_proba(X)[:, 1]))
    log(f"fitted; training AUC {auc:.4f}; converting to ONNX")

    output = contract["output"]
    write_atomically(output["model"], to_onnx(pipeline, features).SerializeToString())
    if os.environ.get("RETRAIN_SAVE_PICKLE") == "1":
        write_atomically(os.path.join(output["dir"], "model.pkl"), pickle.dumps(pipeline))
    metrics = {
        "trainingRows": int(len(y)),
        "trainingAuc": auc,
        "trainingSeconds": round(time.perf_counter() - started, 3),
        "algorithm": algorithm,
        "sklearnVersion": sklearn.__version__,
        "skl2onnxVersion": skl2onnx.__version__,
    }
    write_atomically(output["metrics"], json.dumps(metrics, indent=2).encode("utf-8"))
    log(f"wrote {output['model']} and {output['metrics']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
