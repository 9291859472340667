"""The simulator's latent model of a couple: what moves satisfaction, alternatives and investment.

Everything here is a pure function of a request's context and the simulation seed, so the
simulator stays stateless between calls (it is also served over HTTP) and replays exactly.

- **Couple draw.** From (seed, the two personas) the couple gets a ``bond`` (the personas' fit plus
  a couple-level random effect), a ``climate`` (how readily this couple reaches for repair rather
  than attack), a network approval and, per partner, a satisfaction set point, a reactivity, a
  base level of alternatives and of investment. Replicates of a pair (different seeds) differ.
- **Scene impact.** A scene moves each partner's satisfaction by its valence and strain, by the
  approaches both partners chose (what the partner did weighs most; attachment shapes it:
  anxious partners are hurt most by withdrawal and deflection, avoidant ones by escalation and
  pressure), by the emotions felt, and by scene-level noise.
- **Rusbult.** Satisfaction reverts slowly to the set point; alternatives rise as satisfaction
  falls and when the scene puts rivals in view; investment grows with shared life and is lost
  after damaging scenes; commitment = 0.55·satisfaction + 0.2·(10 − alternatives) + 0.25·investment.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engine.sim.traits import Traits, compatibility, traits_of
from engine.sim.turning_points import TurningPoint, library

WARM = ("repair", "affirm")
HOSTILE = ("escalate", "withdraw")
APPROACHES = ("repair", "assert", "withdraw", "escalate", "deflect", "affirm")

# How one partner's approach lands on the other, by the receiver's attachment style.
_RECEIVED: dict[str, dict[str, float]] = {
    "repair": {"secure": 0.6, "anxious": 0.7, "avoidant": 0.45, "fearful": 0.55},
    "affirm": {"secure": 0.5, "anxious": 0.75, "avoidant": 0.3, "fearful": 0.5},
    "assert": {"secure": 0.15, "anxious": -0.1, "avoidant": -0.4, "fearful": -0.25},
    "withdraw": {"secure": -0.35, "anxious": -0.95, "avoidant": -0.15, "fearful": -0.7},
    "deflect": {"secure": -0.15, "anxious": -0.45, "avoidant": 0.0, "fearful": -0.3},
    "escalate": {"secure": -0.75, "anxious": -0.8, "avoidant": -1.15, "fearful": -1.05},
}
# What choosing an approach does to the chooser's own satisfaction (smaller: doing, not hearing).
_OWN = {"repair": 0.2, "affirm": 0.15, "assert": 0.05, "withdraw": -0.1, "deflect": -0.05,
        "escalate": -0.3}
_ATTACHMENT_SET_POINT = {"secure": 0.7, "anxious": 0.2, "avoidant": -0.6, "fearful": -0.5}
RIVAL_TAGS = frozenset({"alternatives", "jealousy", "dating", "trust", "privacy"})
TIE_TAGS = frozenset({"home", "constraints", "marriage", "children", "money", "future"})


@dataclass(frozen=True, slots=True)
class Partner:
    name: str
    traits: Traits
    set_point: float  # the satisfaction this partner drifts back to with this partner
    reactivity: float  # how hard scenes land (neuroticism and a personal draw)
    alternatives: float  # base quality of alternatives
    investment: float  # investment at the start
    warmth: float  # personal lean towards warm approaches in this couple


@dataclass(frozen=True, slots=True)
class Couple:
    fit: float  # the personas' compatibility (traits only)
    bond: float  # fit plus the couple-level random effect
    climate: float  # the couple's habitual lean towards repair (+) or attack (−)
    network: float  # friends' and family's approval, 0..1
    partners: dict[str, Partner]

    def partner(self, name: str) -> Partner:
        return self.partners[name]


def _rng(*parts: object) -> random.Random:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest))


def couple_of(seed: int | None, x: dict[str, Any], y: dict[str, Any]) -> Couple:
    """The latent couple for two profiles (order does not matter) under ``seed``."""
    kx = (str(x.get("name", "")), traits_of(x))
    ky = (str(y.get("name", "")), traits_of(y))
    first, second = (kx, ky) if kx[0] <= ky[0] else (ky, kx)
    return _couple(seed or 0, *first, *second)


@lru_cache(maxsize=4096)
def _couple(seed: int, n1: str, t1: Traits, n2: str, t2: Traits) -> Couple:
    fit = compatibility(t1, t2)
    r = _rng("couple", seed, n1, n2)
    bond = fit + r.gauss(0.0, 0.14)
    climate = 1.5 * (bond - fit) + r.gauss(0.0, 0.15)
    network = min(1.0, max(0.0, 0.35 + 0.6 * bond + r.gauss(0.0, 0.2)))
    partners = {}
    for name, t in ((n1, t1), (n2, t2)):
        partners[name] = Partner(
            name=name,
            traits=t,
            set_point=5.6 + 8.0 * (bond - 0.5) + _ATTACHMENT_SET_POINT[t.attachment]
            + r.gauss(0.0, 0.6),
            reactivity=max(0.4, 0.65 + 0.7 * t.neuroticism + r.gauss(0.0, 0.12)),
            alternatives=min(8.0, max(1.0, 3.0 + 3.0 * t.extraversion + 4.0 * (0.55 - bond)
                                      + r.gauss(0.0, 0.7))),
            investment=min(6.0, max(1.0, 1.8 + 2.2 * t.conscientiousness + r.gauss(0.0, 0.5))),
            warmth=0.35 * t.agreeableness + r.gauss(0.0, 0.1),
        )
    return Couple(fit, bond, climate, network, partners)


def turning_point_of(ctx: dict[str, Any]) -> TurningPoint | None:
    tp = ctx.get("turning_point") or {}
    return library().get(str(tp.get("id", "")))


def scene_pressure(tp: TurningPoint | None) -> tuple[float, str, frozenset[str]]:
    """(strain, valence, tags) of a scene; an unknown turning point is a middling, mixed one."""
    if tp is None:
        return 0.5, "mixed", frozenset()
    return tp.strain, tp.valence, frozenset(tp.tags)


def received(approach: str | None, attachment: str) -> float:
    return _RECEIVED[approach][attachment] if approach in _RECEIVED else 0.0


def valence_pull(valence: str, strain: float) -> float:
    """What the event itself does to satisfaction, before anyone speaks."""
    if valence == "positive":
        return 0.35 + 0.5 * (1 - strain)
    if valence == "negative":
        return -(0.35 + 1.5 * strain)
    return 0.1 - 0.7 * strain


def scene_impact(
    me: Partner, turns: list[tuple[str, str | None]], strain: float, valence: str,
    emotions: dict[str, float] | None,
) -> float:
    """How this scene moves ``me``'s satisfaction, noise aside. ``turns`` are (actor, approach)."""
    amplify = 0.75 + 0.7 * strain  # stress tests: what is said under strain counts for more
    said = 0.0
    for actor, approach in turns:
        if approach is None:
            continue
        if actor == me.name:
            said += _OWN.get(approach, 0.0)
        else:
            said += received(approach, me.traits.attachment)
    impact = valence_pull(valence, strain) * me.reactivity + said * amplify
    if emotions:
        good = (emotions.get("joy", 0.4) + emotions.get("acceptance", 0.4)) / 2
        bad = (emotions.get("anger", 0.2) + emotions.get("sadness", 0.2)
               + emotions.get("fear", 0.2)) / 3
        impact += 0.8 * (good - bad - 0.15)
    return impact


@dataclass(frozen=True, slots=True)
class Scores:
    satisfaction: float
    alternatives: float
    investment: float
    commitment: float
    impact: float
    lost: float  # investment lost this scene


def clamp10(value: float) -> float:
    return max(0.0, min(10.0, value))


def rusbult(
    me: Partner, previous: dict[str, Any] | None, previous_scores: list[int], impact: float,
    noise: float, strain: float, valence: str, tags: frozenset[str],
) -> Scores:
    """The next satisfaction, alternatives, investment and commitment of ``me``."""
    if previous:
        s0 = float(previous.get("satisfaction", me.set_point))
        q0 = float(previous.get("quality_of_alternatives", me.alternatives))
        i0 = float(previous.get("investment", me.investment))
    elif previous_scores:  # an older log without the components: start from the last score
        s0, q0 = float(previous_scores[-1]), me.alternatives
        i0 = me.investment + 0.3 * len(previous_scores)
    else:  # a new relationship starts hopeful, then drifts towards the set point
        s0, q0, i0 = max(me.set_point, 5.0) + 1.0, me.alternatives, me.investment
    shock = impact + noise
    s = clamp10(s0 + shock + 0.2 * (me.set_point - s0))
    rivals = 1.2 * strain if tags & RIVAL_TAGS and valence != "positive" else 0.0
    q_target = me.alternatives + 0.4 * (5.5 - s) + rivals
    q = clamp10(q0 + 0.35 * (q_target - q0) - 0.25 * shock)
    growth = 0.2 + (0.5 if tags & TIE_TAGS and shock > 0 else 0.0) + (0.15 if shock > 0 else 0.0)
    lost = 0.0
    if shock < -0.9:  # a damaging scene: shared plans are shelved, trust spent
        lost = 0.7 * (-shock - 0.9) + (0.8 if "ending" in tags else 0.0)
    i = clamp10(i0 + growth - lost)
    c = clamp10(0.55 * s + 0.2 * (10 - q) + 0.25 * i)
    return Scores(s, q, i, c, shock, lost)


def turn_approaches(
    transcript: list[dict[str, Any]], lookup: dict[str, str]
) -> list[tuple[str, str | None]]:
    """(actor, approach) per turn: the approach tag when present, else read from the behaviour
    the simulator wrote (``lookup``: behaviour phrase → approach)."""
    out: list[tuple[str, str | None]] = []
    for turn in transcript:
        actor = str(turn.get("actor", ""))
        tag = turn.get("approach")
        if tag in _RECEIVED:
            out.append((actor, str(tag)))
            continue
        behaviour = str(turn.get("behaviour", ""))
        phrase = behaviour[len(actor):].strip().rstrip(".") if behaviour.startswith(actor) else ""
        out.append((actor, lookup.get(phrase)))
    return out
