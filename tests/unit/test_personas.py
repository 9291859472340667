import json
from pathlib import Path

import pytest

from engine.errors import PersonaError
from engine.sim.personas import SYNOPSIS_WORDS, find_persona, list_personas, load_persona
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


def _user_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "aiko-tanaka.toml").write_text('name = "Aiko Mine"\nsummary = "Mine."\n')
    (folder / "zoe-new.toml").write_text('name = "Zoe New"\nsummary = "Only here."\n')
    return folder


def test_user_personas_shadow_shipped_by_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.batch.spec import BatchSpec
    from engine.sim.sources import SHIPPED, persona_files, personas_from, shipped_dir

    folder = _user_dir(tmp_path)
    monkeypatch.chdir(tmp_path)  # no ./personas here
    assert {origin for _, origin in persona_files().values()} == {SHIPPED}
    with personas_from(folder):
        files = persona_files()
        assert files["aiko-tanaka"] == (folder / "aiko-tanaka.toml", str(folder))
        assert files["kwame-asante"][1] == SHIPPED and files["zoe-new"][1] == str(folder)
        assert find_persona("aiko-tanaka").name == "Aiko Mine"
        assert find_persona("Zoe").name == "Zoe New"
        plans = BatchSpec(personas=["aiko-tanaka", "kwame"]).expand()
        assert plans[0].persona_a == str((folder / "aiko-tanaka.toml").resolve())
        assert plans[0].persona_b == str((shipped_dir() / "kwame-asante.toml").resolve())
    monkeypatch.setenv("RELSIM_PERSONAS", str(folder))
    assert find_persona("aiko-tanaka").name == "Aiko Mine"
    monkeypatch.delenv("RELSIM_PERSONAS")
    (tmp_path / "personas").symlink_to(folder)  # ./personas
    assert persona_files()["zoe-new"][1] == "./personas"


def test_personas_command_lists_origins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.cli import main

    folder = _user_dir(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["personas", "--personas", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    aiko = next(line for line in lines if "aiko-tanaka" in line)
    assert "Aiko Mine" in aiko and str(folder) in aiko
    kwame = next(line for line in lines if "kwame-asante" in line)
    assert "Kwame Asante" in kwame and "secure" in kwame and "shipped" in kwame
    assert main(["--personas", str(tmp_path / "missing"), "personas"]) == 2


def test_shipped_personas_carry_a_synopsis_and_rules() -> None:
    for persona in list_personas():
        assert persona.synopsis is not None, persona.id
        assert SYNOPSIS_WORDS[0] <= len(persona.synopsis.split()) <= SYNOPSIS_WORDS[1]
        assert persona.name.split()[0] in persona.synopsis  # written for this persona
        assert 5 <= len(persona.if_then_rules) <= 7
        assert "synopsis" in persona.profile() and "if_then_rules" in persona.profile()
    synopses = [p.synopsis for p in list_personas()]
    assert len(set(synopses)) == len(synopses)


SECOND_PERSON = "You " + " ".join(["you listen and you wait"] * 45)  # 226 words
RULES = [f"If my partner does thing {n}, I respond in kind." for n in range(5)]


def _persona_file(tmp_path: Path, **fields: object) -> Path:
    lines = ['name = "X"', 'summary = "s"']
    for key, value in fields.items():
        lines.append(f"{key} = {json.dumps(value)}")
    path = tmp_path / "p.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_synopsis_and_rules_validate(tmp_path: Path) -> None:
    ok = load_persona(_persona_file(tmp_path, synopsis=SECOND_PERSON, if_then_rules=RULES))
    assert ok.if_then_rules == RULES
    assert load_persona(_persona_file(tmp_path)).synopsis is None  # both are optional
    cases = [
        ({"synopsis": "You are brief."}, "synopsis: must be 200-300 words, got 3"),
        ({"synopsis": SECOND_PERSON * 2}, "must be 200-300 words, got 451"),
        ({"synopsis": "She " + "listens and waits " * 70}, "must be written in the second person"),
        ({"if_then_rules": RULES[:3]}, "if_then_rules: give 5-7 rules, got 3"),
        ({"if_then_rules": RULES * 2}, "give 5-7 rules, got 10"),
        ({"if_then_rules": [*RULES[:4], "When tired, I sleep."]},
         "rule 5 must read 'If …, I …'"),
        ({"if_then_rules": [*RULES[:4], "If tired, she sleeps."]}, "rule 5 must read"),
    ]
    for fields, needle in cases:
        with pytest.raises(PersonaError) as err:
            load_persona(_persona_file(tmp_path, **fields))
        assert "p.toml" in str(err.value) and needle in str(err.value), (fields, err.value)


def test_a_partner_sees_the_outward_profile_not_the_private_intake() -> None:
    from engine import RelationshipAgent, SceneMaster

    aiko = RelationshipAgent.from_persona("aiko-tanaka")
    kwame = RelationshipAgent.from_persona("kwame-asante")
    sm = SceneMaster(aiko, kwame)
    own = aiko._context()
    assert own["self"]["synopsis"] and own["self"]["if_then_rules"]  # her own prompts
    assert "synopsis" not in own["partner_profile"]
    assert "if_then_rules" not in own["partner_profile"]
    assert own["partner_profile"]["attachment_style"] == "secure"  # the outward facts stay
    assert all("synopsis" not in p for p in sm._pair_context().values())


def test_agents_playing_one_persona_share_its_profiles_and_renamed_ones_do_not() -> None:
    import gc

    from engine import RelationshipAgent
    from engine.sim import agent as agent_module

    persona = find_persona("aiko-tanaka")
    first = RelationshipAgent(persona.name, persona)
    second = RelationshipAgent(persona.name, persona)
    assert first.profile() is second.profile()
    assert first.profile(inner=False) is second.profile(inner=False)
    assert first.profile() == persona.profile()
    assert first.profile(inner=False) == persona.profile(inner=False)
    # A partner renamed for a simulation plays a copy of the persona: its own name in its prompts.
    renamed = RelationshipAgent("Aiko", persona)
    assert renamed.profile()["name"] == "Aiko" and first.profile()["name"] == persona.name
    # The shared profiles go with the last agent playing that copy.
    key = id(renamed.persona)
    assert key in agent_module._PROFILES
    del renamed
    gc.collect()
    assert key not in agent_module._PROFILES
