"""`python -m witgen` runs the CLI."""

import sys

from witgen.cli import main

sys.exit(main())
