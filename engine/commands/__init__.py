"""One module per ``relsim`` subcommand; each exposes ``add_parser(subparsers)`` and ``run(args)``."""
