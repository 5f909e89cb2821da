"""One module per `witgen` subcommand; see witgen/cli.py for the contract."""
