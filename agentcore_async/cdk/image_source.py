"""The agent image's build context: the engine, the kind SDK and the user's kind directories.

Staged into one directory at synth time, so the image holds exactly what was checked here, from a
checkout or from an installed package alike. Each kind directory keeps its own name in the image
(``kinds/word_count.py`` is the module ``kinds.word_count``, as in the user's project), and every
kind module is imported once at synth: a module that does not import or defines no ``KIND`` stops
synth with one line naming it, rather than a runtime that fails to start on AWS.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import agentcore_async
from agentcore_async.contract import ImageLayout

PACKAGE_DIR: Final = Path(agentcore_async.__file__).resolve().parent
IMAGE_PACKAGE_PARTS: Final = ("__init__.py", "contract", "kinds")
"""What the image needs of ``agentcore_async``: not the client, not this CDK package."""
RESERVED: Final = frozenset({"agent", "agentcore_async", ImageLayout.USER_KINDS})
LEFT_OUT: Final = shutil.ignore_patterns("__pycache__", "*.pyc", ".*", "tests", "*.egg-info")


class KindsDirError(ValueError):
    """A kind directory that cannot go into the image; the message names it and why."""


@dataclass(frozen=True)
class ImageSource:
    """A staged build context and the kind modules it adds."""

    directory: Path
    extra_kinds: tuple[str, ...]


def engine_dir() -> Path:
    """The directory holding ``agent/`` (with its Dockerfile): the checkout's root, or the copy an
    installed package carries."""
    for candidate in (PACKAGE_DIR.parent, PACKAGE_DIR / "cdk" / "engine"):
        if (candidate / "agent" / "Dockerfile").is_file():
            return candidate
    raise KindsDirError(f"no agent engine next to {PACKAGE_DIR}: reinstall agentcore-async")


def kind_modules(kinds_dir: Path) -> list[str]:
    """The module path of each kind module of ``kinds_dir``: its top-level ``*.py`` files."""
    return [
        f"{kinds_dir.name}.{path.stem}"
        for path in sorted(kinds_dir.glob("*.py"))
        if not path.name.startswith("_")
    ]


def _check_dirs(kinds_dirs: Sequence[Path]) -> None:
    seen: set[str] = set()
    for kinds_dir in kinds_dirs:
        if not kinds_dir.is_dir():
            raise KindsDirError(f"kinds_dir {kinds_dir}: not a directory")
        name = kinds_dir.name
        if not name.isidentifier() or name in RESERVED:
            allowed = f"a Python identifier other than {', '.join(sorted(RESERVED))}"
            raise KindsDirError(f"kinds_dir {kinds_dir}: its name must be {allowed}")
        if name in seen:
            raise KindsDirError(f"kinds_dir {kinds_dir}: two kind directories are named {name}")
        seen.add(name)
        if not kind_modules(kinds_dir):
            raise KindsDirError(f"kinds_dir {kinds_dir}: holds no kind module (*.py)")


_CHECK = """
import importlib, json, sys, traceback
from agentcore_async.kinds import TaskKind
problems, names = [], {}
for module in json.loads(sys.argv[1]):
    try:
        kind = getattr(importlib.import_module(module), "KIND", None)
    except BaseException as error:
        problems.append(f"{module} does not import: {type(error).__name__}: {error}".splitlines()[0])
        continue
    if not isinstance(kind, TaskKind):
        problems.append(f"{module} defines no KIND = TaskKind(...)")
    elif kind.name in names:
        problems.append(f"{module}: kind {kind.name!r} is also defined by {names[kind.name]}")
    else:
        names[kind.name] = module
print(json.dumps(problems))
"""


def check_kinds(staged: Path, modules: Sequence[str]) -> None:
    """Import each kind module from ``staged`` in a fresh interpreter; raise on the first problem."""
    roots = os.pathsep.join(ImageLayout.import_roots(str(staged)))
    env = {**os.environ, "PYTHONPATH": roots, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _CHECK, json.dumps(list(modules))],
        cwd=staged,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise KindsDirError(f"checking the kind modules failed: {done.stderr.strip().splitlines()[-1:]}")
    problems: list[str] = json.loads(done.stdout.splitlines()[-1])
    if problems:
        raise KindsDirError(f"kind module {problems[0]}")


def stage_image_source(target: Path, kinds_dirs: Sequence[Path]) -> ImageSource:
    """Copy the engine, the kind SDK and ``kinds_dirs`` into ``target`` (a new directory)."""
    dirs = [Path(kinds_dir).resolve() for kinds_dir in kinds_dirs]
    _check_dirs(dirs)
    shutil.copytree(engine_dir() / "agent", target / "agent", ignore=LEFT_OUT)
    package = target / "agentcore_async"
    package.mkdir()
    for part in IMAGE_PACKAGE_PARTS:
        source = PACKAGE_DIR / part
        if source.is_dir():
            shutil.copytree(source, package / part, ignore=LEFT_OUT)
        else:
            shutil.copy2(source, package / part)
    user_kinds = target / ImageLayout.USER_KINDS
    user_kinds.mkdir()
    modules: list[str] = []
    for kinds_dir in dirs:
        shutil.copytree(kinds_dir, user_kinds / kinds_dir.name, ignore=LEFT_OUT)
        modules += kind_modules(kinds_dir)
    (user_kinds / ImageLayout.KINDS_LIST).write_text(
        "".join(f"{module}\n" for module in modules), encoding="utf-8"
    )
    if modules:
        check_kinds(target, modules)
    return ImageSource(directory=target, extra_kinds=tuple(modules))


def staging_dir() -> Path:
    """A new directory to stage into, removed when the synthesizing process ends (the CDK has
    copied it into the cloud assembly by then)."""
    path = Path(tempfile.mkdtemp(prefix="agentcore-async-image-")) / "context"
    atexit.register(shutil.rmtree, path.parent, True)
    return path
