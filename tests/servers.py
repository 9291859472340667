"""Start ``relsim serve`` as a real subprocess on a free loopback port, for tests and benchmarks.

    with SimServerProcess(["--rate-limit", "0.1"]) as server:
        server.base_url  # http://127.0.0.1:<port>/v1
        server.stats()   # the server's own request and fault counters

The server is polled until it answers (short bounded retries, no fixed sleep) and always
stopped, even when the test fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any

import pytest

STARTUP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SimServerProcess:
    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        env: dict[str, str] | None = None,
        cpu: int | None = None,
        port: int | None = None,
    ) -> None:
        self.args = list(args)
        self.env = env
        self.cpu = cpu  # pin the server to one core (benchmarks)
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def start(self) -> SimServerProcess:
        cmd = [sys.executable, "-m", "engine.cli", "serve", "--host", "127.0.0.1",
               "--port", str(self.port), *self.args]
        env = {**os.environ, **(self.env or {})}
        preexec = None
        if self.cpu is not None and hasattr(os, "sched_setaffinity"):
            cpu = self.cpu

            def preexec() -> None:
                os.sched_setaffinity(0, {cpu})

        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, preexec_fn=preexec)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        delay = 0.01
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"relsim serve exited early ({self.proc.returncode}): {err}")
            try:
                with urllib.request.urlopen(f"{self.root}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(delay)  # bounded poll interval while the process starts
            delay = min(0.2, delay * 2)
        self.stop()
        raise RuntimeError(f"relsim serve did not answer within {STARTUP_TIMEOUT_S}s")

    def _get(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"{self.root}{path}", method=method)
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, int]:
        return dict(self._get("/stats"))

    def reset_stats(self) -> None:
        self._get("/stats/reset", "POST")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stderr is not None:
            proc.stderr.close()

    def __enter__(self) -> SimServerProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


@pytest.fixture
def sim_server() -> Iterator[Any]:
    """A factory: ``sim_server(["--rate-limit", "0.1"])`` starts a server stopped after the test."""
    started: list[SimServerProcess] = []

    def start(args: Sequence[str] = (), **kwargs: Any) -> SimServerProcess:
        server = SimServerProcess(args, **kwargs).start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
