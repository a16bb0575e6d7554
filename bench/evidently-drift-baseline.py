"""bench:drift's peer: Evidently's data drift preset on the same reference and current rows.

Input (argv[1], JSON): {"reference": parquet, "current": parquet, "numeric": [...],
"categorical": [...], "repeats": n}. The Parquet files are read into pandas before the clock
starts (the monitor's side is timed from in-memory tables too); after one untimed run, each run is
Dataset.from_pandas for both frames plus Report([DataDriftPreset()]).run. Prints JSON on stdout:
versions, the seconds of each run, and each column's method, threshold, score and verdict.
"""

import json
import sys
import time

import evidently
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def main() -> None:
    args = json.loads(sys.argv[1])
    reference = pd.read_parquet(args["reference"])
    current = pd.read_parquet(args["current"])
    definition = DataDefinition(numerical_columns=args["numeric"], categorical_columns=args["categorical"])
    seconds = []
    snapshot = None
    # One untimed run first, as on the monitor's side (imports and caches warm).
    for run in range(args["repeats"] + 1):
        started = time.perf_counter()
        report = Report([DataDriftPreset()])
        snapshot = report.run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )
        if run > 0:
            seconds.append(time.perf_counter() - started)
    columns = []
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config.get("type") != "evidently:metric_v2:ValueDrift":
            continue
        score = float(metric["value"])
        threshold = float(config["threshold"])
        # Evidently's distances drift at score >= threshold (its stattests' `score >= threshold`).
        columns.append({"column": config["column"], "method": config["method"], "threshold": threshold, "score": score, "drifted": score >= threshold})
    json.dump(
        {
            "python": sys.version.split()[0],
            "evidently": evidently.__version__,
            "pandas": pd.__version__,
            "rows": {"reference": len(reference), "current": len(current)},
            "seconds": seconds,
            "columns": columns,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
