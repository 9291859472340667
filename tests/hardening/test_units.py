"""Unit tests of the hardening helpers: repair classification (item 2), secret scrubbing
(item 3), control characters (item 1), batch limits (item 8), the log handler (item 9)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from rich.console import Console
from rich.live import Live
from rich.text import Text

from engine import redact
from engine.batch.spec import BatchSpec, load_batch
from engine.errors import ConfigError, LLMError
from engine.llm.parsing import ParseError, parse_reply
from engine.textsafe import printable

# -- item 2: repairs that change content are malformed; benign ones are counted -------------


@pytest.mark.parametrize(
    "text",
    [
        '{"reasoning": "I stay because we talked and so',  # cut off mid-string
        '{"score": 7, "reasoning": "fine"',  # the object never closes
        'Sure! Here is the JSON you asked for: {"perspective": "I',  # prose, then cut off
        '{"a": 1} and also {"a": 2}',  # two objects: which one?
        '{"a": 1, garbage words}',  # readable only by dropping words
    ],
)
def test_content_changing_repairs_are_malformed(text: str) -> None:
    with pytest.raises(ParseError):
        parse_reply(text)


@pytest.mark.parametrize(
    ("text", "repairs"),
    [
        ('{"a": 1}', []),
        ('```json\n{"a": 1}\n```', ["fence"]),
        ('Sure, here it is:\n{"a": 1}\nHope that helps!', ["prose"]),
        ('<think>maybe {x}</think>{"a": 1}', ["think"]),
        ('{"a": 1,}', ["trailing_comma"]),
        ("{'a': 1}", ["syntax"]),
    ],
)
def test_benign_repairs_pass_and_are_named(text: str, repairs: list[str]) -> None:
    parsed = parse_reply(text)
    assert parsed.value == {"a": 1} and parsed.repairs == repairs


async def test_cut_off_reply_is_re_asked_with_a_retry_warning() -> None:
    """A reply cut off without finish_reason "length" is not accepted: re-asked, warned."""
    from pydantic import BaseModel

    from engine.llm.caller import call_structured
    from engine.llm.scope import CallScope, call_scope
    from engine.llm.types import ChatRequest, ChatResult

    class Reply(BaseModel):
        reasoning: str

    replies = iter(['{"reasoning": "we talked and so', '```json\n{"reasoning": "we talked."}\n```'])

    class Scripted:
        model = label = "scripted"

        async def chat(self, request: ChatRequest) -> ChatResult:
            return ChatResult(text=next(replies), finish_reason="stop")

    events: list = []
    with call_scope(CallScope(sink=events.append, sim_id="s1")):
        result = await call_structured(Scripted(), [{"role": "user", "content": "?"}], Reply,
                                       purpose="commitment")  # type: ignore[arg-type]
    assert result.value.reasoning == "we talked." and result.attempts == 2
    warnings = [e for e in events if e.type == "retry_warning"]
    assert len(warnings) == 1 and "cut off" in warnings[0].reason
    completed = [e for e in events if e.type == "call_completed"]
    assert completed[0].repairs == 1


# -- item 3: secrets ---------------------------------------------------------------------------


def test_scrub_registered_values_and_generic_forms() -> None:
    redact.register("sk-unit-test-KEY-987")
    redact.register_url("http://h/v1?api_key=urlkey-123456&x=1")
    text = ("echo: Authorization: Bearer sk-unit-test-KEY-987; GET /v1?api_key=urlkey-123456 "
            "token=abcdefgh sk-unit-test-KEY-987")
    cleaned = redact.scrub(text)
    assert "sk-unit-test-KEY-987" not in cleaned and "urlkey-123456" not in cleaned
    assert "abcdefgh" not in cleaned
    assert "Bearer [redacted]" in cleaned and "api_key=[redacted]" in cleaned
    assert redact.scrub("max_tokens=512, tokens 12.3k, the secret is out") == (
        "max_tokens=512, tokens 12.3k, the secret is out")


def test_scrubbed_json_stays_json() -> None:
    import orjson

    redact.register("sk-json-KEY-555")
    line = orjson.dumps({"reason": 'api_key="sk-json-KEY-555" Bearer sk-json-KEY-555 \\ end'})
    assert orjson.loads(redact.scrub_bytes(line))["reason"].count("[redacted]") == 2


def test_errors_and_log_records_are_scrubbed() -> None:
    redact.register("sk-log-KEY-24680")
    assert "sk-log-KEY-24680" not in str(LLMError("server said Bearer sk-log-KEY-24680"))
    stream = io.StringIO()
    from engine.present.logs import ConsoleLogHandler

    handler = ConsoleLogHandler(Console(file=stream, width=200))
    logger = logging.getLogger("relsim.test-scrub")
    logger.addHandler(handler)
    try:
        logger.error("reply %s", "key sk-log-KEY-24680 \x1b]0;t\x07")
    finally:
        logger.removeHandler(handler)
    assert "sk-log-KEY-24680" not in stream.getvalue() and "\x1b" not in stream.getvalue()
    assert "[redacted]" in stream.getvalue()


# -- item 1: control characters ---------------------------------------------------------------


def test_printable_escapes_bidi_and_escapes() -> None:
    text = "a\u202eb\u2066c\u2069d\x1b]0;x\x07e\x1b[2J\u200f"
    shown = printable(text)
    assert shown == "a\\u202eb\\u2066c\\u2069d\\x1b]0;x\\x07e\\x1b[2J\\u200f"
    assert printable("line\n\ttab") == "line\n\ttab"


# -- item 8: batch limits and booleans --------------------------------------------------------


@pytest.mark.parametrize("field", ["concurrency", "replicates", "scenes", "beats", "seed",
                                   "commitment_samples", "context_turns", "max_simulations"])
def test_booleans_are_not_integers(tmp_path: Path, field: str) -> None:
    batch = tmp_path / "b.toml"
    batch.write_text(f'personas = ["aiko-tanaka", "kwame-asante"]\n{field} = true\n')
    with pytest.raises(ConfigError, match=f"{field}: expected a number, not true"):
        load_batch(batch)


def test_boolean_sim_option_refused() -> None:
    with pytest.raises(ValueError, match=r"sim\.malformed: expected a number"):
        BatchSpec(personas=["aiko-tanaka", "kwame-asante"], sim={"malformed": True})


def test_huge_seed_is_bad_input(tmp_path: Path) -> None:
    batch = tmp_path / "b.toml"
    batch.write_text('personas = ["aiko-tanaka", "kwame-asante"]\nseed = 1180591620717411303424\n')
    with pytest.raises(ConfigError, match="seed"):
        load_batch(batch)


def test_batch_size_limit() -> None:
    spec = BatchSpec(personas="all", replicates=10_000)
    assert spec.count_simulations() > 10_000
    with pytest.raises(ConfigError, match=r"above the limit of 10,000: pass --yes"):
        spec.check_size()
    spec.check_size(allow_large=True)
    raised = spec.model_copy(update={"max_simulations": spec.count_simulations()})
    raised.check_size()
    assert "model calls" in spec.size_text()


# -- item 9: log records and the live progress line -------------------------------------------


def test_log_records_do_not_break_the_progress_line() -> None:
    """With a live progress line on the terminal, a log record is written on a line of its own
    and the progress line redrawn after it (never ``…ETA 0:00:48ERROR relsim.llm: …``)."""
    from engine.present.logs import configure_logging

    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=120, color_system=None)
    configure_logging(console=console)
    log = logging.getLogger("relsim.llm")
    try:
        with Live(Text("done 1/6 · ETA 0:00:48"), console=console, auto_refresh=False,
                  transient=True) as live:
            live.refresh()
            log.error("the call failed")
            live.update(Text("done 2/6 · ETA 0:00:40"), refresh=True)
    finally:
        logging.getLogger().handlers.clear()
    out = stream.getvalue()
    assert "ETA 0:00:48ERROR" not in out
    before = out[: out.index("ERROR relsim.llm: the call failed")]
    # The progress line was erased (cursor to column 0, line cleared) before the record.
    assert before.endswith(("\r\x1b[2K", "\n")), repr(before[-20:])
    assert "ETA 0:00:40" in out[out.index("the call failed"):]
