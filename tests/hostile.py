"""A hostile OpenAI-compatible server on 127.0.0.1 (real HTTP, stdlib server in a thread).

It answers with the built-in simulator's replies (so simulations run to the end), then makes
them hostile: long text fields carry Rich markup, an OSC retitle (``ESC]0;…BEL``), a screen
clear (``ESC[2J``) and bidi controls; some replies are cut off mid-JSON without
``finish_reason: length``; appraisals can be cut off every time (so the caller gives up and logs
the raw reply); some requests get a 500 whose body echoes the Authorization header.

    with HostileServer(cut_every=5) as server:
        server.base_url  # http://127.0.0.1:<port>/v1
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from engine.llm.types import ChatRequest
from engine.sim.provider import SimProvider

ESCAPES = "\x1b]0;pwned\x07\x1b[2J"
BIDI = "\u202e\u2066\u202a"
MARKUP = "[bold red]x[/][link=http://evil]y[/link]"
PAYLOAD = f" {MARKUP}{ESCAPES}{BIDI}"
# What must never reach a terminal from model text.
FORBIDDEN = ("\x1b", "\x07", *BIDI, "\u202b", "\u202c", "\u202d", "\u2067", "\u2068", "\u2069")


def _inject(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _inject(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_inject(v) for v in value]
    if isinstance(value, str) and len(value) > 40:  # free text, not names or enum values
        return value[:20] + PAYLOAD + value[20:]
    return value


class HostileServer:
    def __init__(self, *, cut_every: int = 0, cut_purposes: tuple[str, ...] = (),
                 echo_auth_every: int = 0, fence_every: int = 0, inject: bool = True,
                 error_everything: bool = False) -> None:
        self.cut_every = cut_every
        self.fence_every = fence_every
        self.cut_purposes = cut_purposes
        self.echo_auth_every = echo_auth_every
        self.inject = inject
        self.error_everything = error_everything
        self.sim = SimProvider()
        self.stats: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def reply(self, body: dict[str, Any], headers: Any) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.stats["requests"] += 1
            n = self.stats["requests"]
            if self.error_everything:
                return 500, {"error": {"message": "internal error"}}
            if self.echo_auth_every and n % self.echo_auth_every == 0:
                self.stats["echoed"] += 1
                echo = f"bad gateway; request had Authorization: {headers.get('authorization')}"
                return 500, {"error": {"message": echo}}
            fmt = body.get("response_format") or {}
            schema = (fmt.get("json_schema") or {}).get("schema") if fmt else None
            purpose = headers.get("x-relsim-purpose") or "text"
            seed = body.get("seed")
            request = ChatRequest(
                messages=[{"role": m["role"], "content": str(m["content"])}
                          for m in body["messages"]],
                purpose=purpose, json_schema=schema or ({"type": "object"} if fmt else None),
                seed=seed if isinstance(seed, int) else None,
                sample_index=int(headers.get("x-relsim-sample") or 0),
            )
            result = self.sim.reply(request)
            text = result.text
            if self.inject:
                try:
                    text = json.dumps(_inject(json.loads(text)), ensure_ascii=False)
                except ValueError:
                    text = text + PAYLOAD
            cut = purpose in self.cut_purposes or (
                self.cut_every and n % self.cut_every == 0 and text.startswith("{"))
            if cut:
                self.stats["cut"] += 1
                text = "Sure! Here is the JSON you asked for: " + text[: len(text) * 2 // 3]
            elif self.fence_every and n % self.fence_every == 0 and text.startswith("{"):
                self.stats["fenced"] += 1  # a benign repair: complete, in a fence, with prose
                text = f"Here you go:\n```json\n{text}\n```\nAnything else?"
            return 200, {
                "id": f"h{n}", "object": "chat.completion", "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }

    def start(self) -> HostileServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def _send(self, status: int, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "hostile"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length))
                if self.path.endswith("/embeddings"):
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    data = [{"index": i, "embedding": [0.1] * 8} for i in range(len(inputs))]
                    self._send(200, {"data": data, "usage": {"prompt_tokens": 1}})
                    return
                self._send(*owner.reply(body, self.headers))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
