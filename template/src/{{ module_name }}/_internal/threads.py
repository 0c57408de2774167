"""Thread settings for pipelines that run side by side on one machine.

Alone, estimators use every core (random forests through `n_jobs: -1`, histogram boosting and
BLAS through OpenMP). Where several run at once (queued sweep workers, the PR check's base and
head), each keeps to one thread, so they share the cores instead of fighting over them.
"""

from __future__ import annotations

import os

# OpenMP, OpenBLAS and MKL read the first three; joblib (n_jobs=-1) reads LOKY_MAX_CPU_COUNT.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LOKY_MAX_CPU_COUNT": "1"}


def one_thread_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (this process's environment by default) with every thread pool limited to one thread."""
    return {**(os.environ if base is None else base), **ONE_THREAD}
