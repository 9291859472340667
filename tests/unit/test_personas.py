from pathlib import Path

import pytest

from engine.errors import PersonaError
from engine.sim.personas import find_persona, list_personas, load_persona
from engine.sim.traits import traits_of


def test_shipped_personas_are_many_and_varied() -> None:
    personas = list_personas()
    assert len(personas) >= 12
    assert {p.attachment_style for p in personas} == {"secure", "anxious", "avoidant", "fearful"}
    assert len({p.name.split()[0] for p in personas}) == len(personas)


def test_find_by_id_first_name_and_path() -> None:
    by_id = find_persona("aiko-tanaka")
    assert find_persona("Aiko").name == by_id.name
    assert find_persona(str(Path("personas") / "aiko-tanaka.toml")).name == by_id.name


def test_unknown_persona() -> None:
    with pytest.raises(PersonaError, match="unknown persona 'zed'"):
        find_persona("zed")


def test_malformed_toml_names_file_and_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "X"\nsummary = \n')
    with pytest.raises(PersonaError, match=r"bad\.toml: not valid TOML"):
        load_persona(bad)


def test_invalid_fields_name_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "odd.toml"
    bad.write_text(
        'name = "X"\nsummary = "s"\nattachment_style = "clingy"\n[traits]\nopenness = 2\n'
    )
    with pytest.raises(PersonaError) as err:
        load_persona(bad)
    message = str(err.value)
    assert "odd.toml" in message and "attachment_style" in message and "traits" in message


def test_free_text_personas_are_read_by_keyword() -> None:
    intro = traits_of(
        {"name": "Alice", "summary": "A thoughtful introvert who values deep conversations."}
    )
    extro = traits_of({"name": "Bob", "summary": "An outgoing extrovert who loves socializing."})
    assert intro.extraversion < 0.3 < 0.8 <= extro.extraversion
