"""``relsim show RUN_DIR [SIM_ID]``: a run's summary, or one simulation's transcript."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("show", help="summarise a run, or print one simulation's transcript")
    p.add_argument("run_dir", metavar="RUN_DIR", nargs="?", default=None,
                   help="a run directory (default: the latest run in --out)")
    p.add_argument("sim_id", nargs="?", metavar="SIM_ID")
    p.add_argument("--out", default="logs", help="where runs live (for the latest run)")
    p.add_argument("--attempt", type=int, default=None, help="attempt to show (default: latest)")
    p.add_argument("--all", action="store_true", help="list every simulation in the summary")
    p.add_argument("--report", action="store_true",
                   help="print only the simulation's after-action report")
    p.add_argument("--markdown", action="store_true",
                   help="with --report: print it as Markdown (redirect to a .md file to export)")


def run(args: argparse.Namespace) -> int:
    from engine.batch.reader import RunReader
    from engine.batch.runlist import run_status
    from engine.present.console import print_commitment_log, print_summary, stdout_console
    from engine.present.format import safe
    from engine.present.transcript import print_transcript

    run_dir = args.run_dir
    if run_dir is None:
        from engine.batch.runlist import list_runs
        from engine.errors import ConfigError

        runs = list_runs(args.out)
        if not runs:
            raise ConfigError(f"no runs in {args.out}; give a RUN_DIR")
        run_dir = runs[-1].run_dir
    reader = RunReader(run_dir)
    console = stdout_console()
    if args.sim_id:
        reader.sim_info(args.sim_id)
        reader.check_attempt(args.sim_id, args.attempt)
        events = reader.events(args.sim_id, args.attempt)
        if args.report:
            return _print_report(events, args, console)
        print_transcript(events, console)
        print_commitment_log(console, reader.commitment_log(args.sim_id, args.attempt))
        report_skipped(reader)
        return 0
    m = reader.manifest
    status = run_status(reader.run_dir, m)
    console.print(safe(f"{reader.run_dir}", "bold"),
                  safe(f" status: {status}  "
                       f"model: {m.get('model_label') or m.get('model')}  "
                       f"seed: {m.get('seed')}  relsim {m.get('relsim_version')}  "
                       f"prompts {m.get('prompt_hash')}"))
    state = reader.state()
    print_summary(state, console, limit=10**9 if args.all else 40)
    report_skipped(reader)
    return 0


def report_skipped(reader: Any) -> None:
    """One line on stderr when the log held lines that are not usable events."""
    import sys

    if reader.skipped:
        print(f"relsim: skipped {reader.skipped} unreadable line(s) of {reader.run_dir}/"
              "events.jsonl", file=sys.stderr)


def _print_report(events: list[Any], args: argparse.Namespace, console: Any) -> int:
    from engine.errors import ConfigError
    from engine.events import AfterActionReported
    from engine.present.transcript import report_lines

    reports = [e for e in events if isinstance(e, AfterActionReported)]
    if not reports:
        raise ConfigError(f"simulation {args.sim_id} has no after-action report (not finished, "
                          "or run before reports existed)")
    lines = report_lines(reports[-1], markdown=args.markdown)
    if args.markdown:
        print(f"# {args.sim_id}\n")
        print("\n".join(lines))
    else:
        for text in lines:
            console.print(text, markup=False, highlight=False)
    return 0
