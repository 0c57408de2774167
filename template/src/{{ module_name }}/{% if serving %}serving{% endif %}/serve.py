"""Serve the model over HTTP: `POST /predict` scores records, `GET /health` says what is loaded.

The model, its version and params are loaded once at startup, so a bad model file stops the
service before it listens. Every response carries the model version (`model_version`), so any
prediction can be traced to the model file and commit that made it. Requests that arrive while
the model is busy are scored together in one model call (`MicroBatcher`), since a call costs about
the same for one row as for a hundred; a lone request is scored at once.
    python -m <package>.serving.serve [--host 127.0.0.1] [--port 8000] [--max-batch-rows 2000]
"""

# No `from __future__ import annotations` here: FastAPI reads the endpoint annotations at runtime,
# and the request model is built from params.yaml inside create_app().

import argparse
import asyncio
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model

from .._internal.errors import PipelineError, run_stage
from .._internal.paths import LINEAGE_PATH, MODEL_PATH
from .._internal.scoring import probability_columns
from ..params import PARAMS_PATH, DataParams
from ..predict import Predictor
from ..schema import RAW_SCHEMA, allowed_categories

log = logging.getLogger(__name__)
# A bound on one request's work, so one client cannot hold a worker for long.
MAX_RECORDS = 1000
# A bound on one model call: requests waiting together are scored in batches of at most this many rows.
MAX_BATCH_ROWS = 2000
# Bounds on hostile or careless input, all checked before a record reaches a batch (README "Serving").
MAX_BODY_BYTES = 4_000_000  # a larger body is refused with 413 before it is read in full or parsed
MAX_TEXT_LENGTH = 256  # characters in a text field (or the longest category, if longer): else 422
MAX_ABS_NUMBER = 1e30  # float32 models overflow past 3.4e38; no real feature comes near this
MAX_CONNECTIONS = 256  # uvicorn answers 503 beyond this many connections and tasks at once


# The service scores with the same object as `python -m <package>.predict`: loaded once at startup.
ModelService = Predictor
load_service = Predictor.load


def score_batch(service: ModelService, frame: pd.DataFrame) -> pd.DataFrame:
    """Score records and log them: the one place every served prediction goes through."""
    return service(frame)


def record_model(data_params: DataParams) -> type[BaseModel]:
    """The request record, built from the feature columns in params.yaml.

    Every feature is required (a missing one is a 422 naming it) but may be null: nulls, unknown
    categories and out-of-range values are scored with a warning, as in `predict`. Numbers must be
    finite and within +-MAX_ABS_NUMBER (JSON's `Infinity`/`NaN` or 1e308 would fail inside the model);
    text is valid UTF-8 of at most MAX_TEXT_LENGTH characters (or the longest category).
    """
    fields: dict[str, Any] = {}
    number = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_ABS_NUMBER, le=MAX_ABS_NUMBER)]
    for name in data_params.features:
        if name in data_params.numeric_features:
            kind: Any = number
        else:
            longest = max(map(len, allowed_categories(name) or ()), default=0) if name in RAW_SCHEMA.columns else 0
            kind = Annotated[str, StringConstraints(max_length=max(MAX_TEXT_LENGTH, longest)), AfterValidator(utf8)]
        description = RAW_SCHEMA.columns[name].description if name in RAW_SCHEMA.columns else None
        fields[name] = (kind | None, Field(description=description))
    return create_model("Record", __config__=ConfigDict(extra="ignore"), **fields)


def utf8(text: str) -> str:
    """Text that UTF-8 can carry: a lone surrogate ("\\ud800" in JSON) could be neither scored nor logged."""
    text.encode("utf-8")  # UnicodeEncodeError is a ValueError: pydantic makes it a 422 naming the field
    return text


class BodyLimit:
    """ASGI middleware: a body over `limit` bytes gets 413 before it is read in full or parsed."""

    class TooLargeError(Exception):
        pass

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self.refuse(send)
            return
        received = 0

        async def counted() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyLimit.TooLargeError
            return message

        try:
            await self.app(scope, counted, send)
        except BodyLimit.TooLargeError:
            await self.refuse(send)

    async def refuse(self, send: Callable) -> None:
        body = json.dumps({"error": f"request body over {self.limit} bytes: send fewer records per request"})
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body.encode()})


class Prediction(BaseModel):
    prediction: str | float
    probabilities: dict[str, float] | None = Field(
        default=None, description="Class probabilities (classification only); they sum to 1"
    )
    warnings: list[str] = Field(description="What is unusual about the record's features, if anything")


class PredictResponse(BaseModel):
    model_version: dict[str, Any]
    predictions: list[Prediction]


class HealthResponse(BaseModel):
    status: str
    model_version: dict[str, Any]
    task: str
    features: list[str]


def records_frame(records: list[BaseModel], data_params: DataParams) -> pd.DataFrame:
    """Records as a frame with float numeric columns (an all-null column would otherwise be `object`).

    Every null becomes NaN: pandas keeps None in a column that is null in every row, and the imputer
    sees only NaN as missing, so a null category would score differently alone than in a batch.
    """
    frame = pd.DataFrame([record.model_dump() for record in records], columns=list(data_params.features))
    frame = frame.astype(dict.fromkeys(data_params.numeric_features, "float64"))
    return frame.where(frame.notna(), np.nan)


def prediction_rows(scored: pd.DataFrame) -> list[dict[str, Any]]:
    """Each row as a `Prediction`'s JSON fields, in plain values (`float()` for non-string labels, as pydantic does)."""
    proba_columns, class_names = probability_columns(scored)
    return [
        {
            "prediction": prediction if isinstance(prediction, str) else float(prediction),
            "probabilities": dict(zip(class_names, probabilities, strict=True)) if class_names else None,
            "warnings": [note for note in warnings.split("; ") if note],
        }
        for prediction, warnings, probabilities in zip(
            scored["prediction"].tolist(),
            scored["warnings"].tolist(),
            scored[proba_columns].to_numpy().tolist(),
            strict=True,
        )
    ]


def response_body(version: dict[str, Any], predictions: list[dict[str, Any]]) -> bytes:
    """A `PredictResponse` as JSON bytes, made on the scoring thread; sent as a `Response`, FastAPI passes it
    through instead of validating the model again and encoding it on the event loop."""
    try:
        content = {"model_version": version, "predictions": predictions}
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except ValueError:  # NaN or infinity, which JSON lacks: pydantic writes them as null
        return PredictResponse(model_version=version, predictions=predictions).model_dump_json().encode("utf-8")


def score_requests(service: ModelService, requests: list[list[BaseModel]]) -> list[bytes]:
    """Score several requests' records in one model call (and one log append); one response body each."""
    frame = records_frame([record for records in requests for record in records], service.params.data)
    predictions = prediction_rows(score_batch(service, frame))
    version = service.version.as_dict()
    bodies, start = [], 0
    for records in requests:
        bodies.append(response_body(version, predictions[start : start + len(records)]))
        start += len(records)
    return bodies


class MicroBatcher:
    """Scores the requests that are waiting together in one call of `score_many`, on one thread.

    A model call costs nearly the same for 1 row as for 100, and threads scoring side by side only
    fight over the GIL; so requests queue while a batch is scored, then all go in the next call.
    A lone request starts at once: nothing waits for a batch to fill. `score_many(requests)`
    returns one result per request; if it raises on a batch, each request of it is scored alone,
    so a request that cannot be scored fails by itself and its neighbours still get answers.
    """

    def __init__(self, score_many: Callable[[list[Any]], list[Any]], max_rows: int = MAX_BATCH_ROWS) -> None:
        if max_rows < 1:
            raise ValueError(f"max_rows must be at least 1, got {max_rows}")
        self.score_many = score_many
        self.max_rows = max_rows
        self._pending: list[tuple[Any, int, asyncio.Future[Any]]] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="score")
        self._flusher: asyncio.Future[None] | None = None

    async def submit(self, request: Any, rows: int) -> Any:
        """The result for `request` (of `rows` rows), scored with whatever else is waiting."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((request, rows, future))
        if self._flusher is None or self._flusher.done():
            # A task of its own, not this coroutine: a client that disconnects cannot strand the others.
            self._flusher = asyncio.ensure_future(self._flush())
        return await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch = self._take()
            if not batch:  # every waiting client went away
                break
            try:
                outcomes = await loop.run_in_executor(self._executor, self._score, [item[0] for item in batch])
            except BaseException:  # cancelled (the server stops): nothing will answer these requests
                for *_, future in [*batch, *self._pending]:
                    future.cancel()
                raise
            for (_, _, future), (result, error) in zip(batch, outcomes, strict=True):
                if future.done():  # the client went away
                    continue
                if error is None:
                    future.set_result(result)
                else:
                    future.set_exception(error)

    def _take(self) -> list[tuple[Any, int, asyncio.Future[Any]]]:
        """Whole waiting requests, oldest first, up to `max_rows` rows (at least one request)."""
        self._pending = [item for item in self._pending if not item[2].done()]  # drop clients gone already
        count, rows = 0, 0
        while count < len(self._pending) and (count == 0 or rows + self._pending[count][1] <= self.max_rows):
            rows += self._pending[count][1]
            count += 1
        batch, self._pending = self._pending[:count], self._pending[count:]
        return batch

    def _score(self, requests: list[Any]) -> list[tuple[Any, Exception | None]]:
        """On the scoring thread: (result, None) or (None, error) per request."""
        try:
            results = self.score_many(requests)
            if len(results) != len(requests):
                raise RuntimeError(f"{len(requests)} requests scored, but {len(results)} results returned")
            return [(result, None) for result in results]
        except Exception as error:
            if len(requests) == 1:
                return [(None, error)]
            log.warning("scoring %d requests together failed (%s); scoring each alone", len(requests), error)
        outcomes: list[tuple[Any, Exception | None]] = []
        for request in requests:
            try:
                outcomes.append((self.score_many([request])[0], None))
            except Exception as error:
                outcomes.append((None, error))
        return outcomes


def describe_problem(item: dict[str, Any]) -> str:
    """One request-validation error as a short phrase that names the record and field."""
    location = list(item["loc"][1:])  # drop "body"
    if item["type"] == "json_invalid":
        return f"the body is not valid JSON (error at character {location[0] if location else '?'})"
    if item["type"] == "missing" and len(location) == 3 and location[0] == "records":
        return f"records[{location[1]}]: missing feature '{location[2]}'"
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location).lstrip(".")
    return f"{where or 'body'}: {item['msg']}"


def create_app(service: ModelService, max_batch_rows: int = MAX_BATCH_ROWS) -> FastAPI:
    """The FastAPI app around a loaded model; concurrent requests share model calls of up to `max_batch_rows` rows."""
    version = service.version.as_dict()
    data_params = service.params.data
    record = record_model(data_params)
    predict_request = create_model(
        "PredictRequest",
        records=(list[record], Field(min_length=1, max_length=MAX_RECORDS, description="Raw feature records")),
    )
    app = FastAPI(title="Model service", version=service.version.label)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    batcher = MicroBatcher(partial(score_requests, service), max_rows=max_batch_rows)

    @app.exception_handler(RequestValidationError)
    def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        """422 with a one-line `error` naming what is wrong, e.g. `records[0]: missing feature 'island'`."""
        problems = [describe_problem(item) for item in error.errors()]
        summary = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        detail = [{key: item[key] for key in ("loc", "msg", "type")} for item in error.errors()]
        return JSONResponse(status_code=422, content={"error": summary, "detail": detail, "model_version": version})

    @app.exception_handler(PipelineError)
    def unusable_input(request: Request, error: PipelineError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"error": str(error), "model_version": version})

    @app.get("/health")
    def health() -> HealthResponse:
        return HealthResponse(
            status="ok", model_version=version, task=service.params.task, features=list(data_params.features)
        )

    # `async`: the endpoint only waits for the batcher, whose thread scores off the event loop. The
    # body comes back as JSON bytes, sent as is (`response_model` still documents its shape).
    @app.post("/predict", response_model=PredictResponse)
    async def predict_records(body: predict_request) -> Response:  # type: ignore[valid-type]
        content = await batcher.submit(body.records, len(body.records))
        return Response(content, media_type="application/json")

    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 in a container)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", type=Path, default=MODEL_PATH)
    parser.add_argument("--lineage", type=Path, default=LINEAGE_PATH)
    parser.add_argument("--params", type=Path, default=PARAMS_PATH)
    parser.add_argument("--no-access-log", action="store_true", help="skip the per-request log line (benchmarks)")
    parser.add_argument("--prediction-log", type=Path, help="log predictions here (default: params.yaml's monitor)")
    parser.add_argument("--no-prediction-log", action="store_true", help="do not log predictions")
    parser.add_argument(
        "--max-batch-rows", type=int, default=MAX_BATCH_ROWS, help="most rows per model call (1: one request per call)"
    )
    args = parser.parse_args(argv)
    if args.max_batch_rows < 1:
        parser.error(f"--max-batch-rows must be at least 1, got {args.max_batch_rows}")
    service = load_service(
        args.model, args.lineage, args.params, args.prediction_log, log_predictions=not args.no_prediction_log
    )
    log.info("serving model %s on http://%s:%d", service.version.label, args.host, args.port)
    if service.prediction_log is not None:
        log.info("logging predictions to %s", service.prediction_log.path)
    app = create_app(service, max_batch_rows=args.max_batch_rows)
    # Bounded connections and idle keep-alives; on the internet, put a reverse proxy in front (README).
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        access_log=not args.no_access_log,
        limit_concurrency=MAX_CONNECTIONS,
        timeout_keep_alive=5,
    )


if __name__ == "__main__":
    run_stage(main)
