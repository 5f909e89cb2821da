"""`python -m witgen` runs the CLI."""

from witgen.cli import console_main

console_main()
