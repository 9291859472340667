"""``relsim persona new``: build a persona file from short questionnaires (interactive, or from
an answers TOML file), the synopsis and if→then rules written by a model or the simulator."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("persona", help="create personas")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    new = actions.add_parser(
        "new", help="build a persona from questionnaire answers (attachment, Big Five, …)"
    )
    new.add_argument("--answers", metavar="FILE.toml",
                     help="read the answers from a file instead of asking (see the README)")
    new.add_argument("-o", "--output", metavar="PATH",
                     help="where to write the persona (default: ./personas/<id>.toml)")
    new.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    new.add_argument("--model", default=None, help="model string (default: $RELSIM_MODEL or sim)")
    new.add_argument("--base-url", default=None, help="endpoint for OpenAI-compatible models")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import tomllib

    import tomli_w

    from engine.commands._output import write_output
    from engine.configfile import read_toml
    from engine.errors import ConfigError, PersonaError
    from engine.llm.registry import check_model, resolve_model
    from engine.sim.intake import parse_answers, persona_id, persona_toml, write_persona_async
    from engine.sim.personas import Persona

    check_model(args.model or _default_model(), args.base_url)  # fail before any questions
    if args.answers:
        answers = parse_answers(read_toml(Path(args.answers), "answers file"), args.answers)
    else:
        answers = ask_answers()
    default = Path("personas") / f"{persona_id(answers.name)}.toml"
    out = Path(args.output) if args.output else default
    if out.exists() and not args.force:  # checked again when writing; this saves a model call
        raise ConfigError(f"{out} already exists (use --force to overwrite)")
    provider = resolve_model(args.model, base_url=args.base_url)
    persona = asyncio.run(write_persona_async(answers, provider))
    text = tomli_w.dumps(persona_toml(persona))
    try:  # what we write must load with the persona loader: check before touching the disk
        Persona.model_validate({"id": out.stem, **tomllib.loads(text)})
    except ValueError as exc:
        raise PersonaError(f"the generated persona does not validate: {exc}") from None
    write_output(out, text, force=args.force)
    print(f"wrote {out} ({persona.name}: {persona.attachment_style} attachment, "
          f"{len(persona.if_then_rules)} rules)")
    return 0


def _default_model() -> str:
    from engine.llm.registry import default_model

    return default_model()


# -- interactive questions ------------------------------------------------------------------------


def _ask(prompt: str, parse: Callable[[str], T]) -> T:
    """Ask until ``parse`` accepts the answer; end of input stops the intake."""
    from engine.errors import ConfigError

    while True:
        try:
            raw = input(prompt)
        except EOFError:
            raise ConfigError("input ended before the questionnaire was finished") from None
        try:
            return parse(raw.strip())
        except ValueError as exc:
            print(f"  {exc}")


def _text(low: int, high: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not low <= len(raw) <= high:
            raise ValueError(f"please answer in {low} to {high} characters")
        return raw
    return parse


def _int(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"please answer with a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"please answer with a whole number from {low} to {high}")
        return value
    return parse


def _choice(options: list[str]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.isdigit() and 1 <= int(raw) <= len(options):
            return options[int(raw) - 1]
        if raw.lower() in options:
            return raw.lower()
        raise ValueError(f"please answer with a number from 1 to {len(options)}")
    return parse


def _list(low: int, high: int) -> Callable[[str], list[str]]:
    def parse(raw: str) -> list[str]:
        items = [i.strip() for i in raw.split(",") if i.strip()]
        if not low <= len(items) <= high:
            raise ValueError(f"please give {low} to {high}, separated by commas")
        return items
    return parse


def ask_answers() -> Any:
    """Ask every question on the terminal; returns validated IntakeAnswers."""
    from engine.sim.intake import (
        ATTACHMENT_ITEMS,
        CONFLICT_STYLES,
        LIKERT,
        LOVE_LANGUAGES,
        PERSONALITY_ITEMS,
        VALUES_COUNT,
        parse_answers,
    )

    low, high = LIKERT
    data: dict[str, Any] = {
        "name": _ask("Name: ", _text(1, 80)),
        "age": _ask("Age: ", _int(18, 120)),
        "pronouns": _ask("Pronouns (e.g. she/her): ", _text(1, 30)),
        "occupation": _ask("Occupation: ", _text(1, 120)),
        "self_description": _ask(
            "Describe yourself in a few sentences, in your own words:\n> ", _text(20, 2000)
        ),
    }
    print(f"\nHow much do you agree? {low} = disagree strongly … {high} = agree strongly")
    data["attachment"] = [
        _ask(f"  {text} ", _int(low, high)) for text, _, _ in ATTACHMENT_ITEMS
    ]
    print(f"\nI see myself as … ({low} = disagree strongly … {high} = agree strongly)")
    data["personality"] = [
        _ask(f"  {text}: ", _int(low, high)) for text, _, _ in PERSONALITY_ITEMS
    ]
    print("\nWhen you and a partner disagree, you usually:")
    keys = list(CONFLICT_STYLES)
    for number, key in enumerate(keys, 1):
        print(f"  {number}. {CONFLICT_STYLES[key]}")
    data["conflict_style"] = _ask("Choice: ", _choice(keys))
    print("\nYou feel most loved through:")
    for number, language in enumerate(LOVE_LANGUAGES, 1):
        print(f"  {number}. {language}")
    data["love_language"] = _ask("Choice: ", _choice(list(LOVE_LANGUAGES)))
    data["values"] = _ask(
        f"\nWhat you value most ({VALUES_COUNT[0]}-{VALUES_COUNT[1]} words, commas between): ",
        _list(*VALUES_COUNT),
    )
    memories = _ask(
        "A memory or two that shaped how you love (optional; separate with ' | '):\n> ",
        lambda raw: [m.strip() for m in raw.split("|") if m.strip()],
    )
    if memories:
        data["memories"] = memories
    return parse_answers(data, "your answers")
