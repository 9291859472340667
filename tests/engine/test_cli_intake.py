"""`relsim persona new` and `relsim scenarios import/list` end to end (on the simulator)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from engine.batch.reader import RunReader
from engine.batch.runner import BatchRunner
from engine.batch.spec import BatchSpec
from engine.cli import main
from engine.events import SceneStarted
from engine.sim.personas import SYNOPSIS_WORDS, load_persona

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "personas" / "intake" / "example-answers.toml"
FIXTURE = ROOT / "tests" / "fixtures" / "turning_points_sample.json"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_persona_new_from_answers_on_sim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "robin.toml"
    code, stdout, err = run_cli(capsys, "persona", "new", "--answers", str(EXAMPLE), "-o", str(out))
    assert code == 0, err
    assert "wrote" in stdout
    persona = load_persona(out)
    answers = tomllib.loads(EXAMPLE.read_text("utf-8"))
    assert persona.name == answers["name"] and persona.id == "robin"
    assert persona.attachment_style == "anxious"  # high anxiety items, low avoidance items
    assert persona.traits is not None and persona.traits.conscientiousness > 0.7
    assert persona.synopsis is not None
    assert SYNOPSIS_WORDS[0] <= len(persona.synopsis.split()) <= SYNOPSIS_WORDS[1]
    assert "Robin" in persona.synopsis and "honesty" in persona.synopsis
    assert 5 <= len(persona.if_then_rules) <= 7
    assert not list(tmp_path.glob(".*.tmp"))
    # refuses to overwrite, then overwrites with --force
    code, _, err = run_cli(capsys, "persona", "new", "--answers", str(EXAMPLE), "-o", str(out))
    assert code == 2 and "already exists (use --force" in err
    code, _, err = run_cli(
        capsys, "persona", "new", "--answers", str(EXAMPLE), "-o", str(out), "--force"
    )
    assert code == 0, err


def test_different_answers_give_different_personas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE.read_text("utf-8")
    other = (
        text.replace("Robin Hale", "Sam Ortiz")
        .replace("attachment = [5, 6, 2, 3, 4, 3]", "attachment = [2, 2, 6, 6, 2, 6]")
        .replace('conflict_style = "pursue"', 'conflict_style = "withdraw"')
    )
    answers = tmp_path / "sam.toml"
    answers.write_text(other, "utf-8")
    code, _, err = run_cli(
        capsys, "persona", "new", "--answers", str(answers), "-o", str(tmp_path / "sam-out.toml")
    )
    assert code == 0, err
    sam = load_persona(tmp_path / "sam-out.toml")
    code, _, _ = run_cli(
        capsys, "persona", "new", "--answers", str(EXAMPLE), "-o", str(tmp_path / "robin.toml")
    )
    robin = load_persona(tmp_path / "robin.toml")
    assert sam.attachment_style == "avoidant" and robin.attachment_style == "anxious"
    assert sam.synopsis != robin.synopsis and sam.if_then_rules != robin.if_then_rules
    assert "Sam" in sam.synopsis


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (("attachment = [5, 6, 2, 3, 4, 3]", "attachment = [5, 6, 2]"), "attachment: List should"),
        (("attachment = [5, 6, 2, 3, 4, 3]", "attachment = [5, 6, 2, 3, 4, 9]"),
         "attachment: item 6 must be from 1 to 7"),
        (('love_language = "quality time"', 'love_language = "money"'), "love_language"),
        (("age = 31", "age = 12"), "age: Input should be greater than or equal to 18"),
        (('name = "Robin Hale"', 'nickname = "Robin"'), "name: Field required"),
        (("age = 31", "age = "), "not valid TOML"),
    ],
)
def test_bad_answers_file_gives_one_message_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: tuple[str, str], needle: str
) -> None:
    bad = tmp_path / "answers.toml"
    bad.write_text(EXAMPLE.read_text("utf-8").replace(*edit), "utf-8")
    out = tmp_path / "out.toml"
    code, _, err = run_cli(capsys, "persona", "new", "--answers", str(bad), "-o", str(out))
    assert code == 2
    assert needle in err and "answers.toml" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_missing_answers_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "persona", "new", "--answers", str(tmp_path / "nope.toml"))
    assert code == 2 and "no such answers file" in err


def test_interactive_intake_reprompts_bad_answers(tmp_path: Path) -> None:
    out = tmp_path / "p.toml"
    lines = [
        "Morgan Lee", "seventeen", "17", "40", "he/him", "Carpenter",
        "too short",  # re-asked: a self-description needs 20 characters
        "I build furniture and keep my feelings in the workshop.",
        "8", "3", "3", "5", "6", "3", "6",  # 8 is out of range: re-asked
        "5", "3", "6", "2", "4", "3", "5", "2", "6", "3",
        "9", "2",  # conflict style: 9 is not a choice
        "3",  # acts of service
        "craft", "craft, family, quiet",  # one value is too few
        "",  # no memories
    ]
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "persona", "new", "-o", str(out)],
        input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("please answer") >= 4 and "please give 3 to 5" in result.stdout
    persona = load_persona(out)
    assert persona.age == 40 and persona.love_language == "acts of service"
    assert persona.attachment_style == "avoidant"
    assert persona.values == ["craft", "family", "quiet"] and persona.memories == []


def test_interactive_intake_stops_cleanly_at_end_of_input(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "persona", "new"],
        input="Morgan Lee\n40\n", capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "input ended before the questionnaire was finished" in result.stderr
    assert not (tmp_path / "personas").exists()


def test_scenarios_import_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine.toml"
    code, stdout, err = run_cli(capsys, "scenarios", "import", str(FIXTURE), "-o", str(out))
    assert code == 0, err
    assert "wrote 5 turning points" in stdout
    code, stdout, err = run_cli(capsys, "scenarios", "list", "--library", str(out))
    assert code == 0, err
    assert "the-lighthouse-weekend-2" in stdout and "5 turning points" in stdout
    code, stdout, _ = run_cli(capsys, "scenarios", "list", "--category", "conflict and repair")
    assert code == 0 and "Conflict & Repair" in stdout and "Initial Formation" not in stdout
    code, _, err = run_cli(capsys, "scenarios", "list", "--category", "romance")
    assert code == 2 and "unknown category" in err
    code, _, err = run_cli(capsys, "scenarios", "import", str(FIXTURE), "-o", str(out))
    assert code == 2 and "already exists" in err


def test_scenarios_import_bad_input_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"turning_point": "X", "category": "Nope", "scenario": "s"}]')
    code, _, err = run_cli(capsys, "scenarios", "import", str(bad))
    assert code == 2 and "entry 1 ('X'): unknown category 'Nope'" in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == [bad]
    code, _, err = run_cli(capsys, "scenarios", "import", str(tmp_path / "none.json"))
    assert code == 2 and "no such file" in err


async def test_batch_key_scenarios_plays_the_user_library(tmp_path: Path) -> None:
    lib = tmp_path / "mine.toml"
    assert main(["scenarios", "import", str(FIXTURE), "-o", str(lib)]) == 0
    spec = BatchSpec(
        name="t", personas=["aiko-tanaka", "kwame-asante"], scenes=2, beats=1,
        plan=["keys-exchanged", "night-shift-swap"], scenarios=str(lib),
        out=str(tmp_path / "logs"),
    )
    runner = BatchRunner(spec)
    try:
        await runner.run()
    finally:
        await runner.aclose()
    played = [e.turning_point.id for e in RunReader(runner.run_dir).events("s0001")
              if isinstance(e, SceneStarted)]
    assert played == ["keys-exchanged", "night-shift-swap"]
    with pytest.raises(ValueError, match="unknown turning point"):
        BatchSpec(name="t", personas="all", scenes=1, plan=["keys-exchanged"])
    with pytest.raises(ValueError, match="no such scenario library"):
        BatchSpec(name="t", personas="all", scenarios=str(tmp_path / "none.toml"))
    # without a plan, scenes are drawn from the shipped library plus the user's
    assert BatchSpec(name="t", personas="all", scenarios=str(lib)).scenarios == str(lib)


