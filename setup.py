"""Build hook: ship the top-level `wit/` and `sdk_templates/` inside the witgen package.

The repository keeps the default contract (`wit/`) and the Jinja templates (`sdk_templates/`) at
its top level (the design card fixes that layout). A wheel or an sdist-built install has no
checkout around it, so `build_py` copies both folders into `witgen/_data/` of the build tree;
`witgen.paths` finds them there at run time and falls back to the checkout for editable installs
(`pip install -e .`), where this copy does not run. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("wit", "sdk_templates")  # top-level folders -> witgen/_data/<name>/


class build_py_with_data(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # editable: witgen.paths reads the folders from the checkout itself
        target = Path(self.build_lib) / "witgen" / "_data"
        for name in BUNDLED:
            src = ROOT / name
            if not src.is_dir():
                raise SystemExit(f"cannot build witgen: {src} is missing")
            dest = target / name
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


setup(cmdclass={"build_py": build_py_with_data})
