"""The seed's retry rule with injected faults: 3 attempts, retries visible, fallbacks declared."""

from __future__ import annotations

import logging
from collections import Counter

import pytest

from engine import SimFaults, SimProvider, StructuredOutputError
from engine.events import AppraisalMade, CallFailed, RetryWarning, SimulationCompleted
from engine.llm import model_call_structured_async
from engine.llm.budgets import budget_for
from engine.llm.types import ChatRequest, ChatResult
from engine.sim.schemas import CommitmentScore
from tests.engine.helpers import make_sim


async def test_recoverable_faults_succeed_with_one_retry_event_per_fault() -> None:
    # Seeded, so the faults fall the same way every run. The first seed whose run draws all
    # three kinds is used: the checks below would prove little without each kind. At a 6 %
    # fault rate a critical call failing 3 times running has odds of ~1 in 50 per run.
    for seed in range(1, 30):
        provider = SimProvider(
            faults=SimFaults(malformed=0.03, invalid=0.015, truncated=0.015, noise=0.2)
        )
        events: list = []
        try:
            log = await make_sim(provider, seed=seed, events=events, scenes=6).run_auto_async(3)
        except StructuredOutputError:
            continue  # three faults in a row on a critical call: another test covers that
        if min(provider.stats[k] for k in ("malformed", "invalid", "truncated")) > 0:
            break
    else:
        pytest.fail("no seed in 1..29 drew all three fault kinds")
    assert len(log) == 6
    retries = [e for e in events if isinstance(e, RetryWarning)]
    injected = provider.stats["malformed"] + provider.stats["invalid"] + provider.stats["truncated"]
    assert len(retries) == injected
    by_class = Counter(r.error_class for r in retries)
    assert by_class["truncation"] == provider.stats["truncated"]
    assert (
        by_class["parse"] + by_class["validation"]
        == provider.stats["malformed"] + provider.stats["invalid"]
    )
    assert all(r.sim_id == "t1" and r.max_attempts == 3 for r in retries)
    assert isinstance(events[-1], SimulationCompleted)


async def test_critical_call_raises_after_exactly_three_attempts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = SimProvider(faults=SimFaults(malformed=1.0))
    caplog.set_level(logging.WARNING, logger="relsim.llm")
    with pytest.raises(StructuredOutputError) as err:
        await model_call_structured_async(
            "Rate it.", CommitmentScore, model=provider, purpose="commitment"
        )
    assert err.value.attempts == 3
    assert provider.stats["calls"] == 3
    assert "Sure! Here is what I think" in err.value.raw_response
    warnings = [
        r
        for r in caplog.records
        if "attempt" in r.getMessage() and "failed (parse)" in r.getMessage()
    ]
    assert len(warnings) == 3
    final = caplog.records[-1].getMessage()
    assert "failed after 3 attempts" in final and "Raw response: Sure! Here is" in final


class _BrokenAppraisals:
    """A provider whose appraisals are always unusable; everything else is the simulator."""

    def __init__(self) -> None:
        self.inner = SimProvider()
        self.model, self.label = "sim", self.inner.label

    async def chat(self, request: ChatRequest) -> ChatResult:
        if request.purpose == "appraisal":
            return ChatResult("I feel... complicated. No JSON today.")
        return await self.inner.chat(request)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await self.inner.embed(texts)

    async def aclose(self) -> None:
        return None


async def test_failed_appraisal_returns_marked_fallback_and_simulation_continues() -> None:
    events: list = []
    log = await make_sim(_BrokenAppraisals(), events=events, scenes=2).run_auto_async(2)
    assert len(log) == 2
    # 2 scenes × 2 beats × both partners (the actor before acting, the partner after).
    appraisals = [e for e in events if isinstance(e, AppraisalMade)]
    assert len(appraisals) == 8 and all(a.fallback for a in appraisals)
    assert sum(a.responding_to is not None for a in appraisals) == 4
    assert all(v == 0.0 for a in appraisals for v in a.emotions.values())
    failed = [e for e in events if isinstance(e, CallFailed)]
    assert len(failed) == 8 and all(f.fallback and f.purpose == "appraisal" for f in failed)
    retries = [e for e in events if isinstance(e, RetryWarning)]
    assert len(retries) == 24
    assert [r.will_retry for r in retries[:3]] == [True, True, False]


async def test_critical_failure_fails_the_simulation_with_a_reason() -> None:
    events: list = []
    sim = make_sim(SimProvider(faults=SimFaults(invalid=1.0)), events=events, scenes=1)
    with pytest.raises(StructuredOutputError, match="scene_setup"):
        await sim.run_auto_async(1)
    assert events[-1].type == "simulation_failed"
    assert "scene_setup" in events[-1].reason


async def test_truncation_asks_again_for_a_shorter_reply_within_the_same_budget() -> None:
    seen: list[ChatRequest] = []

    class Truncating(SimProvider):
        async def chat(self, request: ChatRequest) -> ChatResult:
            seen.append(ChatRequest(list(request.messages), request.purpose,
                                    max_tokens=request.max_tokens))
            if len(seen) == 1:
                return ChatResult('{"satisfaction": 5, "qual', "length")
            return await super().chat(request)

    value = await model_call_structured_async("Rate it.", CommitmentScore, model=Truncating())
    assert isinstance(value, CommitmentScore)
    # Every attempt carries the purpose's budget, and a runaway never earns a bigger one.
    assert seen[0].max_tokens == budget_for("structured")
    assert seen[1].max_tokens == seen[0].max_tokens
    assert "cut off" in seen[1].messages[-1]["content"]
    assert "shorter" in seen[1].messages[-1]["content"]
