"""The dashboard's ``relsim`` subcommands (the engine's own live in ``engine.commands``)."""
