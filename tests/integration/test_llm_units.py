"""Fast unit checks for the HTTP layer's pure parts: settings, classes, backoff, limiter, bucket."""

from __future__ import annotations

import random

import pytest

from engine.errors import ConfigError
from engine.llm import settings
from engine.llm.admission import AdaptiveLimiter, CircuitBreaker, RateBucket
from engine.llm.cache import request_key
from engine.llm.openai_provider import strict_schema
from engine.llm.registry import resolve_model
from engine.llm.settings import RetryPolicy, Secret, parse_model
from engine.llm.transport import backoff_s, classify, retry_after_s
from engine.llm.types import ChatRequest

KEY = "sk-unit-SECRET-0000"


def test_settings_never_show_the_key() -> None:
    s = parse_model("openai/gpt-4o-mini", env={"OPENAI_API_KEY": KEY})
    assert s.api_key is not None and s.api_key.reveal() == KEY
    for text in (repr(s), str(s), repr(s.api_key), f"{s.api_key}"):
        assert KEY not in text
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(Secret(KEY))


def test_model_strings() -> None:
    assert parse_model("ollama/llama3.1", env={}).base_urls == ("http://localhost:11434/v1",)
    assert parse_model("ollama/llama3.1", env={}).structured == "json_object"
    assert parse_model("vllm/Qwen/Qwen3-32B", env={}).model == "Qwen/Qwen3-32B"
    two = parse_model("llamacpp/m", base_url="http://a:1/v1, http://b:2/v1/", env={})
    assert two.base_urls == ("http://a:1/v1", "http://b:2/v1")
    with pytest.raises(ConfigError, match="needs --base-url"):
        parse_model("openai-compatible/x", env={})
    with pytest.raises(ConfigError, match="not in the base URL"):
        parse_model("vllm/x", base_url="http://u:pw@host/v1", env={})
    with pytest.raises(ConfigError, match="unknown model"):
        resolve_model("nope/x")
    rpm_env = {"RELSIM_RPM": "600", "OPENAI_API_KEY": KEY}
    assert parse_model("openai/x", env=rpm_env).limits.rpm == 600


def test_max_in_flight_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    def start(env: dict[str, str]) -> int:
        return parse_model("ollama/llama3.1", env=env).limits.max_in_flight

    assert start({}) == 16
    assert start({"RELSIM_MAX_IN_FLIGHT": "32"}) == 32
    assert parse_model("ollama/m", env={"RELSIM_MAX_IN_FLIGHT": "512"}).limits.max == 512
    # The old name still works, once with a warning; the new name wins when both are set.
    monkeypatch.setattr(settings, "_warned_concurrency", False)
    with pytest.warns(FutureWarning, match="RELSIM_MAX_IN_FLIGHT"):
        assert start({"RELSIM_CONCURRENCY": "8"}) == 8
    assert start({"RELSIM_CONCURRENCY": "8", "RELSIM_MAX_IN_FLIGHT": "4"}) == 4


def test_openai_without_a_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs an API key: set OPENAI_API_KEY"):
        parse_model("openai/gpt-4o-mini", env={})
    # A self-hosted server behind the openai provider may not want one.
    assert parse_model("openai/m", base_url="http://127.0.0.1:9/v1", env={}).api_key is None


def test_error_classes_and_hints() -> None:
    assert classify(200, b"") is None
    assert classify(429, b"slow down") == "rate_limit"
    assert classify(429, b'{"error":{"code":"insufficient_quota"}}') == "fatal"
    assert classify(503, b'{"error":"server busy, please try again."}') == "rate_limit"
    assert [classify(s, b"") for s in (408, 409, 500, 502)] == ["transient"] * 4
    assert [classify(s, b"") for s in (400, 401, 403)] == ["fatal"] * 3
    # A 404 naming the model is a configuration error; one on a route, or a 501, means the
    # server lacks the feature (llama.cpp without --embeddings): never retried.
    assert classify(404, b'{"error":{"message":"model not found"}}') == "fatal"
    assert classify(404, b"") == "unsupported"
    assert classify(501, b"This server does not support embeddings") == "unsupported"
    assert retry_after_s({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_s({"retry-after": "2"}) == 2.0
    assert retry_after_s({}) is None
    policy = RetryPolicy(base_s=0.5, cap_s=4.0)
    rng = random.Random(0)
    waits = [backoff_s(r, policy, rng) for r in range(10) for _ in range(20)]
    assert all(0 <= w <= 4.0 for w in waits) and max(waits) > 2.0


async def test_aimd_limiter() -> None:
    changes: list[int] = []
    lim = AdaptiveLimiter(4, 1, 8, debounce_s=10, on_change=lambda n, _r: changes.append(n))
    for _ in range(4):
        await lim.acquire()
    for _ in range(30):
        lim.on_success()
    assert lim.limit > 4
    top = lim.limit
    lim.on_rate_limit()
    lim.on_rate_limit()  # debounced
    assert lim.limit == int(top * 0.8)
    assert changes and changes[-1] == lim.limit


def test_rate_bucket_paces_evenly() -> None:
    bucket = RateBucket(600)  # 10/s, 1 s burst
    delays = [bucket.reserve(1) for _ in range(30)]
    assert delays[:10] == [0.0] * 10
    assert delays[-1] == pytest.approx(2.0, abs=0.05)


def test_breaker_opens_and_probes() -> None:
    b = CircuitBreaker(threshold=2, cooldown_s=0.0)
    assert b.try_enter() and not b.try_enter()  # unverified: one probe at a time
    b.record_success()
    assert b.state == "closed"
    b.record_failure()
    assert b.record_failure() and b.state == "open"
    assert b.try_enter() and b.state == "half_open"  # cooldown 0: probe now


def test_strict_schema_and_cache_key() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer", "default": 1}}}
    converted, strict = strict_schema(schema)
    assert converted["additionalProperties"] is False and not strict
    assert "default" not in converted["properties"]["a"]
    r1 = ChatRequest([{"role": "user", "content": "x"}], "p", seed=1)
    r2 = ChatRequest([{"role": "user", "content": "x"}], "p", seed=1, sample_index=1)
    assert request_key("m", "u", r1) != request_key("m", "u", r2)
    assert request_key("m", "u", r1) == request_key("m", "u", r1)
