"""One module per ``relsim`` subcommand, each with ``add_parser(subparsers)`` and ``run(args)``."""
