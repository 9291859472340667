"""The ``relsim`` command line: one module per subcommand in ``engine.commands`` (the dashboard
adds its own from ``tui.cli``, the installed entry point).

Exit codes (also in the README): 0 success; 1 some simulations failed or were cancelled;
2 bad input or configuration; 3 a run directory is missing, unreadable or corrupt; 4 relsim
could not write (disk full, I/O error, missing output folder); 130 interrupted.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from engine import __version__
from engine.errors import ConfigError, RelsimError, RunDataError, StorageError
from engine.redact import register_env
from engine.sim.sources import personas_from
from engine.textsafe import printable

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_BAD_RUN = 3
EXIT_STORAGE = 4
EXIT_INTERRUPTED = 130

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
            # `relsim X --help` says what X does, not just its usage. Help strings are
            # %-formatted by argparse (95%% is 95%); a description is printed as is.
            text = str(helps[name]).replace("%%", "%")
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


# At exit the interpreter's last garbage collection walks every object of numpy, scipy and
# polars (~0.1 s of a 0.8 s ``relsim analyze``); frozen objects are skipped. Nothing then needs
# it: files and temporary directories are closed by their with-blocks and finalizers.
atexit.register(gc.freeze)


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
    register_env()  # key-like environment variables are scrubbed from all output
    from engine.present.logs import configure_logging

    configure_logging(args.verbose)
    command = args.command
    if command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        with personas_from(args.personas_dir):
            return int(modules[command].run(args) or 0)  # type: ignore[attr-defined]
    except RunDataError as exc:
        _say(f"relsim: error: {exc}")
        return EXIT_BAD_RUN
    except ConfigError as exc:
        _say(f"relsim: error: {exc}")
        return EXIT_BAD_INPUT
    except StorageError as exc:
        _say(f"relsim: error: {exc}")
        return EXIT_STORAGE
    except RelsimError as exc:
        _say(f"relsim: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        _say("relsim: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`relsim export … | head`): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        # Any other I/O failure (a full disk while resuming, a read-only folder): one line.
        where = f"{exc.filename}: " if exc.filename else ""
        _say(f"relsim: error: {where}{exc.strerror or exc}")
        return EXIT_STORAGE


def _say(message: str) -> None:
    # Messages may quote model or file text: escaped and scrubbed like everything on screen.
    print(printable(message), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
