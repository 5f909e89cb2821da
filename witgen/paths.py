"""Where witgen's own files live: the grammar, the default WIT contract and the Jinja templates.

The repository keeps `wit/` and `sdk_templates/` at its top level, beside the `witgen/` package.
An installed wheel has no checkout around it: the build (`setup.py`'s build_py hook) copies both
folders into the package as `witgen/_data/`. At run time the package's own copy is used when it
is there (wheel or sdist install, any working directory), the checkout's folders otherwise
(editable install, `python -m witgen` from the repository).

A file of witgen's own that is missing or unreadable means a broken installation: every read
goes through `read_text`/`template_loader`, which turn it into one line naming the file and how to
reinstall (`InstallError`, exit status 2), never a traceback.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from witgen.diagnostics import UsageError

if TYPE_CHECKING:
    import jinja2


def _package_dir() -> Path:
    root = resources.files("witgen")
    # witgen is always installed as files (wheels are unpacked), so this is a real directory.
    return root if isinstance(root, Path) else Path(str(root))


PACKAGE_DIR = _package_dir()
# The checkout that holds the package; only meaningful for editable installs and the tests.
REPO_ROOT = PACKAGE_DIR.parent
BUNDLED = PACKAGE_DIR / "_data"
IS_BUNDLED = BUNDLED.is_dir()


def _data_dir(name: str) -> Path:
    return BUNDLED / name if IS_BUNDLED else REPO_ROOT / name


DEFAULT_WIT = _data_dir("wit")
TEMPLATES = _data_dir("sdk_templates")
GRAMMAR = PACKAGE_DIR / "frontend" / "wit.lark"


class InstallError(UsageError):
    """A file of witgen's own is missing or unreadable: the installation is broken (exit 2)."""


def reinstall_hint() -> str:
    if IS_BUNDLED:
        return "reinstall witgen: pip install --force-reinstall witgen"
    return f"restore the checkout ({REPO_ROOT}) and reinstall: pip install -e {REPO_ROOT}"


def broken(path: Path | str, reason: str = "missing") -> InstallError:
    return InstallError(f"broken witgen installation: {path} is {reason}; {reinstall_hint()}")


def _reason(err: OSError) -> str:
    if isinstance(err, FileNotFoundError):
        return "missing"
    if isinstance(err, PermissionError):
        return "unreadable (permission denied)"
    return f"unreadable ({err.strerror or err})"


def read_text(path: Path) -> str:
    """The text of one of witgen's own files (grammar, runtime source shipped with witgen)."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise broken(path, _reason(err)) from None
    except UnicodeDecodeError:
        raise broken(path, "corrupt (not UTF-8)") from None


def default_wit() -> Path:
    """The embedded default contract (`wit/`), checked to be there."""
    if not DEFAULT_WIT.is_dir():
        raise broken(DEFAULT_WIT)
    if not any(DEFAULT_WIT.glob("*.wit")):
        raise broken(DEFAULT_WIT, "empty (no .wit file)")
    return DEFAULT_WIT


def template_loader(lang: str) -> jinja2.BaseLoader:
    """The Jinja loader of `sdk_templates/<lang>/` (or a folder below it, `rust/scaffold`) that
    reports a broken installation."""
    import jinja2

    class TemplateLoader(jinja2.FileSystemLoader):
        def get_source(
            self, environment: jinja2.Environment, template: str
        ) -> tuple[str, str, Callable[[], bool]]:
            where = TEMPLATES / lang / template
            try:
                return super().get_source(environment, template)
            except jinja2.TemplateNotFound:
                raise broken(where) from None
            except OSError as err:
                raise broken(where, _reason(err)) from None
            except UnicodeDecodeError:
                raise broken(where, "corrupt (not UTF-8)") from None

    return TemplateLoader(str(TEMPLATES / lang))
