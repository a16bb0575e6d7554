"""scikit-learn baseline for bench:train (bench/train.ts), which passes one JSON argument:

    {"train": parquet, "holdout": parquet, "features": [FeatureSpec...], "epochs": n, "l2": x, "seed": s}

The Parquet files hold one column per feature (numeric DOUBLE, categorical VARCHAR, NULL =
missing) and `label` (0/1). Each model is fitted on the training file and scored (ROC AUC) on
the holdout file. A fit is timed from the loaded arrays to the fitted model, preprocessing
included: mean imputation and standardization of numeric features, one-hot encoding of
categorical ones keeping the `maxCategories` most frequent values plus one bucket for the rest
(the built-in trainer's vocabulary). Prints one JSON object on stdout.
"""

import json
import platform
import sys
import time
import warnings

import numpy as np
import pyarrow.parquet as pq
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_info


def load(path, features):
    """Numeric features as a float64 matrix (NaN = missing), categorical ones as object columns ("" = missing), labels."""
    table = pq.read_table(path)
    numeric = [f["name"] for f in features if f["kind"] == "numeric"]
    categorical = [f["name"] for f in features if f["kind"] == "categorical"]
    x_numeric = np.column_stack([table[name].to_numpy(zero_copy_only=False).astype(np.float64) for name in numeric]) if numeric else None
    x_categorical = [np.array(["" if v is None else v for v in table[name].to_pylist()], dtype=object).reshape(-1, 1) for name in categorical]
    return x_numeric, x_categorical, table["label"].to_numpy(zero_copy_only=False).astype(np.int64)


class Preprocessing:
    """Imputer + scaler for numeric features, one encoder per categorical feature (each has its own maxCategories)."""

    def __init__(self, features):
        self.numeric = [SimpleImputer(strategy="mean"), StandardScaler()] if any(f["kind"] == "numeric" for f in features) else None
        # max_categories counts the bucket of infrequent values, hence + 1.
        self.encoders = [
            OneHotEncoder(max_categories=f["maxCategories"] + 1, handle_unknown="infrequent_if_exist", sparse_output=True)
            for f in features
            if f["kind"] == "categorical"
        ]

    def fit_transform(self, x_numeric, x_categorical):
        parts = []
        if self.numeric:
            imputer, scaler = self.numeric
            parts.append(sp.csr_matrix(scaler.fit_transform(imputer.fit_transform(x_numeric))))
        parts += [encoder.fit_transform(column) for encoder, column in zip(self.encoders, x_categorical)]
        return sp.hstack(parts, format="csr")

    def transform(self, x_numeric, x_categorical):
        parts = []
        if self.numeric:
            imputer, scaler = self.numeric
            parts.append(sp.csr_matrix(scaler.transform(imputer.transform(x_numeric))))
        parts += [encoder.transform(column) for encoder, column in zip(self.encoders, x_categorical)]
        return sp.hstack(parts, format="csr")


def main():
    spec = json.loads(sys.argv[1])
    features = spec["features"]
    train_numeric, train_categorical, train_y = load(spec["train"], features)
    holdout_numeric, holdout_categorical, holdout_y = load(spec["holdout"], features)
    rows = len(train_y)

    contenders = [
        (
            "sklearn SGDClassifier(log_loss)",
            # Same objective as the built-in trainer: mean log loss + (alpha / 2)·‖w‖², alpha = l2.
            lambda: SGDClassifier(loss="log_loss", penalty="l2", alpha=spec["l2"], max_iter=spec["epochs"], tol=None, random_state=spec["seed"]),
        ),
        (
            "sklearn LogisticRegression(lbfgs)",
            # C·Σ loss + ½‖w‖² is the same objective when C = 1 / (rows · l2).
            lambda: LogisticRegression(solver="lbfgs", C=1.0 / (rows * spec["l2"]), max_iter=1000),
        ),
    ]
    models = []
    for name, make in contenders:
        started = time.perf_counter()
        preprocessing = Preprocessing(features)
        x = preprocessing.fit_transform(train_numeric, train_categorical)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator = make().fit(x, train_y)
        fit_seconds = time.perf_counter() - started
        scores = estimator.predict_proba(preprocessing.transform(holdout_numeric, holdout_categorical))[:, 1]
        iterations = int(np.max(estimator.n_iter_))
        models.append({"name": name, "fitSeconds": fit_seconds, "auc": float(roc_auc_score(holdout_y, scores)), "iterations": iterations})

    pools = [{k: p.get(k) for k in ("internal_api", "architecture", "num_threads") if p.get(k) is not None} for p in threadpool_info()]
    json.dump({"python": platform.python_version(), "sklearn": sklearn.__version__, "threadpools": pools, "models": models}, sys.stdout)


if __name__ == "__main__":
    main()
