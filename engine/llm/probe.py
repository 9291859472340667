"""Probe an endpoint the way a batch will use it (``relsim check``, the launch screen).

Reachable, key accepted, model listed, chat latency, the structured-output mode that works,
embeddings (or the hashing fallback a batch will use), slots (or the adaptive limit), and a rough
estimate of one simulation's calls, tokens and wall time at the measured speed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import orjson

from engine.llm.budgets import DEFAULT_MAX_TOKENS
from engine.llm.endpoints import Replica
from engine.llm.openai_provider import OpenAIProvider, cannot_embed
from engine.llm.settings import LOCAL_EMBED, STRUCTURED_MODES, EndpointSettings
from engine.llm.transport import TransportError
from engine.llm.types import ChatRequest

_PROBE_SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}},
                 "required": ["ok"]}
_PROBE_MESSAGES = [{"role": "user", "content": 'Reply with the JSON object {"ok": true}.'}]
# One simulation of the default shape (10 scenes × 3 beats): calls per scene and per beat of
# the method, and a typical prompt; rough by design.
CALLS_PER_SCENE = 10
CALLS_PER_BEAT = 5
PROMPT_TOKENS = 1500


@dataclass(slots=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(slots=True)
class ProbeReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Would a batch run? Every check passed (embeddings and slots never block one)."""
        return all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))


def estimate(latency_s: float, tokens_per_s: float, scenes: int = 10, beats: int = 3
             ) -> tuple[int, int, float]:
    """Calls, tokens and wall seconds of one simulation at the measured speed."""
    calls = scenes * (CALLS_PER_SCENE + beats * CALLS_PER_BEAT)
    reply = sum(DEFAULT_MAX_TOKENS.values()) / len(DEFAULT_MAX_TOKENS) / 2  # half the budget
    tokens = int(calls * (PROMPT_TOKENS + reply))
    wall = calls * (latency_s + reply / max(tokens_per_s, 1e-6))
    return calls, tokens, wall


async def probe(settings: EndpointSettings) -> ProbeReport:
    report = ProbeReport()
    provider = OpenAIProvider(settings)
    replica: Replica = provider.pool.replicas[0]
    headers = dict(provider._headers)
    try:
        try:
            reply = await replica.http.get(replica.base_url + "/models", headers)
        except TransportError as err:
            report.add("reachable", False, err.reason)
            return report
        report.add("reachable", True, f"{replica.base_url} answered (HTTP {reply.status})")
        if reply.status in (401, 403):
            report.add("auth", False, f"HTTP {reply.status}: the key was refused")
            return report
        report.add("auth", True, "key accepted" if settings.api_key else "no key needed")
        listed = _listed(reply.body)
        if reply.status != 200 or listed is None:
            report.add("model listed", True, "the server does not list models")
        else:
            found = any(m == settings.model or m.endswith("/" + settings.model) for m in listed)
            one = len(listed) == 1  # llama.cpp serves one model whatever it is called
            report.add("model listed", found or one,
                       "listed" if found else (f"serves one model ({listed[0][-40:]})" if one
                                               else f"not among {len(listed)} models"))
        await _chat(report, settings)
        await _embeddings(report, provider)
        slots = await replica.learn_slots(headers) if settings.provider != "openai" else None
        report.add("slots", True, f"{slots} (in-flight limit starts there)" if slots else
                   f"not reported; limit adapts from {settings.limits.max_in_flight}")
    finally:
        await provider.aclose()
    return report


async def _chat(report: ProbeReport, settings: EndpointSettings) -> None:
    from dataclasses import replace

    for mode in STRUCTURED_MODES:
        provider = OpenAIProvider(replace(settings, structured=mode))
        request = ChatRequest(messages=list(_PROBE_MESSAGES), purpose="check",
                              json_schema=_PROBE_SCHEMA, schema_name="check", max_tokens=32,
                              temperature=0.0)
        started = time.monotonic()
        try:
            result = await provider.chat(request)
        except Exception as exc:  # this mode is refused: try the next
            detail = str(exc)[:120]
            continue
        finally:
            await provider.aclose()
        latency = time.monotonic() - started
        try:
            ok = isinstance(orjson.loads(result.text), dict)
        except orjson.JSONDecodeError:
            ok = False
        if not ok:
            detail = "reply was not a JSON object"
            continue
        tps = result.usage.completion_tokens / latency if latency else 0.0
        report.add("chat latency", True, f"{latency:.2f} s ({tps:.0f} tokens/s)")
        report.add("structured output", True, mode)
        calls, tokens, wall = estimate(latency, tps or 1.0)
        report.add("one simulation", True,
                   f"~{calls} calls, ~{tokens:,} tokens, ~{wall / 60:.0f} min alone "
                   "(10 scenes × 3 beats)")
        return
    report.add("structured output", False, f"no mode worked ({detail})")


async def _embeddings(report: ProbeReport, provider: OpenAIProvider) -> None:
    settings = provider.settings
    if settings.embed_model == LOCAL_EMBED:
        report.add("embeddings", True, "local (chosen)")
        return
    try:
        await provider._embed_now(["probe"])
    except Exception as exc:
        report.add("embeddings", False, f"{settings.embed_name}: {str(exc)[:120]}")
        return
    if provider.embed_fallback is not None:
        report.add("embeddings", True, "local — the endpoint has none (hashing fallback)")
    else:
        report.add("embeddings", True, f"{settings.embed_name} on the endpoint")


def _listed(body: bytes) -> list[str] | None:
    try:
        data = orjson.loads(body)
        return [str(m["id"]) for m in data["data"]]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None


__all__ = ["Check", "ProbeReport", "cannot_embed", "estimate", "probe"]
