"""Token usage and cost per call, summed per simulation and batch, with a price table."""

from __future__ import annotations

from engine.batch.state import BatchState, SimRow
from engine.events import CallCompleted
from engine.llm.openai_provider import OpenAIProvider
from engine.llm.pricing import Price, PriceTable
from engine.llm.settings import parse_model
from tests.integration.helpers import FAST_RETRY, run_batch


async def test_priced_calls_report_their_cost(sim_server) -> None:
    server = sim_server(["--malformed", "0.2"])  # re-asks are paid for too
    settings = parse_model("openai-compatible/sim", base_url=server.base_url, retry=FAST_RETRY,
                           env={})
    prices = PriceTable({"sim": Price(prompt_per_mtok=2.0, completion_per_mtok=8.0)})
    provider = OpenAIProvider(settings, prices)
    try:
        # A seed whose 20 % malformed replies never exhaust a critical call's three attempts
        # (re-picked when the method's call graph changed the requests).
        events, results = await run_batch(provider, [22])
    finally:
        await provider.aclose()
    assert not [r for r in results if isinstance(r, Exception)]
    calls = [e for e in events if isinstance(e, CallCompleted)]
    assert calls and all(c.cost_usd > 0 for c in calls)
    for c in calls:
        expected = (c.prompt_tokens * 2.0 + c.completion_tokens * 8.0) / 1e6
        assert abs(c.cost_usd - expected) < 1e-12
    state = BatchState()
    state.add_row(SimRow("sim22", ("Aiko Tanaka", "Kwame Asante"), 1))
    for e in events:
        state.apply(e)
    endpoint_cost = sum(u.cost_usd for u in provider.usage().values())
    assert abs(state.cost_usd - endpoint_cost) < 1e-9
    assert state.cost_usd == sum(c.cost_usd for c in calls)
