"""The server a user would otherwise write, for bench:gateway: FastAPI on uvicorn (one worker)
with pydantic validation and onnxruntime, serving the bench's ONNX model on the gateway's body,
`{"instance": {...}}` or `{"instances": [...]}`, answering `{"predictions": [{"probability", "label"}]}`.

    python fastapi-server.py <model.onnx> <features.json> <port, 0 for a free one> <async|def>

`async def` runs the model on the event loop; `def` runs it in Starlette's thread pool, as
FastAPI does for plain functions. The session uses the gateway's options (one intra-op and one
inter-op thread, sequential execution, all graph optimisations). The socket is bound and
listening before uvicorn starts (connections wait in its backlog), and `listening <url>` is
printed once the application has started. The Authorization header the bench sends is ignored, as by the bare server.
"""

import json
import math
import socket
import sys
from contextlib import asynccontextmanager
from typing import Optional

import numpy as np
import onnxruntime as ort
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, create_model


def main() -> None:
    model_file, features_file, port, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    with open(features_file, encoding="utf-8") as f:
        features = json.load(f)  # [{"name": ..., "kind": "numeric" | "categorical"}]

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model_file, options, providers=["CPUExecutionProvider"])
    inputs = [(i.name, i.type) for i in session.get_inputs()]

    # One field per feature, typed as the gateway validates it: numbers (or null) and strings (or null).
    Instance = create_model(
        "Instance",
        __config__=ConfigDict(extra="forbid"),
        **{
            f["name"]: ((Optional[float], ...) if f["kind"] == "numeric" else (Optional[str], ...))
            for f in features
        },
    )

    class PredictRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        instance: Optional[Instance] = None  # type: ignore[valid-type]
        instances: Optional[list[Instance]] = None  # type: ignore[valid-type]
        requestId: Optional[str] = None
        routingKey: Optional[str] = None

    def predict(body: PredictRequest) -> dict:
        rows = body.instances if body.instances is not None else [body.instance]
        feeds = {}
        for name, kind in inputs:
            values = [getattr(row, name) for row in rows]
            if kind == "tensor(string)":
                feeds[name] = np.array([[v if v is not None else ""] for v in values], dtype=object)
            else:
                feeds[name] = np.array([[v if v is not None else math.nan] for v in values], dtype=np.float32)
        probabilities = session.run(["probabilities"], feeds)[0][:, 1]
        return {"predictions": [{"probability": float(p), "label": int(p >= 0.5)} for p in probabilities]}

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    url = "http://127.0.0.1:%d" % sock.getsockname()[1]

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        print(f"listening {url}", flush=True)
        yield

    app = FastAPI(lifespan=lifespan)
    if mode == "async":

        @app.post("/predict")
        async def predict_async(body: PredictRequest) -> dict:
            return predict(body)

    elif mode == "def":

        @app.post("/predict")
        def predict_sync(body: PredictRequest) -> dict:
            return predict(body)

    else:
        raise SystemExit(f"mode must be async or def, got {mode!r}")

    config = uvicorn.Config(app, workers=1, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
