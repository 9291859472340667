"""One module per ``relsim`` subcommand, each with ``add_parser(subparsers)`` and ``run(args)``;
``_drive`` runs a batch from the terminal for ``run``, ``resume`` and ``rerun``."""
