"""The built-in persona simulator: schema-valid replies written without any LLM.

Each call purpose has a writer that reads the request's context (personas, turning point, what was
said) and a small latent relationship model (``traits.compatibility``), so different pairs really
diverge. Randomness comes only from the ``rng`` it is handed, which the provider seeds from the
simulation seed and the request, so the same seed always gives the same transcript.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from statistics import fmean
from typing import Any

from engine.sim.intake_writer import write_intake
from engine.sim.schemas import EMOTIONS
from engine.sim.traits import Traits, compatibility, traits_of
from engine.sim.turning_points import strain_of

LABEL = "SIMULATED — no LLM"

Context = dict[str, Any]

SETTINGS = [
    "a rain-streaked café window booth",
    "the kitchen at 11 p.m.",
    "a crowded rooftop bar",
    "a parked car outside the apartment",
    "a quiet trail above the city",
    "a friend's noisy birthday party",
    "the laundromat on a Sunday",
    "a hospital corridor",
    "a video call with a frozen picture",
    "the ferry home",
    "a half-packed living room",
    "a bench in the botanical garden",
    "a late train with no free seats",
    "the back row of a half-empty cinema",
    "a farmers' market",
]
OPENINGS = [
    "The air feels heavier than usual.",
    "Neither of them has said the obvious thing yet.",
    "A phone buzzes on the table and both of them look at it.",
    "Someone laughs too loudly nearby.",
    "The silence stretches a beat too long.",
    "It starts, as these things do, with something small.",
]
GOALS = {
    "secure": ["to understand what {partner} needs", "to stay honest without escalating"],
    "anxious": ["to hear that {partner} is still in this", "to not be left guessing again"],
    "avoidant": ["to keep some room to breathe", "to get through this without a big scene"],
    "fearful": ["to get close without getting hurt", "to test whether {partner} can be trusted"],
}
NARRATION = [
    "{actor} glances at {other}, trying to read the mood before speaking.",
    "The conversation drifts back to {topic}, and {actor} feels the weight of it.",
    "{other} goes quiet, and it is {actor}'s turn to decide what happens next.",
    "A small interruption breaks the tension, but {actor} knows it isn't over.",
    "{other}'s last words hang in the air; {actor} turns them over.",
    "Something in {other}'s tone catches {actor} off guard.",
    "{actor} notices {other}'s hands fidgeting and takes a breath.",
    "The moment could tip either way, and {actor} feels it.",
]
# (label, description, approach) — approach drives which personalities pick it.
OPTIONS = [
    ("Open up honestly", "Say plainly what you feel, even if it is uncomfortable.", "open"),
    ("Offer reassurance", "Tell them you are not going anywhere.", "warm"),
    ("Ask a gentle question", "Find out what is really going on for them.", "curious"),
    ("Lighten the mood", "Make a joke to take the edge off.", "playful"),
    ("Push back", "Say you disagree and why.", "confront"),
    ("Change the subject", "Steer away from this for now.", "avoid"),
    ("Ask for space", "Say you need time to think before going further.", "avoid"),
    ("Name the pattern", "Point out that this keeps happening between you.", "confront"),
]
LINES = {
    "open": [
        "I'll be honest, {partner} — {topic} scares me more than I let on.",
        "I keep thinking about {topic}, and I'd rather say it than carry it alone.",
        "This matters to me. You matter to me. That's why I'm nervous.",
    ],
    "warm": [
        "Hey. Whatever happens with {topic}, I'm here.",
        "{partner}, we'll figure it out together.",
        "I'm not going anywhere, okay?",
    ],
    "curious": [
        "What's going through your head right now, {partner}?",
        "Can you tell me what {topic} means to you?",
        "Help me understand — what do you need?",
    ],
    "playful": [
        "Well, this is a very normal amount of tension for a Tuesday.",
        "If this were a movie, this is where the music would swell.",
        "Okay, dramatic pause over. Your move.",
    ],
    "confront": [
        "I don't think that's fair, {partner}.",
        "We keep circling {topic} and never land.",
        "I need you to hear me on this, not just nod.",
    ],
    "avoid": [
        "Can we not do this right now?",
        "Let's talk about something else for a bit.",
        "I need a minute. I'm not saying no — just not now.",
    ],
}
BEHAVIOUR = {
    "open": "holds their gaze",
    "warm": "reaches for their hand",
    "curious": "leans in",
    "playful": "grins and nudges them",
    "confront": "sets the cup down hard",
    "avoid": "looks away toward the window",
}
THOUGHTS = {
    "joy": "This feels good. I want more moments like this.",
    "acceptance": "I can live with this. We're okay.",
    "fear": "What if this is the beginning of the end?",
    "surprise": "I did not see that coming.",
    "sadness": "Why does this have to hurt so much?",
    "disgust": "That crossed a line for me.",
    "anger": "I'm tired of being the one who bends.",
    "anticipation": "Something is about to change — I can feel it.",
}
# What goes through a partner's head as they act, by the approach they chose.
INTENTIONS = {
    "open": ["If I don't say it now, I never will.", "Being honest is scarier than staying quiet."],
    "warm": ["They need to know I'm on their side.", "Softness first; the rest can wait."],
    "curious": ["I don't understand them yet, and I want to.", "Ask before assuming."],
    "playful": ["A little lightness might get us through this.", "Laugh, or this gets heavy."],
    "confront": ["I'm not letting this slide again.", "Someone has to say it out loud."],
    "avoid": ["Not tonight. I can't do this tonight.", "If I step back, maybe it passes."],
}
FEELINGS = [
    "closer than before",
    "uncertain but hopeful",
    "hurt and wary",
    "grateful",
    "restless",
    "tender",
    "frustrated",
    "quietly committed",
    "confused",
    "safe",
]
TIME_PASSED = [
    "a few days later",
    "two weeks later",
    "a month later",
    "that same weekend",
    "three months later",
    "the following spring",
]


def _affinity(approach: str, t: Traits) -> float:
    return {
        "open": 0.4 * t.openness + 0.3 * (t.attachment == "secure") + 0.2 * t.extraversion,
        "warm": 0.6 * t.agreeableness + 0.2 * (t.attachment == "anxious"),
        "curious": 0.5 * t.openness + 0.2 * t.agreeableness,
        "playful": 0.6 * t.extraversion + 0.1 * (1 - t.neuroticism),
        "confront": 0.5 * (1 - t.agreeableness) + 0.3 * t.neuroticism,
        "avoid": 0.4 * (t.attachment in ("avoidant", "fearful")) + 0.3 * (1 - t.extraversion),
    }[approach]


def _topic(ctx: Context) -> str:
    tp = ctx.get("turning_point") or {}
    return str(tp.get("title", "all of this")).lower()


def _names(ctx: Context) -> tuple[str, str]:
    return str(ctx["a"]["name"]), str(ctx["b"]["name"])


def _emotions(ctx: Context, rng: random.Random) -> dict[str, float]:
    me = traits_of(ctx["self"])
    strain = strain_of(ctx.get("turning_point", {}).get("id", ""))
    partner = ctx.get("partner_profile")
    fit = compatibility(me, traits_of(partner)) if isinstance(partner, dict) else 0.5
    calm = 1 - me.neuroticism
    base = {
        "joy": (1 - strain) * 0.6 + fit * 0.3,
        "acceptance": fit * 0.5 + me.agreeableness * 0.3,
        "fear": strain * me.neuroticism * 0.9,
        "surprise": 0.15 + strain * 0.2,
        "sadness": strain * 0.5 * (1 - fit),
        "disgust": strain * 0.2 * (1 - me.agreeableness),
        "anger": strain * 0.6 * (1 - me.agreeableness) * (1 - calm * 0.5),
        "anticipation": 0.3 + me.openness * 0.3,
    }
    return {e: round(min(1.0, max(0.0, v + rng.uniform(-0.12, 0.12))), 2) for e, v in base.items()}


def _scene_setup(ctx: Context, rng: random.Random) -> dict[str, Any]:
    a, b = _names(ctx)
    ta, tb = traits_of(ctx["a"]), traits_of(ctx["b"])
    return {
        "setting": rng.choice(SETTINGS),
        "conflict": ctx["turning_point"]["scenario"],
        "goal_a": "Wants " + rng.choice(GOALS[ta.attachment]).format(partner=b) + ".",
        "goal_b": "Wants " + rng.choice(GOALS[tb.attachment]).format(partner=a) + ".",
        "opening": f"{a} and {b}: {ctx['turning_point']['title'].lower()}. {rng.choice(OPENINGS)}",
    }


def _perspective(ctx: Context, rng: random.Random) -> str:
    me = ctx["self"]["name"]
    return (
        f"{me} walks into {ctx['setting']} aware of one thing: {ctx['goal'][0].lower()}"
        f"{ctx['goal'][1:]} {rng.choice(OPENINGS)}"
    )


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
    text = rng.choice(NARRATION).format(actor=actor, other=other, topic=_topic(ctx))
    return {"narration": text, "next_actor": role if rng.random() < 0.7 else actor}


def _choices(ctx: Context, rng: random.Random) -> dict[str, Any]:
    picks = rng.sample(OPTIONS, rng.choice((3, 4)))
    return {"options": [{"label": label, "description": desc} for label, desc, _ in picks]}


def _approach_of(label: str) -> str:
    return next((ap for lb, _, ap in OPTIONS if lb == label), "open")


def _style_of(option: dict[str, Any]) -> str:
    """The simulator's behaviour style for an option: from its approach tag when the Scene
    Master framed it, else from its label."""
    tag = option.get("approach")
    return STYLE_OF_APPROACH[tag] if tag in STYLE_OF_APPROACH else _approach_of(option["label"])


def _action(ctx: Context, rng: random.Random) -> dict[str, Any]:
    me = traits_of(ctx["self"])
    options = ctx["options"]
    # Tension carries: a partner who was just attacked leans towards answering in kind.
    attacked = _last_style(ctx) == "confront"
    scored = [
        (
            _affinity(_style_of(o), me)
            + rng.uniform(0, 0.35)
            + (0.25 * me.neuroticism if attacked and _style_of(o) in ("confront", "avoid") else 0)
            + _drift(ctx, _style_of(o)),
            i,
        )
        for i, o in enumerate(options)
    ]
    _, index = max(scored)
    approach = _style_of(options[index])
    line = rng.choice(LINES[approach]).format(partner=ctx["partner"], topic=_topic(ctx))
    return {
        "choice": index + 1,
        "inner_thoughts": rng.choice(INTENTIONS[approach]),
        "line": line,
        "behaviour": f"{ctx['self']['name']} {BEHAVIOUR[approach]}.",
    }


def _appraisal(ctx: Context, rng: random.Random) -> dict[str, Any]:
    emotions = _emotions(ctx, rng)
    # The last line heard colours the feeling: warmth lifts it, an attack or a retreat stings.
    style = _last_style(ctx)
    if style is not None and ctx.get("transcript") and ctx["transcript"][-1].get("actor") != ctx[
        "self"
    ].get("name"):
        shift = {"warm": 0.2, "curious": 0.12, "open": 0.08, "playful": 0.04,
                 "avoid": -0.12, "confront": -0.22}[style]
        for e in ("joy", "acceptance"):
            emotions[e] = round(min(1.0, max(0.0, emotions[e] + shift)), 2)
        for e in ("anger", "sadness"):
            emotions[e] = round(min(1.0, max(0.0, emotions[e] - shift)), 2)
    dominant = max(emotions, key=emotions.__getitem__)
    return {"emotions": emotions, "inner_thoughts": THOUGHTS[dominant]}


def _memory_appraisal(ctx: Context, rng: random.Random) -> dict[str, Any]:
    me = traits_of(ctx["self"])
    out = []
    for item in ctx["memories"]:
        text = str(item["text"]).lower()
        dark = any(w in text for w in ("divorce", "left", "lost", "alone", "hurt", "died", "never"))
        emotions = {e: round(rng.uniform(0.0, 0.3), 2) for e in EMOTIONS}
        if dark:
            emotions["sadness"] = round(0.5 + 0.4 * me.neuroticism, 2)
            emotions["fear"] = round(0.3 + 0.4 * me.neuroticism, 2)
        else:
            emotions["joy"] = round(0.5 + 0.3 * rng.random(), 2)
        out.append({"index": item["index"], "emotions": emotions})
    return {"appraisals": out}


def _reflection(ctx: Context, rng: random.Random) -> dict[str, Any]:
    me = ctx["self"]["name"]
    partner = ctx["partner"]
    feeling = rng.choice(FEELINGS)
    return {
        "reflection": f"{me} thinks back on {_topic(ctx)} and feels {feeling} about {partner}.",
        "feeling_towards_partner": feeling,
    }


def _summary(ctx: Context, rng: random.Random) -> dict[str, Any]:
    a, b = _names(ctx)
    moments = [
        f"{step['actor']} chose to {_lower_first(step['option'])}: \u201c{step['line']}\u201d"
        for step in ctx.get("transcript", [])
    ] or [f"{a} and {b} said little."]
    warm = sum(_turn_style(s) in ("open", "warm", "curious") for s in ctx.get("transcript", []))
    tone = "closer than they started" if warm * 2 >= len(moments) else "with things left unsaid"
    # The same choice twice reads as one sentence, not a stutter.
    choices = dict.fromkeys(m.split(":")[0] + "." for m in moments)
    summary = (
        f"At {ctx['setting']}, {a} and {b} faced {_topic(ctx)}. "
        f"{' '.join(list(choices)[:3])} They ended {tone}."
    )
    return {"summary": summary, "key_moments": moments[:6]}


def _commitment(ctx: Context, rng: random.Random) -> dict[str, Any]:
    me, partner = traits_of(ctx["self"]), traits_of(ctx["partner_profile"])
    fit = compatibility(me, partner)
    strain = strain_of(ctx["turning_point"]["id"])
    previous: list[int] = ctx.get("previous_scores") or []
    emotions = ctx.get("emotions") or {}
    positive = fmean([emotions.get("joy", 0.4), emotions.get("acceptance", 0.4)])
    negative = fmean(
        [emotions.get("anger", 0.2), emotions.get("sadness", 0.2), emotions.get("fear", 0.2)]
    )
    start = (
        5.0
        + 4.0 * (fit - 0.5)
        + {"secure": 0.8, "anxious": 0.6, "avoidant": -0.8, "fearful": -0.4}[me.attachment]
    )
    prev = previous[-1] if previous else start
    category = ctx["turning_point"]["category"]
    pull = 0.0
    if me.attachment == "avoidant" and category == "Deepening or Milestones":
        pull -= 0.8
    if me.attachment == "anxious" and category == "Challenges or Tests":
        pull -= 0.6
    if category == "Transitions or Endings":
        pull -= 0.7
    delta = 2.2 * (fit - 0.5) - 1.3 * strain * me.neuroticism + 1.6 * (positive - negative) + pull
    satisfaction = _clamp(prev + delta + rng.uniform(-0.7, 0.7))
    investment = _clamp(
        2 + 0.6 * len(previous) + 3 * me.conscientiousness + (me.attachment == "anxious")
    )
    alternatives = _clamp(10 * (1 - fit) * (0.6 + 0.4 * me.extraversion) + rng.uniform(-1, 1))
    commitment = _clamp(0.55 * satisfaction + 0.3 * investment + 0.15 * (10 - alternatives))
    direction = (
        "grew" if commitment > prev + 0.5 else "slipped" if commitment < prev - 0.5 else "held"
    )
    reasoning = (
        f"After {_topic(ctx)}, {ctx['self']['name']}'s commitment {direction}: satisfaction "
        f"{satisfaction}/10, alternatives {alternatives}/10, investment {investment}/10; "
        f"{me.attachment} attachment shapes how the strain of this scene lands."
    )
    return {
        "satisfaction": satisfaction,
        "quality_of_alternatives": alternatives,
        "investment": investment,
        "commitment": commitment,
        "reasoning": reasoning,
    }


def _transition(ctx: Context, rng: random.Random) -> dict[str, Any]:
    a, b = _names(ctx)
    when = rng.choice(TIME_PASSED)
    return {
        "bridge": f"{when.capitalize()}, {a} and {b} find themselves facing "
        f"{ctx['next']['title'].lower()}.",
        "time_passed": when,
    }


def _clamp(value: float) -> int:
    return int(max(0, min(10, round(value))))


# The Scene Master's approach tags, mapped onto the simulator's behaviour styles.
STYLE_OF_APPROACH = {
    "repair": "curious",
    "affirm": "warm",
    "assert": "open",
    "escalate": "confront",
    "withdraw": "avoid",
    "deflect": "playful",
}
STYLE_OF_BEHAVIOUR = {text: style for style, text in BEHAVIOUR.items()}
HOSTILE = ("confront", "avoid")
FRAMED = {
    "repair": ["Apologise for {their} part in {topic} and ask what {partner} needs.",
               "Acknowledge how {partner} feels about {topic} and offer to try again."],
    "assert": ["Say plainly what {they_} need from {partner} about {topic}.",
               "Name the boundary {they_} won't cross over {topic}."],
    "withdraw": ["Go quiet and step away from the conversation about {topic}.",
                 "Say {they_} need space and leave the room."],
    "escalate": ["Blame {partner} for how {topic} went wrong.",
                 "Bring up every past time {partner} let {them} down."],
    "deflect": ["Make a joke to steer away from {topic}.",
                "Change the subject to something easier."],
    "affirm": ["Tell {partner} how much they matter, whatever happens with {topic}.",
               "Thank {partner} for being honest about {topic}."],
}


def _turn_style(turn: dict[str, Any]) -> str | None:
    tag = turn.get("approach")
    if tag in STYLE_OF_APPROACH:
        return STYLE_OF_APPROACH[tag]
    behaviour = str(turn.get("behaviour", ""))
    for text, style in STYLE_OF_BEHAVIOUR.items():
        if behaviour.endswith(text + "."):
            return style
    option = turn.get("option")
    return _approach_of(option) if option else None


def _last_style(ctx: Context) -> str | None:
    transcript = ctx.get("transcript") or []
    return _turn_style(transcript[-1]) if transcript else None


def _drift(ctx: Context, style: str) -> float:
    """How the story so far tilts a choice: a strained couple reaches for conflict more."""
    strain = strain_of((ctx.get("turning_point") or {}).get("id", ""))
    return 0.2 * strain if style in HOSTILE else 0.0


def _options(ctx: Context, rng: random.Random) -> dict[str, Any]:
    strain = strain_of(ctx["turning_point"]["id"])
    approaches = list(FRAMED)
    rng.shuffle(approaches)
    # Strained scenes put a harsh option on the table; calm ones a warm one.
    must = "escalate" if rng.random() < 0.3 + 0.6 * strain else "affirm"
    picks = [must, *[a for a in approaches if a != must]][: rng.choice((3, 4))]
    rng.shuffle(picks)
    actor, (a, b) = ctx["actor"], _names(ctx)
    partner = b if actor == a else a
    words = {"partner": partner, "topic": _topic(ctx), "they_": "you", "them": "you",
             "their": "your"}
    return {
        "options": [
            {"text": rng.choice(FRAMED[ap]).format(**words), "approach": ap} for ap in picks
        ]
    }


def _quote(turn: dict[str, Any]) -> str:
    return f"{turn['actor']}: \u201c{str(turn['line'])[:160]}\u201d"


def _state(ctx: Context, rng: random.Random) -> dict[str, Any]:
    transcript = ctx.get("transcript") or []
    tp = ctx["turning_point"]
    strain = strain_of(tp["id"])
    fit = compatibility(traits_of(ctx["a"]), traits_of(ctx["b"]))
    styles = [_turn_style(t) for t in transcript]
    hostile = [t for t, st in zip(transcript, styles, strict=True) if st in HOSTILE]
    warm = [t for t, st in zip(transcript, styles, strict=True) if st in ("warm", "curious")]
    commitment = ctx.get("commitment_so_far")
    low = commitment is not None and commitment < 5
    index = int(ctx.get("scene_index", 0))
    category = tp["category"]
    previous = ctx.get("previous_state") or {}
    none_seen = "not shown in this scene"

    def ev(turns: list[dict[str, Any]]) -> str:
        return _quote(turns[-1]) if turns else none_seen

    if not hostile:
        conflict = "none" if strain < 0.45 else "brewing"
    elif len(warm) > len(hostile):
        conflict = "repaired"
    else:
        conflict = "unresolved" if strain > 0.5 or len(hostile) > 1 else "active"
    repairs = [t for t in transcript if t.get("approach") == "repair"] or warm
    if not repairs:
        repair = "none"
    elif len(warm) >= len(hostile):
        repair = "successful"
    else:
        repair = "failed" if hostile[-1] is transcript[-1] else "attempted"
    clarity = (
        "explicit"
        if category in ("Deepening or Milestones",) or (warm and index >= 3)
        else "unclear" if index < 2 else previous.get("clarity", "tacit")
    )
    constraints = "none" if index < 2 else "emerging" if index < 5 else "accrued"
    alternatives = (
        "hot" if category == "Challenges or Tests" and fit < 0.5 and rng.random() < 0.5
        else "salient" if fit < 0.45 or (low and rng.random() < 0.4) else "quiet"
    )
    transition = (
        "underway" if category == "Transitions or Endings"
        else "upcoming" if rng.random() < 0.12 else "none"
    )
    network = rng.choice(
        ("supportive", "neutral", "mixed") if fit >= 0.5 else ("neutral", "mixed", "opposed")
    )
    # Breakup talk follows sustained hostility in a couple whose commitment is already low.
    pressure = len(hostile) - len(warm) + (2 if low else 0) + (1 if strain > 0.6 else 0)
    if previous.get("breakup_marker") in ("soft", "hard"):
        pressure += 1
    breakup = "hard" if pressure >= 4 and fit < 0.55 else "soft" if pressure >= 2 else "none"
    return {
        "conflict": {"value": conflict, "evidence": ev(hostile or transcript)},
        "repair_outcome": {"value": repair, "evidence": ev(repairs)},
        "clarity": {"value": clarity, "evidence": ev(warm) if clarity == "explicit" else none_seen},
        "constraints": {"value": constraints,
                        "evidence": f"{index + 1} scenes into the relationship"},
        "alternatives": {"value": alternatives, "evidence": ev(hostile) if hostile else none_seen},
        "transition": {"value": transition, "evidence": tp["title"]},
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
    outcome = ctx.get("outcome") or ("together" if means and means[-1] >= 4 else "separated")
    first, last = (means[0], means[-1]) if means else (5.0, 5.0)
    verb = "rose" if last > first + 0.5 else "fell" if last < first - 0.5 else "held steady"
    return {
        "trajectory": f"Over {len(scenes)} scenes the commitment of {a} and {b} {verb}, "
        f"from {first:.1f} to {last:.1f} out of 10.",
        "key_scenes": [
            {"scene_index": s["scene_index"], "change": c,
             "why": f"{s['title']}: {str(s['summary'])[:200]}"}
            for c, s in key
        ],
        "risk_markers": risks[:8],
        "strength_markers": strengths[:8],
        "predicted_outcome": outcome,
        "probability": round(min(0.95, 0.55 + abs(last - 5) / 12 + rng.uniform(0, 0.05)), 2),
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
    purpose: str, context: Context | None, json_schema: dict[str, Any] | None, rng: random.Random
) -> Any:
    """The simulator's reply: a JSON-able value for structured calls, a string for text calls."""
    writer = WRITERS.get(purpose)
    if writer is not None and context is not None:
        return writer(context, rng)
    if json_schema is not None:
        return fill_schema(json_schema, rng)
    return "(simulated reply) " + rng.choice(OPENINGS)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
