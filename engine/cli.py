"""The ``relsim`` command line: one module per subcommand in ``engine.commands`` (the dashboard
adds its own from ``tui.cli``, the installed entry point).

Exit codes: 0 success, 1 some simulations failed, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Sequence

from engine import __version__
from engine.errors import ConfigError, RelsimError
from engine.sim.sources import personas_from

EXIT_BAD_INPUT = 2

# name -> module in engine.commands. Each module keeps heavy imports inside its run().
COMMANDS = {
    "simulate": "simulate",
    "serve": "serve",
    "run": "run",
    "resume": "resume",
    "rerun": "rerun",
    "runs": "runs",
    "show": "show",
    "export": "export",
    "personas": "personas",
    "analyze": "analyze",
    "compare": "compare",
    "evaluate": "evaluate",
    "report": "report",
    "scenarios": "scenarios",
    "persona": "persona",
    "check": "check",
}
PERSONAS_HELP = "a directory of persona files (and batches/) that shadow the shipped ones by id"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"relsim: error: {message}\n")


def build_parser(
    extra: dict[str, str] | None = None,
) -> tuple[argparse.ArgumentParser, dict[str, object]]:
    """The parser and command modules: ``engine.commands.<name>`` for the engine's commands and
    ``extra`` (name -> full module path) for commands that live outside the engine."""
    parser = _Parser(prog="relsim", description="Run batches of LLM relationship simulations.")
    parser.add_argument("--version", action="version", version=f"relsim {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log model-call warnings")
    parser.add_argument("--personas", dest="personas_dir", metavar="DIR", default=None,
                        help=PERSONAS_HELP)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    modules: dict[str, object] = {}
    paths = {name: f"engine.commands.{module}" for name, module in COMMANDS.items()}
    paths.update(extra or {})
    for name, path in paths.items():
        module = importlib.import_module(path)
        module.add_parser(sub)
        modules[name] = module
    helps = {action.dest: action.help for action in sub._choices_actions}
    for name, subparser in sub.choices.items():
        if not subparser.description and helps.get(name):
            # `relsim X --help` says what X does, not just its usage.
            text = str(helps[name])
            subparser.description = text[:1].upper() + text[1:] + "."
        # Also accepted after the command (`relsim run demo --personas DIR`); SUPPRESS keeps a
        # value given before the command.
        subparser.add_argument("--personas", dest="personas_dir", metavar="DIR",
                               default=argparse.SUPPRESS,
                               help=PERSONAS_HELP)
    return parser, modules


def _warning_line(message: Warning | str, *_: object, **__: object) -> str:
    # A user-facing tool: one line ("RELSIM_CONCURRENCY is deprecated…"), not file:line + source.
    return f"relsim: warning: {message}\n"


def main(argv: Sequence[str] | None = None, extra: dict[str, str] | None = None) -> int:
    warnings.formatwarning = _warning_line
    parser, modules = build_parser(extra)
    argv = list(sys.argv[1:] if argv is None else argv)
    if (
        not [a for a in argv if not a.startswith("-")]
        and "dash" in modules
        and not ({"-h", "--help", "--version"} & set(argv))
    ):
        argv = ["dash", *argv]  # plain `relsim` opens the dashboard
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )
    command = args.command
    if command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        with personas_from(args.personas_dir):
            return int(modules[command].run(args) or 0)  # type: ignore[attr-defined]
    except ConfigError as exc:
        print(f"relsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RelsimError as exc:
        print(f"relsim: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("relsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`relsim export … | head`): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
