"""The simulator's writer for the ``intake`` purpose: a persona's summary, second-person synopsis
and "If …, I …" rules, composed offline from the questionnaire evidence (no LLM).

Sentences come from banks keyed on the scored instruments, so two different intakes read
differently; the synopsis is assembled to land inside the 200–300-word window persona files
require.
"""

from __future__ import annotations

import random
from typing import Any

SYNOPSIS_MIN, SYNOPSIS_MAX = 215, 290  # inside 200–300 with a margin

ATTACHMENT = {
    "secure": (
        "You trust that closeness and independence can live side by side. When a partner needs "
        "room you give it without reading it as a verdict on you, and when you need comfort you "
        "can ask for it plainly.",
        "If a partner is close and you are secure in that, you will say so out loud.",
    ),
    "anxious": (
        "You love with your whole attention, and you notice the smallest change in a partner's "
        "tone. A slow reply or a cooler goodbye can set your mind racing, and you reach for "
        "reassurance before you have decided whether you need it.",
        "If a partner pulls back, you feel it in your body before you can name it.",
    ),
    "avoidant": (
        "You value your independence and you guard it carefully. Closeness feels good in "
        "measured doses, but when a partner asks for more than you expected you feel the walls "
        "move in, and you find reasons to need some air.",
        "If a partner leans in too quickly, you tend to answer with plans rather than feelings.",
    ),
    "fearful": (
        "You want closeness and you distrust it in the same breath. When someone comes near you "
        "feel hope and alarm at once, and you sometimes push away the very person you hoped "
        "would stay, to see whether they will.",
        "If a partner proves steady, you need time before you let yourself believe it.",
    ),
}
TRAIT_SENTENCES = {
    ("extraversion", True): "You draw energy from people and a full room rarely tires you.",
    ("extraversion", False): "You recharge in quiet, and a long evening out costs you something.",
    ("agreeableness", True): "You are warm and considerate, quick to see the other side.",
    ("agreeableness", False): "You say what you think, even when it lands hard.",
    ("conscientiousness", True): "You keep your promises and like a plan you can rely on.",
    ("conscientiousness", False): "You live more by mood than by schedule, and plans bend.",
    ("neuroticism", True): "Worry visits you often, and small setbacks can feel large.",
    ("neuroticism", False): "You stay steady under pressure, and your moods pass quickly.",
    ("openness", True): "You are curious, drawn to new ideas, places and people.",
    ("openness", False): "You like what is familiar and proven, and you trust routine.",
}
LOVE = {
    "words of affirmation": "Love reaches you through words: being told, specifically and often, "
    "what you mean to someone.",
    "quality time": "Love reaches you through undivided time: an evening where nobody checks a "
    "phone counts for more than any gift.",
    "acts of service": "Love, for you, is something done: the errand run, the thing fixed "
    "without being asked.",
    "gifts": "Love, for you, lives in small tokens chosen with care, proof that someone thought "
    "of you while you were apart.",
    "physical touch": "Love reaches you through touch: a hand on your back, a long hug at the "
    "door, sitting close on the sofa.",
}
CONFLICT = {
    "pursue": "In an argument you want to settle things now; an unfinished fight keeps you awake.",
    "pause": "In an argument you ask for time to think, then come back to finish it honestly.",
    "withdraw": "In an argument you go quiet or leave the room, and return only when pressed.",
    "accommodate": "In an argument you give way to keep the peace, and sometimes resent it later.",
    "compete": "In an argument you press your point hard and find it difficult to concede.",
    "compromise": "In an argument you look quickly for a middle ground you can both live with.",
}
EXTRAS = (
    "You are still learning which of your habits protect you and which only keep people out.",
    "The partner who suits you will be patient with your edges and honest about their own.",
    "You notice more than you say, and you remember what a partner tells you in passing.",
    "A good relationship, to you, is one where both people can be ordinary on a bad day.",
    "You know that old patterns resurface under stress, and you would rather name them early.",
)
RULES_ATTACHMENT = {
    "secure": [
        "If my partner needs space after a hard day, I give it and check in later without "
        "taking it personally.",
        "If something between us feels off, I bring it up calmly instead of guessing.",
    ],
    "anxious": [
        "If my partner goes quiet after a disagreement, I reach out again and again until I "
        "hear that we are okay.",
        "If a message goes unanswered for hours, I imagine the worst and ask whether I did "
        "something wrong.",
    ],
    "avoidant": [
        "If my partner asks for more closeness than I expected, I get busy and make plans "
        "that keep some distance.",
        "If a conversation turns to feelings, I steer it toward practical solutions.",
    ],
    "fearful": [
        "If my partner gets very close, I pick a small fight or go cold to test whether they "
        "will stay.",
        "If my partner seems distant, I pull away first so that it cannot hurt as much.",
    ],
}
RULES_CONFLICT = {
    "pursue": "If we argue, I keep the conversation going until it is settled, even late at "
    "night.",
    "pause": "If we argue and I feel flooded, I ask for an hour to think and then come back to "
    "finish it.",
    "withdraw": "If an argument heats up, I leave the room and return to it only when my "
    "partner raises it again.",
    "accommodate": "If we disagree, I give in to keep the peace and keep my own wish to myself.",
    "compete": "If my partner challenges me, I argue my case point by point until I have made "
    "it.",
    "compromise": "If we want different things, I propose a middle path straight away.",
}
RULES_LOVE = {
    "words of affirmation": "If my partner tells me what I mean to them, I soften and open up.",
    "quality time": "If my partner puts the phone away and gives me the evening, I feel loved "
    "and show it.",
    "acts of service": "If my partner is overwhelmed, I quietly take a task off their plate.",
    "gifts": "If I pass something my partner would love, I buy it and save it for the right "
    "moment.",
    "physical touch": "If my partner is upset, I reach for their hand before I say anything.",
}
RULES_TRAIT = {
    ("neuroticism", True): "If plans change at the last minute, I feel rattled and need "
    "reassurance that nothing is wrong.",
    ("extraversion", True): "If we have a free weekend, I fill it with friends and outings "
    "unless my partner asks otherwise.",
    ("extraversion", False): "If we have been out with people all evening, I need quiet time "
    "alone before I can be close again.",
    ("openness", True): "If my partner suggests something new, I say yes before I have "
    "thought it through.",
    ("agreeableness", False): "If I think my partner is wrong, I tell them directly, even if "
    "it stings.",
}


def _level(value: float) -> bool:
    return value >= 0.5


def _sentence_count(words: list[str]) -> int:
    return sum(len(s.split()) for s in words)


def write_intake(ctx: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    person, facts = ctx["person"], ctx["evidence"]
    name = str(person["name"])
    first = name.split()[0]
    style = str(facts["attachment"]["style"])
    traits: dict[str, float] = facts["big_five"]
    conflict = str(facts["conflict_style"]["approach"])
    conflict = conflict if conflict in CONFLICT else "pause"
    how = str(facts["conflict_style"]["description"])
    love = str(facts["love_language"])
    values = [str(v) for v in facts["values"]]
    own = " ".join(str(person.get("self_description", "")).split()[:30])

    closeness, tell = ATTACHMENT[style]
    # The two most pronounced traits say the most about a person; order them by distance from 0.5.
    marked = sorted(traits, key=lambda t: -abs(traits[t] - 0.5))
    trait_lines = [TRAIT_SENTENCES[(t, _level(traits[t]))] for t in marked[:3]]
    core = [
        f"You are {first}, {person['age']}, {_article(str(person['occupation']))}.",
        f"In your own words: \u201c{own}\u201d" if own else "",
        *trait_lines,
        closeness,
        tell,
        CONFLICT[conflict],
        LOVE.get(love, ""),
        f"What you hold on to most is {_join(values)}, and a partner who scorns them will "
        "not keep your trust for long.",
    ]
    sentences = [s for s in core if s]
    extras = list(EXTRAS)
    rng.shuffle(extras)
    for extra in extras:
        if _sentence_count(sentences) >= SYNOPSIS_MIN:
            break
        sentences.append(extra)
    while _sentence_count(sentences) > SYNOPSIS_MAX and len(sentences) > 3:
        sentences.pop(2)  # drop a trait line before anything about attachment or love
    for t in marked[3:]:  # still short (a very terse intake): the remaining traits
        if _sentence_count(sentences) >= SYNOPSIS_MIN:
            break
        sentences.append(TRAIT_SENTENCES[(t, _level(traits[t]))])

    rules = [*RULES_ATTACHMENT[style], RULES_CONFLICT[conflict]]
    if love in RULES_LOVE:
        rules.append(RULES_LOVE[love])
    for t in marked:
        rule = RULES_TRAIT.get((t, _level(traits[t])))
        if rule and rule not in rules:
            rules.append(rule)
        if len(rules) >= 6:
            break
    if values:
        rules.append(
            f"If my partner dismisses something I care about, such as {values[0]}, I say so "
            "plainly rather than let it pass."
        )
    while len(rules) < 5:
        rules.append("If I have been short with my partner, I come back later and own it.")

    summary = (
        f"{name} is {_article(str(person['occupation']))} who values {_join(values)}. "
        f"{first} leans {style} in attachment and feels loved through {love}. "
        f"In conflict, {first} {how[:1].lower()}{how[1:].rstrip('.')}."
    )
    return {"summary": summary, "synopsis": " ".join(sentences), "if_then_rules": rules[:7]}


def _article(noun: str) -> str:
    noun = noun.strip()
    if noun[1:2].islower():  # "Public librarian" reads as a common noun mid-sentence; "UX …" not
        noun = noun[:1].lower() + noun[1:]
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def _join(items: list[str]) -> str:
    items = [i.lower() for i in items]
    if len(items) <= 1:
        return items[0] if items else "honesty"
    return ", ".join(items[:-1]) + " and " + items[-1]
