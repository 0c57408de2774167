"""One exception type for problems a user can fix, and the entry point that reports it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable


class PipelineError(Exception):
    """Bad input or configuration: the message names the file, column or param and the fix."""


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage; turn a PipelineError into one line on stderr and exit code 1.

    Anything else is a bug and keeps its traceback.
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s", stream=sys.stderr)
    try:
        main()
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
