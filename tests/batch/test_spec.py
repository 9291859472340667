"""Batch specs: validation messages, expansion, loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.batch.spec import BatchSpec, load_batch, spec_from_dict
from engine.errors import ConfigError
from engine.sim.sources import find_batch

REPO = Path(__file__).resolve().parents[2]


def test_expand_is_deterministic_and_pairs_by_mode() -> None:
    spec = BatchSpec(personas=["aiko-tanaka", "Kwame", "personas/jun-park.toml"], replicates=2)
    plans = spec.expand()
    assert [p.sim_id for p in plans] == [f"s{i:04d}" for i in range(1, 7)]
    assert plans == spec.expand()
    assert len({p.seed for p in plans}) == 6
    both = BatchSpec(personas=["aiko-tanaka", "kwame-asante"], pairing="both_orders").expand()
    assert [(p.name_a, p.name_b) for p in both] == [
        ("Aiko Tanaka", "Kwame Asante"), ("Kwame Asante", "Aiko Tanaka")]
    explicit = BatchSpec(pairing="explicit", pairs=[("Noor", "Mateus")]).expand()
    assert [(p.name_a.split()[0], p.name_b.split()[0]) for p in explicit] == [("Noor", "Mateus")]
    # A seed depends on the pair and replicate, not on the position in the batch.
    bigger = BatchSpec(personas=["aiko-tanaka", "Kwame", "jun-park", "hana-novak"], replicates=2)
    assert {(p.name_a, p.name_b, p.replicate): p.seed for p in plans}.items() <= {
        (p.name_a, p.name_b, p.replicate): p.seed for p in bigger.expand()}.items()


def test_all_and_glob() -> None:
    n = len(list((REPO / "personas").glob("*.toml")))
    assert len(BatchSpec().expand()) == n * (n - 1) // 2
    assert len(BatchSpec(personas="personas/*.toml").expand()) == n * (n - 1) // 2
    two = BatchSpec(scenes=3, beats=2, personas=["aiko-tanaka", "jun-park"])
    # per scene: setup, 2 perspectives, 2 beats × 5, summary, state, 2 reflections, 2 commitments;
    # 2 transitions, the after-action report, 2 identity appraisals
    assert two.estimated_calls() == 3 * 19 + 2 + 1 + 2


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"scenes": 0}, "scenes: Input should be greater than or equal to 1"),
        ({"beats": 99}, "beats: Input should be less than or equal to 20"),
        ({"pairing": "random"}, "pairing: Input should be"),
        ({"colour": "red"}, "colour: unknown field"),
        ({"plan": ["no-such-turning-point"]}, "plan: unknown turning point(s): no-such"),
        ({"plan": ["first-date"], "scenes": 3}, "scenes (3) and the plan's length (1) differ"),
        ({"pairing": "explicit"}, "needs pairs"),
        ({"pairs": [["a", "b"]]}, "pairs is only used with pairing = 'explicit'"),
        ({"sim": {"latency": 1, "bogus": 2}}, "sim: unknown simulator options: bogus"),
        ({"concurrency": 0}, "concurrency: Input should be greater than or equal to 1"),
    ],
)
def test_invalid_specs_name_the_field(data: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        spec_from_dict(data, "x.toml")
    assert str(err.value).startswith("x.toml: ")
    assert needle in str(err.value)


def test_plan_sets_scene_count() -> None:
    assert BatchSpec(plan=["first-date", "making-up"]).scenes == 2


def test_load_batch_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\nscenes = [")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_batch(bad)
    with pytest.raises(ConfigError, match="no such batch file"):
        load_batch(tmp_path / "missing.toml")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("personas = ['aiko-tanaka', 'nobody-at-all']\n")
    with pytest.raises(ConfigError, match=r"unknown\.toml: personas: unknown persona 'nobody"):
        load_batch(unknown)
    one = tmp_path / "one.toml"
    one.write_text("personas = ['aiko-tanaka']\n")
    with pytest.raises(ConfigError, match="at least two personas"):
        load_batch(one)


def test_example_batches_load() -> None:
    for path in sorted((REPO / "personas" / "batches").glob("*.toml")):
        spec = load_batch(path)
        assert spec.expand()
    demo = load_batch(REPO / "personas" / "batches" / "demo.toml")
    assert 8 <= len(demo.expand()) <= 16 and demo.model == "sim" and demo.sim.get("malformed")


def test_with_overrides_one_rule_for_sim_options() -> None:
    demo = load_batch(find_batch("demo"))
    assert demo.sim  # the demo batch sets simulator latency and faults
    assert demo.with_overrides() is demo  # nothing given: nothing changes
    same = demo.with_overrides(seed=5, model=None, base_url=None)
    assert same.seed == 5 and same.sim == demo.sim  # still the simulator: options stay
    assert demo.with_overrides(model="sim").sim == demo.sim
    http = demo.with_overrides(model="openai-compatible/m", base_url="http://127.0.0.1:9/v1")
    assert http.model == "openai-compatible/m" and http.sim == {}
    with pytest.raises(ConfigError, match="command line: concurrency"):
        demo.with_overrides(concurrency=0)


def test_shipped_batches_by_name() -> None:
    assert find_batch("demo").name == "demo.toml"
    assert find_batch("explicit-pairs") == find_batch("explicit_pairs")
    assert find_batch("some/where.toml") == Path("some/where.toml")  # paths pass through
    with pytest.raises(ConfigError, match="shipped: all_pairs"):
        find_batch("nonesuch")
