"""Many simulations: batch spec, runner (supervisor), event bus, run log, reader, live state."""
