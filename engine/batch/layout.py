"""File names of a run directory (described in ``engine.batch.runlog``). A module of its own so
that readers (analysis, the analysis cache) need not import the writer and the event models."""

EVENTS = "events.jsonl"
INDEX = "index.tsv"
MANIFEST = "manifest.json"
FACTS = "facts.jsonl"
