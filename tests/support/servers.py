"""Storage servers on 127.0.0.1 for the remote tests: start a process, wait until its port answers.

A missing server program fails the test with the command that installs it: a skipped remote
test would pass CI without testing the remote.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require(program: str | Path | None, how_to_install: str) -> str:
    """The program's path, or a failed test saying how to install it."""
    found = shutil.which(str(program)) if program else None
    if not found:
        pytest.fail(f"{program or 'server program'} not found: {how_to_install}", pytrace=False)
    return found


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def serving(command: list[str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command`, a server on 127.0.0.1:`port`, until the block ends; its output goes to `log`."""
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not port_answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                state = f"exited {server.returncode}" if server.poll() is not None else "never listened"
                pytest.fail(f"{command[0]} {state} on port {port}:\n{log.read_text()[-3000:]}", pytrace=False)
            time.sleep(0.1)
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
