"""Model output is untrusted: make it safe to print literally."""

from __future__ import annotations

import re

from engine.redact import scrub

# C0/C1 controls (ANSI/OSC escapes start with ESC or CSI) and the bidirectional-text controls
# (embeddings/overrides U+202A–U+202E, isolates U+2066–U+2069, marks U+200E/U+200F/U+061C) that
# can make a terminal show text in another order than it is stored ("Trojan Source").
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control characters (ANSI escapes, bidi controls) shown as ``\\xNN`` /
    ``\\uNNNN`` instead of being interpreted by the terminal, and secrets scrubbed (see
    ``engine.redact``). Newlines and tabs are kept."""
    return _CONTROL.sub(_escape, scrub(text))


def one_line(text: str) -> str:
    """``printable`` on a single line (newlines and tabs shown as spaces)."""
    return printable(text).replace("\n", " ").replace("\r", " ").replace("\t", " ")
