"""Where witgen's own files live: the default WIT contract and the Jinja templates.

The repository layout is fixed (`wit/` and `sdk_templates/` beside the `witgen/` package); an
installed witgen is used from its checkout (`pip install -e .`).
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WIT = REPO_ROOT / "wit"
TEMPLATES = REPO_ROOT / "sdk_templates"
