"""Load test of the model service over HTTP on 127.0.0.1: a benchmark report, not a test.

Two parts, both against a real `python -m <package>.serving.serve` started here (or `--url` of one running):
1. Closed loop: `--users` virtual users (300), each sending one record, then thinking for an
   exponentially distributed time with mean `--think` seconds (1 s), for `--duration` seconds.
2. Open loop: Poisson arrivals at fixed rates, doubling until p99 exceeds the target (500 ms), then
   bisecting; latency counts from each request's scheduled time, so a slow server cannot hide its
   queue by delaying the requests (no coordinated omission).
The server is pinned to one core with `taskset` and this client to another, so they do not compete.
    python -m <package>.serving.load_generator [--smoke] [--report SERVING.md] [--json summary.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import random
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._internal.errors import PipelineError, run_stage
from .._internal.files import atomic_path
from .._internal.paths import LINEAGE_PATH, MODEL_PATH
from ..params import PARAMS_PATH, load_params

TARGET_P99_MS = 500.0
# A client busier than this (per cent of its one core, one event loop) is queueing its own requests:
# it, not the server, limits the pace.
CLIENT_BOUND_PCT = 80
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Phase:
    """What one phase of load measured; latencies in milliseconds."""

    name: str
    offered: str
    seconds: float
    requests: int
    errors: int
    achieved_rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    # Per cent of one core used while the phase ran: near 100 for the client means the load
    # generator, not the service, set the pace.
    client_cpu_pct: float | None = None
    server_cpu_pct: float | None = None

    @property
    def meets_target(self) -> bool:
        return self.errors == 0 and self.p99_ms is not None and self.p99_ms <= TARGET_P99_MS


def summarize(name: str, offered: str, seconds: float, latencies_ms: list[float], errors: int) -> Phase:
    import numpy as np

    done = len(latencies_ms)
    p50, p95, p99, top = (
        (round(float(v), 1) for v in np.percentile(latencies_ms, [50, 95, 99, 100])) if done else (None,) * 4
    )
    return Phase(name, offered, round(seconds, 1), done + errors, errors, round(done / seconds, 1), p50, p95, p99, top)


def cpu_seconds(pid: int | None = None) -> float | None:
    """User + system CPU seconds of process `pid` (this process when None); None if it cannot be read."""
    if pid is None:
        return time.process_time()
    try:
        # Fields after the command name: state is field 3, utime 14 and stime 15 (proc(5)).
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def cpu_share(server_pid: int | None) -> Iterator[dict[str, float | None]]:
    """Fill the yielded dict with the client's and the server's CPU use (per cent of one core) over the block."""
    shares: dict[str, float | None] = {}
    started, client, server = time.perf_counter(), cpu_seconds(), cpu_seconds(server_pid) if server_pid else None
    yield shares
    seconds = time.perf_counter() - started
    client_after = cpu_seconds()
    server_after = cpu_seconds(server_pid) if server_pid else None
    shares["client_cpu_pct"] = round(100 * (client_after - client) / seconds) if client_after is not None else None
    if server is not None and server_after is not None:
        shares["server_cpu_pct"] = round(100 * (server_after - server) / seconds)


def free_port() -> int:
    """A port nothing listens on now (the server binds it right after)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_server(
    model: Path = MODEL_PATH,
    lineage: Path = LINEAGE_PATH,
    params: Path = PARAMS_PATH,
    cpu: int | None = None,
    log_path: Path | None = None,
    startup_timeout: float = 120.0,
    extra_args: tuple[str, ...] = (),
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start `python -m <package>.serving.serve` on a free port (pinned to `cpu` with taskset); yield its URL.

    Waits until /health answers; if the server exits first, its own error is raised.
    """
    import httpx

    port = free_port()
    command = [sys.executable, "-m", f"{__package__}.serve", "--port", str(port), "--no-access-log"]
    command += ["--model", str(model), "--lineage", str(lineage), "--params", str(params), *extra_args]
    if cpu is not None:
        command = ["taskset", "--cpu-list", str(cpu), *command]
    with contextlib.ExitStack() as stack:
        if log_path is None:
            log_path = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "server.log"
        log_file = stack.enter_context(log_path.open("wb"))
        server = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                if server.poll() is not None:
                    lines = log_path.read_text(errors="replace").strip().splitlines() or ["(no output)"]
                    raise PipelineError(f"the server exited with code {server.returncode}: {lines[-1]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise PipelineError(f"the server did not answer {url}/health within {startup_timeout:.0f} s")
                time.sleep(0.2)
            yield url, server
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def sample_records(params_path: Path, count: int, seed: int) -> list[dict[str, Any]]:
    """Request bodies of one real record each, drawn from the raw data (nulls and all)."""
    import pandas as pd

    data = load_params(params_path).data
    frame = pd.read_csv(data.raw_path)[list(data.features)].sample(n=count, replace=True, random_state=seed)
    frame = frame.astype(object).where(frame.notna(), None)
    return [{"records": [record]} for record in frame.to_dict(orient="records")]


async def send(client: Any, url: str, body: dict[str, Any]) -> bool:
    try:
        response = await client.post(f"{url}/predict", json=body)
    except Exception:  # a timeout or a refused or reset connection: counted as an error
        return False
    return response.status_code == 200


def sequential(url: str, bodies: list[dict[str, Any]], count: int) -> Phase:
    """One request at a time: the service time of one record plus the loopback round trip."""
    import httpx

    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
        for body in bodies[:count]:
            sent = time.perf_counter()
            try:
                ok = client.post(f"{url}/predict", json=body).status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - sent) * 1000)
            else:
                errors += 1
    return summarize("sequential", f"{count} requests, one at a time", time.perf_counter() - started, latencies, errors)


async def closed_loop(url: str, bodies: list[dict[str, Any]], users: int, think: float, duration: float) -> Phase:
    """`users` users, each: request, wait for the answer, think ~Exp(mean `think`), repeat."""
    import httpx

    latencies: list[float] = []
    errors = 0
    rng = random.Random(1)
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_S) as client:
        started = time.perf_counter()
        end = started + duration

        async def user() -> None:
            nonlocal errors
            # Users arrive spread over one think time, not all in the same millisecond.
            await asyncio.sleep(rng.uniform(0, think))
            while time.perf_counter() < end:
                sent = time.perf_counter()
                if await send(client, url, rng.choice(bodies)):
                    latencies.append((time.perf_counter() - sent) * 1000)
                else:
                    errors += 1
                await asyncio.sleep(rng.expovariate(1 / think))

        await asyncio.gather(*(user() for _ in range(users)))
        seconds = time.perf_counter() - started
    offered = f"{users} users, think Exp(mean {think:g} s)"
    return summarize("closed loop", offered, seconds, latencies, errors)


async def open_loop(url: str, bodies: list[dict[str, Any]], rate: float, duration: float) -> Phase:
    """Poisson arrivals at `rate` per second for `duration`; latency from each scheduled send time."""
    import httpx

    latencies: list[float] = []
    errors = 0
    rng = random.Random(int(rate * 1000))

    async def one(scheduled: float, body: dict[str, Any]) -> None:
        nonlocal errors
        if await send(client, url, body):
            latencies.append((time.perf_counter() - scheduled) * 1000)
        else:
            errors += 1

    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
    async with httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_S) as client:
        started = time.perf_counter()
        scheduled, tasks = started, []
        while True:
            scheduled += rng.expovariate(rate)
            if scheduled >= started + duration:
                break
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            tasks.append(asyncio.create_task(one(scheduled, rng.choice(bodies))))
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - started
    return summarize(f"open loop {rate:g}/s", f"{rate:g} req/s (Poisson)", seconds, latencies, errors)


async def rate_search(
    url: str,
    bodies: list[dict[str, Any]],
    start: float,
    step_seconds: float,
    min_requests: int,
    max_steps: int,
    server_pid: int | None = None,
) -> tuple[list[Phase], float | None]:
    """Double the rate until p99 misses the target, then bisect; return every step and the best passing rate.

    Each step lasts `step_seconds`, or longer (up to 4x) to send `min_requests`: a p99 of a few
    dozen requests is just their maximum.
    """
    steps: list[Phase] = []
    good, bad = None, None
    rate = start
    while len(steps) < max_steps:
        seconds = min(max(step_seconds, min_requests / rate), 4 * step_seconds)
        with cpu_share(server_pid) as shares:
            phase = await open_loop(url, bodies, rate, seconds)
        phase = replace(phase, **shares)
        steps.append(phase)
        if phase.meets_target:
            good = rate
        else:
            bad = rate
        if bad is None:
            rate *= 2
        elif good is None:
            rate /= 2
        elif bad / good > 1.1:
            rate = round((good + bad) / 2, 1)
        else:
            break
        await asyncio.sleep(1.0)  # let the server drain between steps
    return steps, good


def proc_field(path: str, key: str) -> str | None:
    """The value of the first `key: value` line of a /proc file (Linux), or None."""
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    return None


def machine_facts() -> dict[str, str]:
    memory = proc_field("/proc/meminfo", "MemTotal")
    return {
        "cpu": proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores": str(os.cpu_count()),
        "memory": f"{int(memory.split()[0]) / 1024**2:.1f} GiB" if memory else "unknown",
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def uptime() -> str:
    done = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def markdown_report(summary: dict[str, Any]) -> str:
    baseline = Phase(**summary["sequential"])
    closed = Phase(**summary["closed_loop"])
    steps = [Phase(**step) for step in summary["rate_steps"]]
    best = summary["highest_rate_meeting_target"]
    machine = summary["machine"]

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:g}"

    def cpu(phase: Phase) -> str:
        return f"{ms(phase.client_cpu_pct)} | {ms(phase.server_cpu_pct)}"

    client_bound = closed.client_cpu_pct is not None and closed.client_cpu_pct >= CLIENT_BOUND_PCT

    lines = [
        "# Serving load test",
        "",
        f"Generated by `{summary['command']}` on {summary['date']}; do not edit by hand.",
        "",
        f"- Model: `{summary['model_version']}` ({summary['model']}, task {summary['task']}), one record per request",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']}, {machine['system']}, "
        f"Python {machine['python']}",
        f"- Pinning: server on CPUs {summary['server_cpus']}, client on CPUs {summary['client_cpus']} "
        "(read back from the kernel)",
        f"- Load before: `{summary['uptime_before']}`",
        f"- Load after: `{summary['uptime_after']}`",
        "- The machine is shared: other processes ran during the test (see the load averages), so the numbers "
        "are a floor on what this hardware can do, not a ceiling.",
        "",
        "## One request at a time",
        "",
        f"{baseline.requests} requests, {baseline.errors} errors: p50 {ms(baseline.p50_ms)} ms, "
        f"p95 {ms(baseline.p95_ms)} ms, p99 {ms(baseline.p99_ms)} ms. "
        + (
            f"At the p50, one worker serves at most about {1000 / baseline.p50_ms:.0f} req/s; "
            f"the closed loop below offers up to about {summary['offered_rps']:.0f} req/s."
            if baseline.p50_ms
            else ""
        ),
        "",
        "## Closed loop",
        "",
        f"Workload: {closed.offered}, {closed.seconds:g} s, one uvicorn worker, target p99 <= {TARGET_P99_MS:g} ms.",
        "",
        "| requests | errors | achieved req/s | p50 ms | p95 ms | p99 ms | max ms | p99 <= target "
        "| client CPU % | server CPU % |",
        "|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|",
        f"| {closed.requests} | {closed.errors} | {closed.achieved_rps:g} | {ms(closed.p50_ms)} | {ms(closed.p95_ms)} "
        f"| {ms(closed.p99_ms)} | {ms(closed.max_ms)} | {'yes' if closed.meets_target else 'no'} | {cpu(closed)} |",
        "",
        "CPU % is of one core, over the phase. "
        + (
            f"**The client used {closed.client_cpu_pct:g}% of its core: the load generator, not the service, "
            "set this pace**, so this row is a bound on the client; the open-loop steps below measure the service."
            if client_bound
            else f"A client above {CLIENT_BOUND_PCT}% would mean the load generator, not the service, set the pace."
        ),
        "",
        "## Highest rate with p99 <= target (open loop)",
        "",
        "Poisson arrivals at a fixed rate per step; latency counts from each request's scheduled time. "
        "The rate doubles until p99 misses the target, then bisects.",
        "",
        "| offered | seconds | requests | errors | achieved req/s | p50 ms | p95 ms | p99 ms | p99 <= target "
        "| client CPU % | server CPU % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|",
        *(
            f"| {s.offered} | {s.seconds:g} | {s.requests} | {s.errors} | {s.achieved_rps:g} | {ms(s.p50_ms)} "
            f"| {ms(s.p95_ms)} | {ms(s.p99_ms)} | {'yes' if s.meets_target else 'no'} | {cpu(s)} |"
            for s in steps
        ),
        "",
        f"**Highest rate tried with p99 <= {TARGET_P99_MS:g} ms: "
        + (f"{best:g} req/s.**" if best is not None else "none of the rates tried.**"),
        "",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start (or reach) the server, run both parts, return the summary."""
    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    pinned = args.client_cpu is not None and shutil.which("taskset") and len(os.sched_getaffinity(0)) > 1
    if pinned:
        os.sched_setaffinity(0, {args.client_cpu})  # what `taskset -p` does, for this process
    bodies = sample_records(args.params, 2000, seed=0)
    params = load_params(args.params)
    uptime_before = uptime()
    with contextlib.ExitStack() as stack:
        if args.url:
            url, server_cpus, server_pid = args.url.rstrip("/"), "unknown (external server)", None
        else:
            # The server logs every prediction, as in production, but not into the project's own
            # log: synthetic load would look like live traffic to the drift monitor.
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="load-test-")))
            url, server = stack.enter_context(
                running_server(
                    args.model,
                    args.lineage,
                    args.params,
                    cpu=args.server_cpu if pinned else None,
                    extra_args=("--prediction-log", str(scratch / "predictions.jsonl")),
                )
            )
            server_cpus = ",".join(map(str, sorted(os.sched_getaffinity(server.pid))))
            server_pid = server.pid
        health = httpx.get(f"{url}/health", timeout=10).json()
        sequential(url, bodies, args.warm_up)  # not reported: first calls pay for lazy imports and caches
        baseline = sequential(url, bodies, args.sequential)
        with cpu_share(server_pid) as shares:
            closed = asyncio.run(closed_loop(url, bodies, args.users, args.think, args.duration))
        closed = replace(closed, **shares)
        search = rate_search(
            url, bodies, args.start_rate, args.step_seconds, args.min_requests, args.max_steps, server_pid
        )
        steps, best = asyncio.run(search)
    return {
        "command": "python -m " + " ".join([__spec__.name if __spec__ else __name__, *map(shlex.quote, sys.argv[1:])]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_facts(),
        "uptime_before": uptime_before,
        "uptime_after": uptime(),
        "server_cpus": server_cpus,
        "client_cpus": ",".join(map(str, sorted(os.sched_getaffinity(0)))),
        "model_version": health["model_version"]["label"],
        "model": params.model.name,
        "task": params.task,
        "target_p99_ms": TARGET_P99_MS,
        "sequential": asdict(baseline),
        "closed_loop": asdict(closed),
        "closed_loop_meets_target": closed.meets_target,
        "offered_rps": args.users / args.think,
        "rate_steps": [asdict(step) for step in steps],
        "highest_rate_meeting_target": best,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time between a user's requests, s")
    parser.add_argument("--duration", type=float, default=60.0, help="closed-loop duration, s")
    parser.add_argument("--start-rate", type=float, default=8.0, help="first open-loop rate, requests/s")
    parser.add_argument("--step-seconds", type=float, default=15.0, help="duration of each open-loop rate")
    parser.add_argument("--min-requests", type=int, default=200, help="requests per open-loop step, at least")
    parser.add_argument("--max-steps", type=int, default=8, help="open-loop rates to try at most")
    parser.add_argument("--sequential", type=int, default=100, help="requests sent one at a time first")
    parser.add_argument("--warm-up", type=int, default=20, help="requests sent before measuring")
    parser.add_argument("--smoke", action="store_true", help="a few users for a few seconds (checks the script)")
    parser.add_argument("--url", help="load an already running server instead of starting one")
    parser.add_argument("--model", type=Path, default=MODEL_PATH)
    parser.add_argument("--lineage", type=Path, default=LINEAGE_PATH)
    parser.add_argument("--params", type=Path, default=PARAMS_PATH)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1, help="pin nothing with a negative value")
    parser.add_argument("--report", type=Path, help="write the markdown report here too")
    parser.add_argument("--json", type=Path, help="write the summary as JSON here")
    args = parser.parse_args(argv)
    if args.smoke:
        args.users, args.think, args.duration, args.warm_up, args.sequential = 5, 0.2, 2.0, 3, 5
        args.start_rate, args.step_seconds, args.min_requests, args.max_steps = 4.0, 1.5, 1, 2
    if args.client_cpu is not None and args.client_cpu < 0:
        args.client_cpu = None
    summary = run(args)
    report = markdown_report(summary)
    print(report)
    for path, text in ((args.report, report), (args.json, json.dumps(summary, indent=2) + "\n")):
        if path is not None:
            with atomic_path(path) as temp_path:
                temp_path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    run_stage(main)
