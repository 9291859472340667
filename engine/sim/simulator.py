"""The built-in persona simulator: schema-valid replies written without any LLM.

Behind every writer is one small latent model of the couple (``engine.sim.couple``): drawn from
the simulation seed and the two personas, moved scene by scene by the turning point's strain and
valence and by the approaches the partners choose. Writers read only the request's context (it
is also served over HTTP) plus the seed; ``rng`` (seeded from the seed and the request by the
provider) adds scene-level randomness, so the same seed always gives the same transcript.
``sim`` output is a behavioural stand-in for testing and demos, not a finding.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from statistics import fmean
from typing import Any

from engine.sim import phrases as P
from engine.sim.couple import (
    HOSTILE,
    WARM,
    Couple,
    Partner,
    couple_of,
    received,
    rusbult,
    scene_impact,
    scene_pressure,
    turn_approaches,
    turning_point_of,
    valence_pull,
)
from engine.sim.intake_writer import write_intake
from engine.sim.schemas import EMOTIONS
from engine.sim.traits import Traits, traits_of

LABEL = "SIMULATED — no LLM"
SEED_KEY = "__seed__"  # where write_reply puts the request's seed for the writers

Context = dict[str, Any]

OPENINGS = P.OPENINGS
# The seed's self-written options (purpose "choices"), each with the approach it expresses.
OPTIONS = [
    ("Open up honestly", "Say plainly what you feel, even if it is uncomfortable.", "assert"),
    ("Offer reassurance", "Tell them you are not going anywhere.", "affirm"),
    ("Ask a gentle question", "Find out what is really going on for them.", "repair"),
    ("Lighten the mood", "Make a joke to take the edge off.", "deflect"),
    ("Push back", "Say you disagree and why.", "escalate"),
    ("Change the subject", "Steer away from this for now.", "deflect"),
    ("Ask for space", "Say you need time to think before going further.", "withdraw"),
    ("Apologise", "Own your part and ask what they need.", "repair"),
]


# -- reading the context -------------------------------------------------------------------------


def _topic(ctx: Context) -> str:
    tp = ctx.get("turning_point") or {}
    return str(tp.get("title", "all of this")).lower()


def _names(ctx: Context) -> tuple[str, str]:
    return str(ctx["a"]["name"]), str(ctx["b"]["name"])


def _seed(ctx: Context) -> int:
    return int(ctx.get(SEED_KEY) or 0)


def _pair(ctx: Context) -> Couple:
    if "a" in ctx and "b" in ctx:
        return couple_of(_seed(ctx), ctx["a"], ctx["b"])
    partner = ctx.get("partner_profile") or {"name": str(ctx.get("partner", "partner"))}
    return couple_of(_seed(ctx), ctx["self"], partner)


def _me(ctx: Context) -> Partner:
    return _pair(ctx).partner(str(ctx["self"].get("name", "")))


def _partner_profile(ctx: Context) -> dict[str, Any]:
    return ctx.get("partner_profile") or {"name": str(ctx.get("partner", "your partner"))}


def _turns(ctx: Context) -> list[tuple[str, str | None]]:
    return turn_approaches(ctx.get("transcript") or [], P.BEHAVIOUR_LOOKUP)


def _last_by_other(ctx: Context, me: str) -> str | None:
    """The approach of the last turn, if the partner (not ``me``) took it."""
    turns = _turns(ctx)
    if turns and turns[-1][0] != me:
        return turns[-1][1]
    return None


def _tone(approach: str | None) -> str:
    return "warm" if approach in WARM else "tense" if approach in (*HOSTILE, "deflect") else "calm"


def _fill(template: str, rng: random.Random, profile: dict[str, Any] | None = None,
          **words: str) -> str:
    """Fill a phrase's slots; persona slots ({value}, {love}) from ``profile``."""
    if profile is not None and "{value" in template:
        value = P.value_of(profile, rng)
        words.setdefault("value", value)
        words.setdefault("value_adj", P.value_adj(value))
    if profile is not None and "{love" in template:
        words.setdefault("love", P.love_of(profile))
    out = template.format_map(_Slots(words))
    return out[:1].upper() + out[1:]


class _Slots(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return {"value": "honesty", "value_adj": "honest", "love": "quality time",
                "topic": "all of this", "p": "you"}.get(key, key)


def _clip(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 2)


# -- scene staging ---------------------------------------------------------------------------


def _story_mood(ctx: Context) -> str | None:
    story = " ".join(str(s) for s in ctx.get("story_so_far") or [])[-400:]
    if any(e in story for e in ENDINGS["cold"]):
        return "hurt"
    if any(e in story for e in ENDINGS["warm"]):
        return "good"
    return None


def _goal(profile: dict[str, Any], other: str, mood: str | None, rng: random.Random) -> str:
    t = traits_of(profile)
    pool = P.GOALS[t.attachment] + (P.MOOD_GOALS[mood] if mood else [])
    return "Wants " + rng.choice(pool).format(p=P.first_name(other)) + "."


def _scene_setup(ctx: Context, rng: random.Random) -> dict[str, Any]:
    a, b = _names(ctx)
    mood = _story_mood(ctx)
    _, valence, _ = scene_pressure(turning_point_of(ctx))
    lead = {
        "positive": ["There is something to celebrate here, if they let it be one.",
                     "It could be a good day."],
        "negative": ["Neither of them wanted this conversation.",
                     "Both of them have been dreading this."],
        "mixed": ["It could go either way.", "Nobody knows yet what this will cost."],
    }[valence]
    opening = (f"{P.first_name(a)} and {P.first_name(b)}: {_topic(ctx)}. "
               f"{rng.choice(lead)} {rng.choice(P.OPENINGS)}")
    return {
        "setting": rng.choice(P.SETTINGS),
        "conflict": ctx["turning_point"]["scenario"],
        "goal_a": _goal(ctx["a"], b, mood, rng),
        "goal_b": _goal(ctx["b"], a, mood, rng),
        "opening": opening,
    }


def _perspective(ctx: Context, rng: random.Random) -> dict[str, Any]:
    me = ctx["self"]
    goal = str(ctx.get("goal") or "Wants to get through this.")
    style = P.style_of(me)
    rule = P.rule_of(me, rng)
    extra = (f" {P.first_name(me)} knows the pattern: {rule[:1].lower()}{rule[1:]}"
             if rule and rng.random() < 0.5 else f" {rng.choice(P.OPENINGS)}")
    return {"briefing": f"{P.first_name(me)} walks into {ctx.get('setting', 'the room')}, "
                        f"{style} as ever, aware of one thing: {goal[:1].lower()}{goal[1:]}{extra}"}


def _beat(ctx: Context, rng: random.Random) -> dict[str, Any]:
    a, b = _names(ctx)
    transcript = ctx.get("transcript") or []
    last = transcript[-1]["actor"] if transcript else None
    # Mostly alternate, sometimes let the same partner continue.
    if last is None:
        role = "A" if rng.random() < 0.5 else "B"
    else:
        last_role = "A" if last == a else "B"
        role = last_role if rng.random() < 0.2 else ("B" if last_role == "A" else "A")
    actor, other = (a, b) if role == "A" else (b, a)
    turns = _turns(ctx)
    tone = _tone(turns[-1][1]) if turns else "calm"
    profile = ctx["a"] if role == "A" else ctx["b"]
    text = rng.choice(P.NARRATION[tone]).format(
        actor=P.first_name(actor), other=P.first_name(other), topic=_topic(ctx),
        setting=ctx.get("setting", "the room"), style=P.style_of(profile),
    )
    return {"narration": text, "next_actor": role if rng.random() < 0.7 else actor}


def _choices(ctx: Context, rng: random.Random) -> dict[str, Any]:
    picks = rng.sample(OPTIONS, rng.choice((3, 4)))
    return {"options": [{"label": label, "description": desc} for label, desc, _ in picks]}


def _options(ctx: Context, rng: random.Random) -> dict[str, Any]:
    strain, _, _ = scene_pressure(turning_point_of(ctx))
    actor, a = str(ctx["actor"]), _names(ctx)[0]
    me, other = (ctx["a"], ctx["b"]) if actor == a else (ctx["b"], ctx["a"])
    # One warm and one hard option are always on the table, so the choice shows the partner.
    hard = "escalate" if rng.random() < 0.35 + 0.5 * strain else "withdraw"
    warm = rng.choice(WARM)
    rest = [ap for ap in ("repair", "affirm", "assert", "withdraw", "escalate", "deflect")
            if ap not in (hard, warm)]
    rng.shuffle(rest)
    picks = [warm, hard, *rest][: rng.choice((3, 4))]
    rng.shuffle(picks)
    words = {"p": P.first_name(other), "topic": _topic(ctx),
             "value": P.value_of(me, rng), "love": P.love_of(other)}
    return {"options": [{"text": _fill(rng.choice(P.FRAMED[ap]), rng, **words), "approach": ap}
                        for ap in picks]}


# -- a partner's moment ----------------------------------------------------------------------


def _affinity(approach: str, t: Traits) -> float:
    att = t.attachment
    return {
        "repair": 0.45 * t.agreeableness + 0.25 * t.openness + 0.15 * (att == "secure"),
        "affirm": 0.45 * t.agreeableness + 0.2 * t.extraversion + 0.15 * (att == "anxious"),
        "assert": 0.3 * (1 - t.agreeableness) + 0.3 * t.conscientiousness
        + 0.1 * (att == "secure") + 0.1,
        "withdraw": 0.3 * (1 - t.extraversion) + 0.35 * (att in ("avoidant", "fearful")) - 0.1,
        "escalate": 0.45 * t.neuroticism + 0.35 * (1 - t.agreeableness) - 0.25,
        "deflect": 0.35 * t.extraversion + 0.15 * (1 - t.conscientiousness) + 0.08,
    }.get(approach, 0.0)


def _leaning(approach: str, me: Partner, couple: Couple, heard: str | None, strain: float,
             emotions: dict[str, float]) -> float:
    """How much ``me`` leans towards ``approach`` right now (before noise)."""
    t = me.traits
    score = _affinity(approach, t)
    if approach in WARM:
        score += couple.climate + me.warmth - 0.18
        score += 0.35 * (emotions.get("joy", 0.3) + emotions.get("acceptance", 0.3)) / 2
        if heard in WARM:
            score += 0.25  # warmth invites warmth
    if approach in HOSTILE:
        score -= couple.climate
    if approach == "escalate":
        score += 0.5 * emotions.get("anger", 0.1) + 0.2 * strain * t.neuroticism
        if heard == "escalate":
            score += 0.35 * t.neuroticism  # attacks invite attacks
        if heard in ("withdraw", "deflect") and t.attachment in ("anxious", "fearful"):
            score += 0.3  # protest at distance
    if approach == "withdraw":
        score += 0.3 * emotions.get("sadness", 0.1)
        if t.attachment in ("avoidant", "fearful"):
            score += 0.3 * strain + 0.3 * emotions.get("fear", 0.1)
            if heard in ("escalate", "assert"):
                score += 0.3  # pressure sends the avoidant partner out of the room
    if approach == "assert" and heard in ("withdraw", "deflect"):
        score += 0.15
    return score


def _action(ctx: Context, rng: random.Random) -> dict[str, Any]:
    couple = _pair(ctx)
    me = couple.partner(str(ctx["self"]["name"]))
    options = ctx["options"]
    strain, _, _ = scene_pressure(turning_point_of(ctx))
    heard = _last_by_other(ctx, me.name)
    emotions = ctx.get("emotions") or {}
    scored = []
    for i, o in enumerate(options):
        ap = _approach_of_option(o)
        scored.append((_leaning(ap, me, couple, heard, strain, emotions) + rng.gauss(0, 0.3),
                       i, ap))
    _, index, approach = max(scored)
    line = _line(ctx, approach, heard, rng)
    return {
        "choice": index + 1,
        "inner_thoughts": _intention(ctx, approach, rng),
        "line": line,
        "behaviour": f"{ctx['self']['name']} {rng.choice(P.BEHAVIOUR[approach])}.",
    }


def _approach_of_option(option: dict[str, Any]) -> str:
    tag = option.get("approach")
    if tag in P.BEHAVIOUR:
        return str(tag)
    label = option.get("label")
    return next((ap for lb, _, ap in OPTIONS if lb == label), "assert")


def _line(ctx: Context, approach: str, heard: str | None, rng: random.Random) -> str:
    me, other = ctx["self"], _partner_profile(ctx)
    words = {"p": P.first_name(other), "topic": _topic(ctx)}
    parts = []
    if heard is not None and rng.random() < 0.7:
        mood = "warm" if approach in (*WARM, "assert") else "cold"
        parts.append(rng.choice(P.REACT[(heard, mood)]))
    parts.append(_fill(rng.choice(P.CORE[approach]), rng, me, **words))
    if rng.random() < 0.45:
        parts.append(_fill(rng.choice(P.TAIL[approach]), rng, me, love=P.love_of(other),
                           **words))
    return " ".join(parts)


def _intention(ctx: Context, approach: str, rng: random.Random) -> str:
    thought = rng.choice(P.INTENTIONS[approach])
    rule = P.rule_of(ctx["self"], rng)
    if rule and rng.random() < 0.3:
        return f"{thought} I know myself: {rule[:1].lower()}{rule[1:]}"
    return thought


def _appraisal(ctx: Context, rng: random.Random) -> dict[str, Any]:
    couple = _pair(ctx)
    me = couple.partner(str(ctx["self"]["name"]))
    t = me.traits
    strain, valence, _ = scene_pressure(turning_point_of(ctx))
    heard = _last_by_other(ctx, me.name)
    hit = received(heard, t.attachment)
    before = ctx.get("current_emotions") or {}
    carry = (
        (before.get("joy", 0.4) + before.get("acceptance", 0.4)) / 2
        - (before.get("anger", 0.2) + before.get("sadness", 0.2) + before.get("fear", 0.2)) / 3
        if before else 0.15
    )
    mood = (0.3 * valence_pull(valence, strain) + 0.6 * hit + 0.35 * carry
            + 0.8 * (couple.bond - 0.5) + rng.gauss(0, 0.12))
    emotions = {
        "joy": 0.35 + 0.45 * mood,
        "acceptance": 0.35 + 0.4 * mood + 0.15 * t.agreeableness,
        "fear": 0.1 + 0.45 * strain * t.neuroticism - 0.2 * mood
        + (0.2 if heard == "withdraw" and t.attachment in ("anxious", "fearful") else 0),
        "surprise": 0.12 + 0.25 * abs(hit) + 0.1 * strain,
        "sadness": 0.15 - 0.35 * mood + 0.1 * strain,
        "disgust": 0.04 - 0.2 * mood * (1.2 - t.agreeableness),
        "anger": 0.1 - 0.4 * mood * (1.3 - t.agreeableness)
        + (0.2 if heard == "escalate" and t.attachment == "avoidant" else 0),
        "anticipation": 0.25 + 0.25 * t.openness + 0.15 * strain,
    }
    emotions = {e: _clip(v + rng.uniform(-0.08, 0.08)) for e, v in emotions.items()}
    dominant = max(emotions, key=emotions.__getitem__)
    words = {"p": P.first_name(_partner_profile(ctx))}
    parts = []
    if heard is not None:
        pool = P.HEARD[heard]
        parts.append(rng.choice(pool.get(t.attachment, pool["_"])).format(**words))
    parts.append(_fill(rng.choice(P.THOUGHTS[dominant]), rng, ctx["self"], **words))
    return {"emotions": emotions, "inner_thoughts": " ".join(parts)}


# Word-boundary lexicon for identity memories: a memory is dark by what happened in it, not by
# a word like "never" ("I never felt more accompanied" is a warm memory).
_DARK = re.compile(r"\b(divorc\w*|died|death|funeral|lost|alone|lonel\w*|hurt\w*|cried|afraid|"
                   r"scared|abandon\w*|left me|betray\w*|fight|fought|broke\w*|sick|ashamed)\b")
_BRIGHT = re.compile(r"\b(loved?|laugh\w*|joy|proud|accompanied|friend\w*|happ\w*|warm\w*|"
                     r"taught|learned|best|favourite|favorite|kind\w*|together|celebrat\w*)\b")


def _memory_appraisal(ctx: Context, rng: random.Random) -> dict[str, Any]:
    me = traits_of(ctx["self"])
    out = []
    for item in ctx["memories"]:
        text = str(item["text"]).lower()
        dark, bright = len(_DARK.findall(text)), len(_BRIGHT.findall(text))
        emotions = {e: round(rng.uniform(0.0, 0.25), 2) for e in EMOTIONS}
        if dark > bright:
            emotions["sadness"] = _clip(0.5 + 0.4 * me.neuroticism + rng.uniform(-0.1, 0.1))
            emotions["fear"] = _clip(0.3 + 0.4 * me.neuroticism + rng.uniform(-0.1, 0.1))
        elif bright:
            emotions["joy"] = _clip(0.5 + 0.3 * rng.random())
            emotions["acceptance"] = _clip(0.4 + 0.3 * rng.random())
        else:
            emotions["anticipation"] = _clip(0.3 + 0.3 * me.openness)
        if dark and bright:  # bittersweet
            emotions["joy"] = max(emotions["joy"], _clip(0.35 + 0.2 * rng.random()))
        out.append({"index": item["index"], "emotions": emotions})
    return {"appraisals": out}


# -- after the scene ---------------------------------------------------------------------------


def _grade(impact: float) -> int:
    return 2 if impact > 1.0 else 1 if impact > 0.3 else 0 if impact > -0.3 else (
        -1 if impact > -1.0 else -2)


def _felt(ctx: Context, me: Partner) -> float:
    strain, valence, _ = scene_pressure(turning_point_of(ctx))
    return scene_impact(me, _turns(ctx), strain, valence, None)


def _reflection(ctx: Context, rng: random.Random) -> dict[str, Any]:
    me = _me(ctx)
    grade = _grade(_felt(ctx, me) + rng.gauss(0, 0.3))
    words = {"me": P.first_name(ctx["self"]), "p": P.first_name(_partner_profile(ctx)),
             "topic": _topic(ctx)}
    feeling = rng.choice(P.FEELINGS[grade])
    text = (f"{_fill(rng.choice(P.REFLECT[grade]), rng, ctx['self'], **words)} "
            f"Thinking back on {_topic(ctx)}, {words['me']} feels {feeling} about {words['p']}.")
    return {"reflection": text, "feeling_towards_partner": feeling}


ENDINGS = {
    "warm": ["They ended closer than they started.", "By the end, they were on the same side.",
             "They left it in a better place than they found it."],
    "mixed": ["They ended somewhere in between.", "Some of it was settled; some of it wasn't.",
              "Nothing was decided, but nothing broke either."],
    "cold": ["They ended with things left unsaid.", "It ended colder than it began.",
             "They went to bed on opposite sides of it."],
}


def _did(turn: dict[str, Any], approach: str | None, profiles: dict[str, dict[str, Any]],
         other: str, rng: random.Random) -> str:
    name = str(turn.get("actor", ""))
    subj, _, poss = P.pronouns(profiles.get(name, {}))
    verb = rng.choice(P.DID.get(approach or "assert", P.DID["assert"]))
    return f"{P.first_name(name)} {verb.format(poss=poss, subj=subj, other=P.first_name(other))}"


def _summary(ctx: Context, rng: random.Random) -> dict[str, Any]:
    a, b = _names(ctx)
    transcript = ctx.get("transcript") or []
    turns = _turns(ctx)
    profiles = {a: ctx["a"], b: ctx["b"]}
    moments = [
        f"{_did(t, ap, profiles, b if actor == a else a, rng)}: \u201c{str(t['line'])[:160]}\u201d"
        for t, (actor, ap) in zip(transcript, turns, strict=True)
    ] or [f"{P.first_name(a)} and {P.first_name(b)} said little."]
    warm = sum(ap in WARM for _, ap in turns)
    cold = sum(ap in HOSTILE for _, ap in turns)
    tone = "warm" if warm > cold else "cold" if cold > warm else "mixed"
    deeds = list(dict.fromkeys(m.split(":")[0] for m in moments))[:3]
    summary = (
        f"At {ctx.get('setting', 'home')}, {P.first_name(a)} and {P.first_name(b)} faced "
        f"{_topic(ctx)}. {'; then '.join(deeds)}. {rng.choice(ENDINGS[tone])}"
    )
    return {"summary": summary, "key_moments": moments[:6]}


def _commitment(ctx: Context, rng: random.Random) -> dict[str, Any]:
    couple = _pair(ctx)
    me = couple.partner(str(ctx["self"]["name"]))
    strain, valence, tags = scene_pressure(turning_point_of(ctx))
    previous: list[int] = ctx.get("previous_scores") or []
    turns = _turns(ctx)
    impact = scene_impact(me, turns, strain, valence, ctx.get("emotions"))
    s = rusbult(me, ctx.get("previous_components"), previous, impact, rng.gauss(0, 0.5),
                strain, valence, tags)
    commitment = _round(s.commitment)
    prev = previous[-1] if previous else None
    direction = ("settled at" if prev is None else "grew to" if commitment > prev
                 else "slipped to" if commitment < prev else "held at")
    first = P.first_name(ctx["self"])
    other = P.first_name(_partner_profile(ctx))
    reasons = [f"After {_topic(ctx)}, {first}'s commitment {direction} {commitment}/10."]
    cause = _weightiest(turns, me)
    if cause is not None:
        actor, ap = cause
        who = first if actor == me.name else other
        verb = rng.choice(P.DID[ap]).format(poss="their", subj="they", other="the other")
        heavy = abs(received(ap, me.traits.attachment)) > 0.5
        effect = "counted for a lot" if heavy else "mattered"
        reasons.append(f"That {who} {verb} {effect}.")
    lens = {
        "anxious": ["Distance is what {f} feels most.", "{f} reads silence as an answer."],
        "avoidant": ["Pressure is what {f} feels most.", "{f} needs room more than words."],
        "fearful": ["{f} wants closeness and braces for it at once."],
        "secure": ["{f} takes the long view.", "{f} judges the pattern, not one night."],
    }[me.traits.attachment]
    reasons.append(rng.choice(lens).format(f=first))
    reasons.append(
        f"Satisfaction {_round(s.satisfaction)}/10, alternatives {_round(s.alternatives)}/10, "
        f"investment {_round(s.investment)}/10"
        + (" (some of it lost this time)." if s.lost > 0.3 else ".")
    )
    return {
        "satisfaction": _round(s.satisfaction),
        "quality_of_alternatives": _round(s.alternatives),
        "investment": _round(s.investment),
        "commitment": commitment,
        "reasoning": " ".join(reasons),
    }


def _weightiest(turns: list[tuple[str, str | None]], me: Partner) -> tuple[str, str] | None:
    best: tuple[float, str, str] | None = None
    for actor, ap in turns:
        if ap is None:
            continue
        weight = abs(received(ap, me.traits.attachment)) if actor != me.name else 0.2
        if best is None or weight > best[0]:
            best = (weight, actor, ap)
    return (best[1], best[2]) if best else None


def _round(value: float) -> int:
    return int(max(0, min(10, round(value))))


def _transition(ctx: Context, rng: random.Random) -> dict[str, Any]:
    a, b = _names(ctx)
    when = rng.choice(P.TIME_PASSED)
    summary = str(ctx.get("summary", ""))
    after = ("still warm from the last time" if any(e in summary for e in ENDINGS["warm"])
             else "still sore from the last time" if any(e in summary for e in ENDINGS["cold"])
             else "not quite sure where they stand")
    return {
        "bridge": f"{when.capitalize()}, {P.first_name(a)} and {P.first_name(b)}, {after}, "
        f"find themselves facing {ctx['next']['title'].lower()}.",
        "time_passed": when,
    }


# -- the relationship's state ----------------------------------------------------------------


def _quote(turn: dict[str, Any]) -> str:
    return f"{turn['actor']}: \u201c{str(turn['line'])[:160]}\u201d"


def _state(ctx: Context, rng: random.Random) -> dict[str, Any]:
    transcript = ctx.get("transcript") or []
    tp = ctx["turning_point"]
    strain, valence, tags = scene_pressure(turning_point_of(ctx))
    couple = _pair(ctx)
    turns = _turns(ctx)
    hostile = [t for t, (_, ap) in zip(transcript, turns, strict=True) if ap in HOSTILE]
    warm = [t for t, (_, ap) in zip(transcript, turns, strict=True) if ap in WARM]
    repairs = [t for t, (_, ap) in zip(transcript, turns, strict=True) if ap == "repair"]
    commitment = ctx.get("commitment_so_far")
    c = 6.0 if commitment is None else float(commitment)
    index = int(ctx.get("scene_index", 0))
    category = tp.get("category", "")
    previous = ctx.get("previous_state") or {}
    none_seen = "not shown in this scene"

    def ev(turns_: list[dict[str, Any]]) -> str:
        return _quote(turns_[-1]) if turns_ else none_seen

    if not hostile:
        conflict = "none" if strain < 0.45 or warm else "brewing"
    elif len(warm) > len(hostile):
        conflict = "repaired"
    else:
        conflict = "unresolved" if strain > 0.5 or len(hostile) > 1 else "active"
    if not (repairs or warm):
        repair = "none"
    elif len(warm) > len(hostile):
        repair = "successful"
    else:
        repair = "failed" if hostile and transcript and hostile[-1] is transcript[-1] else (
            "attempted")
    clarity = previous.get("clarity") if previous.get("clarity") in ("tacit", "explicit") else (
        "unclear")
    if warm and (category == "Deepening or Milestones" or "labels" in tags or index >= 3):
        clarity = "explicit"
    elif clarity == "unclear" and index >= 1:
        clarity = "tacit"
    ties = previous.get("constraints") if previous.get("constraints") in (
        "emerging", "accrued") else "none"
    if tags & {"home", "constraints", "money", "marriage", "children"} or index >= 2:
        ties = "accrued" if ties == "emerging" or index >= 6 else "emerging"
    heat = (1.6 * strain if tags & {"alternatives", "jealousy", "dating"} and valence != "positive"
            else 0.0) + 0.35 * (5.5 - c) + 3.0 * (0.5 - couple.bond) + rng.gauss(0, 0.4)
    alternatives = "hot" if heat > 1.6 else "salient" if heat > 0.6 else "quiet"
    transition = (
        "underway" if category == "Transitions or Endings" or "distance" in tags
        else "upcoming" if "future" in tags or rng.random() < 0.08 else "none"
    )
    approval = couple.network + 0.03 * (c - 5.5) + rng.gauss(0, 0.12)
    network = ("supportive" if approval > 0.7 else "neutral" if approval > 0.5
               else "mixed" if approval > 0.35 else "opposed")
    # Breakup talk follows sustained hostility in a couple whose commitment is already low.
    pressure = (len(hostile) - len(warm) + (2 if c < 4.5 else 0) + (1 if c < 3.5 else 0)
                + (1 if "ending" in tags and valence != "positive" else 0)
                + (1 if previous.get("breakup_marker") in ("soft", "hard") else 0))
    breakup = ("hard" if pressure >= 4 and c < 4.5 else "soft" if pressure >= 2 and c < 6.5
               else "none")
    return {
        "conflict": {"value": conflict, "evidence": ev(hostile or transcript)},
        "repair_outcome": {"value": repair, "evidence": ev(repairs or warm)},
        "clarity": {"value": clarity, "evidence": ev(warm) if clarity == "explicit" else none_seen},
        "constraints": {"value": ties, "evidence": f"{index + 1} scenes into the relationship"},
        "alternatives": {"value": alternatives, "evidence": ev(hostile) if hostile else none_seen},
        "transition": {"value": transition, "evidence": tp.get("title", none_seen)},
        "network": {"value": network, "evidence": none_seen},
        "breakup_marker": {"value": breakup, "evidence": ev(hostile) if hostile else none_seen},
    }


def _scene_choice(ctx: Context, rng: random.Random) -> dict[str, Any]:
    candidates = ctx["candidates"]
    state = ctx.get("state") or {}
    # Mostly the heuristic's first candidate, sometimes a surprise.
    pick = candidates[0] if rng.random() < 0.7 else rng.choice(candidates)
    hint = ", ".join(f"{k} {v}" for k, v in list(state.items())[:3]) or "the story's start"
    return {
        "reason": f"Given {hint}, \u201c{pick['title']}\u201d ({pick['category']}) "
        "is what this couple would plausibly face next.",
        "turning_point": pick["id"],
    }


def _after_action_report(ctx: Context, rng: random.Random) -> dict[str, Any]:
    scenes = ctx.get("scenes") or []
    a, b = _names(ctx)
    means = [fmean(s["commitment"].values()) for s in scenes]
    changes = [
        (round(m - (means[i - 1] if i else m), 2), s)
        for i, (m, s) in enumerate(zip(means, scenes, strict=True))
    ]
    key = sorted(changes, key=lambda c: abs(c[0]), reverse=True)[:3]
    risks: list[str] = []
    strengths: list[str] = []
    for s in scenes:
        st = s.get("state") or {}
        title = s["title"]
        if st.get("conflict") in ("active", "unresolved"):
            risks.append(f"conflict left {st['conflict']} in {title}")
        if st.get("alternatives") in ("salient", "hot"):
            risks.append(f"alternatives {st['alternatives']} in {title}")
        if st.get("breakup_marker") in ("soft", "hard"):
            risks.append(f"{st['breakup_marker']} breakup talk in {title}")
        if st.get("repair_outcome") == "successful":
            strengths.append(f"repair made and acknowledged in {title}")
        if st.get("clarity") == "explicit":
            strengths.append(f"clarity gained in {title}")
    first, last = (means[0], means[-1]) if means else (5.0, 5.0)
    outcome = ctx.get("outcome") or ("together" if last >= 4 else "separated")
    verb = "rose" if last > first + 0.5 else "fell" if last < first - 0.5 else "held steady"
    # Confidence follows the latent picture: distance from the threshold, the trend, the risks.
    trend = (last - first) * (1 if outcome == "together" else -1)
    margin = (last - 4.0) * (1 if outcome == "together" else -1)
    p = 0.55 + 0.06 * max(-2.0, margin) + 0.03 * trend - 0.01 * len(risks) + rng.uniform(0, 0.04)
    return {
        "trajectory": f"Over {len(scenes)} scenes the commitment of {P.first_name(a)} and "
        f"{P.first_name(b)} {verb}, from {first:.1f} to {last:.1f} out of 10.",
        "key_scenes": [
            {"scene_index": s["scene_index"], "change": c,
             "why": f"{s['title']}: {str(s['summary'])[:200]}"}
            for c, s in key
        ],
        "risk_markers": risks[:8],
        "strength_markers": strengths[:8],
        "predicted_outcome": outcome,
        "probability": round(min(0.95, max(0.5, p)), 2),
    }


WRITERS: dict[str, Callable[[Context, random.Random], Any]] = {
    "scene_setup": _scene_setup,
    "perspective": _perspective,
    "beat": _beat,
    "choices": _choices,
    "action": _action,
    "appraisal": _appraisal,
    "memory_appraisal": _memory_appraisal,
    "reflection": _reflection,
    "summary": _summary,
    "commitment": _commitment,
    "transition": _transition,
    "personas_baseline": lambda ctx, rng: _baseline(ctx, rng),
    "intake": write_intake,
    "options": _options,
    "state": _state,
    "scene_choice": _scene_choice,
    "after_action_report": _after_action_report,
}


def _baseline(ctx: Context, rng: random.Random) -> dict[str, Any]:
    from engine.sim.baseline import simulated_guess  # its own module: kept out of this one

    return simulated_guess(ctx, rng)


def fill_schema(
    schema: dict[str, Any], rng: random.Random, defs: dict[str, Any] | None = None
) -> Any:
    """A plausible value for any JSON schema: how the simulator answers prompts it does not know."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return fill_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], rng, defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return fill_schema(schema[key][0], rng, defs)
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type", "string")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: fill_schema(sub, rng, defs) for name, sub in props.items()}
    if kind == "array":
        count = max(schema.get("minItems", 1), min(schema.get("maxItems", 3), 3))
        return [fill_schema(schema.get("items", {}), rng, defs) for _ in range(count)]
    if kind == "integer":
        lo = schema.get("minimum", 0)
        return rng.randint(lo, schema.get("maximum", lo + 10))
    if kind == "number":
        lo = schema.get("minimum", 0.0)
        return round(rng.uniform(lo, schema.get("maximum", lo + 1.0)), 3)
    if kind == "boolean":
        return rng.random() < 0.5
    return rng.choice(OPENINGS)


def write_reply(
    purpose: str,
    context: Context | None,
    json_schema: dict[str, Any] | None,
    rng: random.Random,
    seed: int | None = None,
) -> Any:
    """The simulator's reply: a JSON-able value for structured calls, a string for text calls.
    ``seed`` (the simulation's) picks the latent couple; it is part of every request."""
    writer = WRITERS.get(purpose)
    if writer is not None and context is not None:
        return writer({**context, SEED_KEY: seed or 0}, rng)
    if json_schema is not None:
        return fill_schema(json_schema, rng)
    return "(simulated reply) " + rng.choice(OPENINGS)

