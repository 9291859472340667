"""Word material for the simulator: phrase pools by approach, tension and feeling, and helpers
that read persona details (first names, pronouns, values, styles) out of a profile."""

from __future__ import annotations

import random
from typing import Any

SETTINGS = [
    "a rain-streaked café window booth", "the kitchen at 11 p.m.", "a crowded rooftop bar",
    "a parked car outside the apartment", "a quiet trail above the city",
    "a friend's noisy birthday party", "the laundromat on a Sunday", "a hospital corridor",
    "a video call with a frozen picture", "the ferry home", "a half-packed living room",
    "a bench in the botanical garden", "a late train with no free seats",
    "the back row of a half-empty cinema", "a farmers' market", "the stairwell of the building",
    "a dim noodle bar near closing time", "the balcony with the broken chair",
    "a supermarket queue on a Friday evening", "the beach after the lifeguards have gone",
    "a borrowed cabin with a wood stove", "the back seat of a taxi in traffic",
    "a museum café between exhibitions", "the bedroom with the lights off",
    "a wedding reception where they know almost no one", "a park bench in the first snow",
]
OPENINGS = [
    "The air feels heavier than usual.", "Neither of them has said the obvious thing yet.",
    "A phone buzzes on the table and both of them look at it.",
    "Someone laughs too loudly nearby.", "The silence stretches a beat too long.",
    "It starts, as these things do, with something small.",
    "The radio is playing a song neither of them likes.", "Rain taps against the glass.",
    "One of them has rehearsed this on the way over.", "Their coffee has gone cold.",
    "There is a joke in the air that nobody is making.",
    "It is later than either of them meant it to be.",
]
GOALS = {
    "secure": ["to understand what {p} needs", "to stay honest without escalating",
               "to say the true thing kindly", "to find out where {p} really stands"],
    "anxious": ["to hear that {p} is still in this", "to not be left guessing again",
                "to feel chosen by {p}", "to get an answer before the night is over"],
    "avoidant": ["to keep some room to breathe", "to get through this without a big scene",
                 "to keep this from turning into a referendum", "to stay in control of the pace"],
    "fearful": ["to get close without getting hurt", "to test whether {p} can be trusted",
                "to ask for something without being laughed at",
                "to find out if it is safe to want this"],
}
MOOD_GOALS = {
    "hurt": ["to find out whether {p} even noticed how the last weeks felt",
             "to stop pretending the last fight is forgotten"],
    "good": ["to keep the warmth of the last weeks going", "to build on how good things have been"],
}

# Options the Scene Master frames, per approach. {p}: the partner's first name; {love}: the
# partner's love language; {value}: one of the actor's values.
FRAMED = {
    "repair": [
        "Apologise for your part in {topic} and ask what {p} needs.",
        "Acknowledge how {p} feels about {topic} and offer to try again.",
        "Admit you got {topic} wrong and suggest a fresh start.",
        "Ask {p} to tell you, without interruption, what hurt most.",
        "Name what you did and ask how to make it right.",
    ],
    "assert": [
        "Say plainly what you need from {p} about {topic}.",
        "Name the boundary you won't cross over {topic}.",
        "Explain why {value} matters to you here, and hold your ground.",
        "Tell {p} what you want to happen next, without softening it.",
    ],
    "withdraw": [
        "Go quiet and step away from the conversation about {topic}.",
        "Say you need space and leave the room.",
        "Check your phone and let the silence answer.",
        "Say you're too tired for this and go to bed.",
    ],
    "escalate": [
        "Blame {p} for how {topic} went wrong.",
        "Bring up every past time {p} let you down.",
        "Raise your voice and say {p} never listens.",
        "Accuse {p} of not caring about {topic} at all.",
        "Threaten to walk out if this happens again.",
    ],
    "deflect": [
        "Make a joke to steer away from {topic}.",
        "Change the subject to something easier.",
        "Say it's no big deal and move on.",
        "Turn the question back on {p}.",
    ],
    "affirm": [
        "Tell {p} how much they matter, whatever happens with {topic}.",
        "Thank {p} for being honest about {topic}.",
        "Offer {p} some {love}, the way they like to be loved.",
        "Remind {p} of a moment when you felt proud of the two of you.",
    ],
}

# What a partner says, per approach: a core sentence, sometimes a tail with a persona detail.
CORE = {
    "repair": [
        "I'm sorry about {topic}, {p}. I handled it badly.",
        "I got defensive, and that wasn't fair to you.",
        "Can we start this conversation again? I want to do it better.",
        "Tell me what it was like for you. I'll just listen.",
        "I don't want to win this. I want us to be okay.",
        "You were right to bring up {topic}, and I brushed it off.",
        "I hear that I hurt you, and I want to fix it.",
        "Let me try that again, slower this time.",
        "What would help right now, {p}? Honestly.",
    ],
    "affirm": [
        "Whatever happens with {topic}, I'm here.",
        "{p}, we'll figure it out together.",
        "I'm not going anywhere, okay?",
        "I'm really glad it's you I'm doing this with.",
        "You make the hard things feel smaller.",
        "Thank you for telling me. That took guts.",
        "I love how you handle things like {topic}.",
        "Come here. We're okay.",
        "I notice how much you try, {p}. I see it.",
    ],
    "assert": [
        "I need you to hear me on {topic}, not just nod.",
        "This matters to me, and I'm not going to pretend it doesn't.",
        "Here's what I need: honesty about {topic}, even when it's awkward.",
        "I'm not okay with how {topic} has been going.",
        "I want us to decide this together, not have it decided for me.",
        "I'd rather say this badly than not say it at all.",
        "I've thought about {topic} a lot, and my answer is still the same.",
        "I need something to change, {p}.",
    ],
    "withdraw": [
        "I can't do this right now.",
        "I need a minute. Maybe more than a minute.",
        "Let's just drop it.",
        "Fine. Whatever you think.",
        "I'm going to take a walk.",
        "I don't have the words for {topic} tonight.",
        "Can we not? Please.",
        "I'm tired, {p}.",
    ],
    "escalate": [
        "You always do this, {p}.",
        "This is exactly what happened last time, and you know it.",
        "Don't pretend {topic} is my fault.",
        "I'm sick of being the only one who tries.",
        "Do you even care about {topic}? Because it doesn't look like it.",
        "Every single time, {p}. Every single time.",
        "You never listen to a word I say.",
        "Maybe we just want different things.",
    ],
    "deflect": [
        "Well, this is a very normal amount of tension for a Tuesday.",
        "Okay, who wants snacks before we solve {topic}?",
        "Let's not make it a whole thing.",
        "Did you see the thing your sister posted?",
        "If this were a movie, this is where the music would swell.",
        "We can talk about {topic} some other time, right?",
        "You're cute when you're serious, you know that?",
        "Anyway. How was your day, really?",
    ],
}
TAIL = {
    "repair": ["You know {value} matters to me, and I didn't live up to it.",
               "I'd rather be {value_adj} with you than right.",
               "I don't want {topic} to be the thing that sticks."],
    "affirm": ["You're my favourite person to be {value_adj} with.",
               "Let me give you some {love} this week.", "That's what {value} looks like to me."],
    "assert": ["{value} isn't negotiable for me.", "I've been quiet about it for too long.",
               "I'm saying it because I want this to work."],
    "withdraw": ["Not tonight.", "I'll come back to it.", "I just need some air."],
    "escalate": ["I'm done pretending it's fine.", "Don't roll your eyes at me.",
                 "So much for {value}."],
    "deflect": ["Kidding. Mostly.", "Let's keep tonight light.", "Life's too short."],
}
# An opening that answers what the partner just did, by their approach and the tone of mine.
REACT = {
    ("escalate", "warm"): ["I can hear how angry you are.", "Okay. That landed.",
                           "You're upset, and you have reasons."],
    ("escalate", "cold"): ["Don't talk to me like that.", "Wow. Okay.",
                           "That's not fair and you know it."],
    ("withdraw", "warm"): ["Hey, don't disappear on me.", "Please don't shut me out."],
    ("withdraw", "cold"): ["Of course you're walking away.",
                           "You always go quiet right when it matters."],
    ("repair", "warm"): ["Thank you for saying that.", "That means more than you think."],
    ("repair", "cold"): ["An apology isn't enough this time.", "Sorry doesn't fix it."],
    ("affirm", "warm"): ["I needed to hear that.", "You always know what to say."],
    ("affirm", "cold"): ["That's sweet, but it's not the point.", "Nice words."],
    ("assert", "warm"): ["Fair enough.", "I hear you."],
    ("assert", "cold"): ["So it's all on me now?", "Says who?"],
    ("deflect", "warm"): ["Ha. But seriously.", "I love you, but don't dodge this."],
    ("deflect", "cold"): ["Nice try.", "Don't joke your way out of this."],
}
# What a partner does, per approach. Every phrase is unique across approaches: the simulator
# reads a turn's approach back from its behaviour when the transcript carries no tag.
BEHAVIOUR = {
    "repair": ["sits down beside them", "lowers their voice", "reaches for their hand",
               "puts the phone face down", "takes a slow breath and turns to face them"],
    "affirm": ["squeezes their shoulder", "smiles and holds their gaze", "pulls them into a hug",
               "tucks a strand of hair behind their ear", "laughs softly and leans closer"],
    "assert": ["sits up straight", "holds their gaze", "speaks slowly and clearly",
               "sets both hands flat on the table", "does not look away"],
    "withdraw": ["looks away toward the window", "picks up their coat", "stares at the phone",
                 "turns toward the wall", "goes very still"],
    "escalate": ["sets the cup down hard", "raises their voice", "throws up their hands",
                 "paces across the room", "slams the drawer shut"],
    "deflect": ["grins and nudges them", "shrugs and changes the music",
                "starts clearing the plates", "makes a face", "laughs a little too loudly"],
}
BEHAVIOUR_LOOKUP = {phrase: approach for approach, ps in BEHAVIOUR.items() for phrase in ps}
INTENTIONS = {
    "repair": ["If I don't own my part, this never heals.", "Softness first; the rest can wait.",
               "I want to fix this more than I want to be right."],
    "affirm": ["They need to know I'm on their side.", "Say the kind thing while it's true.",
               "I want them to feel chosen."],
    "assert": ["If I don't say it now, I never will.", "Someone has to say it out loud.",
               "I can be kind and still be clear."],
    "withdraw": ["Not tonight. I can't do this tonight.", "If I step back, maybe it passes.",
                 "I need to get out of this room."],
    "escalate": ["I'm not letting this slide again.", "Let them feel it for once.",
                 "I'm tired of being the one who bends."],
    "deflect": ["A little lightness might get us through this.", "Laugh, or this gets heavy.",
                "Maybe if I don't look at it, it shrinks."],
}
# Inner reactions to what the partner just did, by its approach and the listener's attachment.
HEARD = {
    "withdraw": {"anxious": ["There it is: the door closing again.",
                             "Why does {p} always leave right when I need them?"],
                 "fearful": ["I knew it. I get close and {p} pulls away."],
                 "_": ["{p} needs space. I can give that, for now."]},
    "escalate": {"avoidant": ["Too much. I want out of this room.",
                              "I shut down when {p} gets loud like this."],
                 "fearful": ["This is how it always starts to fall apart."],
                 "_": ["That stung more than {p} knows."]},
    "deflect": {"anxious": ["A joke, again, instead of an answer."],
                "_": ["{p} is dodging, and we both know it."]},
    "assert": {"avoidant": ["It feels like a demand, and I bristle."],
               "_": ["{p} means it. I should listen."]},
    "repair": {"_": ["{p} is trying. I can feel it.", "Something in me unclenches."]},
    "affirm": {"anxious": ["I needed that more than I'd admit."],
               "avoidant": ["It's nice. A little much, but nice."],
               "_": ["That landed somewhere soft."]},
}
THOUGHTS = {
    "joy": ["This feels good. I want more moments like this.", "I could get used to this."],
    "acceptance": ["I can live with this. We're okay.", "This is what {value} feels like."],
    "fear": ["What if this is the beginning of the end?", "I don't want to lose this."],
    "surprise": ["I did not see that coming.", "Where did that come from?"],
    "sadness": ["Why does this have to hurt so much?", "I feel very far away from {p}."],
    "disgust": ["That crossed a line for me.", "I don't recognise us right now."],
    "anger": ["I'm tired of being the one who bends.", "How is this still happening?"],
    "anticipation": ["Something is about to change. I can feel it.",
                     "Whatever we decide tonight will matter."],
}
NARRATION = {
    "calm": [
        "{actor} glances at {other}, trying to read the mood before speaking.",
        "The conversation drifts back to {topic}, and {actor} feels the weight of it.",
        "{actor}, {style}, takes a moment before answering.",
        "At {setting}, the noise fades for a second and {actor} finds the words.",
        "{other} waits; {actor} can tell this matters.",
    ],
    "warm": [
        "Something eases between them, and {actor} leans into it.",
        "{other}'s last words soften the room; {actor} turns them over.",
        "{actor} feels the knot in the conversation loosen a little.",
        "For a moment {topic} seems smaller, and {actor} is the one to speak.",
    ],
    "tense": [
        "{other}'s last words hang in the air; {actor} has to answer them.",
        "Something in {other}'s tone catches {actor} off guard.",
        "The moment could tip either way, and {actor} feels it.",
        "{actor} notices {other}'s jaw tighten and takes a breath.",
        "The space between them at {setting} suddenly feels very wide.",
        "{actor}, {style}, is struggling to stay that way.",
    ],
}
FEELINGS = {
    2: ["closer than before", "safe", "grateful", "tender", "lucky"],
    1: ["hopeful", "quietly committed", "warm", "relieved", "fond"],
    0: ["uncertain", "tired but okay", "thoughtful", "unsettled", "restless"],
    -1: ["hurt and wary", "frustrated", "lonely", "disappointed", "on edge"],
    -2: ["worn out", "angry", "numb", "done pretending", "far away"],
}
REFLECT = {
    2: ["{me} realises {p} showed up when it counted.",
        "For the first time in a while, {me} feels properly seen by {p}.",
        "{me} thinks this is what {value} looks like in practice."],
    1: ["{me} thinks they handled {topic} better than expected.",
        "It wasn't perfect, but {me} feels they are learning each other.",
        "{me} feels a little more sure of {p}."],
    0: ["{me} isn't sure yet what {topic} changed.",
        "{me} keeps turning the conversation over without reaching a verdict.",
        "Some of it went well; some of it {me} would take back."],
    -1: ["{me} keeps replaying the moment it went wrong.",
         "{me} wonders why talking about {topic} is so hard with {p}.",
         "Something was left unsaid, and {me} can feel it."],
    -2: ["{me} is starting to wonder whether {p} wants the same things.",
         "{me} feels more alone after the conversation than before it.",
         "{me} can't shake the sense that something broke tonight."],
}
DID = {  # what a turn looked like from outside, for summaries and reasoning
    "repair": ["apologised", "tried to repair things", "owned {poss} part"],
    "affirm": ["reassured {other}", "said something kind", "reached out warmly"],
    "assert": ["stood {poss} ground", "said plainly what {subj} needed", "named the problem"],
    "withdraw": ["went quiet", "pulled away", "left the conversation hanging"],
    "escalate": ["lost {poss} temper", "went on the attack", "brought up old grievances"],
    "deflect": ["joked it away", "changed the subject", "dodged the question"],
}
TIME_PASSED = [
    "a few days later", "two weeks later", "a month later", "that same weekend",
    "three months later", "the following spring", "after a quiet week", "six weeks on",
    "by the end of the summer", "the next morning",
]


def first_name(profile: dict[str, Any] | str) -> str:
    name = profile if isinstance(profile, str) else str(profile.get("name", ""))
    return name.split()[0] if name.split() else name


def pronouns(profile: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, object, possessive) from a profile's pronouns, 'they' when unknown."""
    given = str(profile.get("pronouns", "")).lower()
    if given.startswith("she"):
        return "she", "her", "her"
    if given.startswith("he"):
        return "he", "him", "his"
    return "they", "them", "their"


def value_of(profile: dict[str, Any], rng: random.Random) -> str:
    values = [str(v) for v in profile.get("values") or [] if str(v).strip()]
    return rng.choice(values) if values else rng.choice(("honesty", "kindness", "trust"))


def value_adj(value: str) -> str:
    return {"honesty": "honest", "kindness": "kind", "patience": "patient",
            "curiosity": "curious", "loyalty": "loyal", "freedom": "free",
            "independence": "independent", "adventure": "adventurous"}.get(value, "honest")


def style_of(profile: dict[str, Any]) -> str:
    """The first clause of a persona's communication style, for narration ('measured and
    reflective'), or a trait-free default."""
    style = str(profile.get("communication_style", "")).split(";")[0].split(",")[0].strip()
    return style[:1].lower() + style[1:] if style else "usually easy to read"


def love_of(profile: dict[str, Any]) -> str:
    return str(profile.get("love_language", "")).strip() or "quality time"


def rule_of(profile: dict[str, Any], rng: random.Random) -> str | None:
    rules = [str(r) for r in profile.get("if_then_rules") or [] if str(r).strip()]
    return rng.choice(rules) if rules else None
