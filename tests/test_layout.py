"""The repository layout of DESIGN.md: ``platform/`` must never shadow the standard library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import plugins
from jiuzhu.plugins.registry import installed_entry_points, load_plugins

ROOT = Path(__file__).resolve().parent.parent


def test_stdlib_platform_is_not_shadowed_from_the_repo_root():
    out = subprocess.run(
        [sys.executable, "-c", "import platform, sqlalchemy; print(platform.python_implementation())"],
        cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() in {"CPython", "PyPy"}


def test_platform_folder_is_not_a_package():
    import platform

    assert not (ROOT / "platform" / "__init__.py").exists()
    assert Path(platform.__file__).resolve().parent != ROOT / "platform"


def test_discovered_plugins_equal_the_plugin_folders_and_the_core_baseline():
    folders = {p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()}
    assert folders == {"shexian", "ningxia", "jingdezhen", "zongyang", "dangtu"}
    # The national baseline lives in the core and is the one plugin that is not a folder.
    assert {ep.name for ep in installed_entry_points()} == folders | {"baseline"}
    assert set(load_plugins().keys()) == folders | {"baseline"}
    assert Path(plugins.__file__).resolve().parent == ROOT / "plugins"


def test_importing_the_core_has_no_side_effects():
    code = ("import sys, jiuzhu, jiuzhu.db, jiuzhu.tenancy.models, jiuzhu.auth.models; "
            "assert 'flask_admin' not in sys.modules, 'admin imported at import time'")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env={"PATH": "/usr/bin:/bin"})
