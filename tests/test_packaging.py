"""Packaging promises: the README's commands are what CI runs, and a built wheel carries the widget
bundle, leaves tests and notebooks out, and installs and works with no Node.js on the PATH."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    """The commands of the first shell block of the README (the newcomer's first screen)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block is not None, "the README has no bash block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_first_screen_has_exactly_the_two_commands_ci_runs() -> None:
    commands = readme_commands()
    assert commands == ["make demo", "make test"]
    first_screen = (ROOT / "README.md").read_text(encoding="utf-8").split("\n---\n", 1)[0]
    assert "make demo" in first_screen
    assert "make test" in first_screen
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    for command in commands:
        assert command in ci, f".ci/run does not run the README's {command!r}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (found,) = out.glob("trellis_jupyter-*.whl")
    return found


def test_wheel_carries_the_bundle_and_no_tests_or_notebooks(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "trellis_jupyter/static/widget.js" in names
    assert "trellis_jupyter/static/widget.css" in names
    assert "trellis_jupyter/py.typed" in names
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "js/", "benchmarks/"))]
    bundle = zipfile.ZipFile(wheel).read("trellis_jupyter/static/widget.js").decode()
    # Nothing is fetched from a CDN at run time.
    assert "cdn.jsdelivr.net" not in bundle
    assert "unpkg.com" not in bundle


def test_wheel_installs_and_shows_a_widget_without_node(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The dependencies come from the test environment (a path entry only: its editable install of
    # trellis_jupyter is a .pth file there, which a plain path entry does not process).
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        check=True,
    )
    script = """
import json, sys
import trellis_jupyter
HEAVY = ("starlette", "uvicorn", "altair", "anywidget", "pandas", "websockets")
heavy = sorted(m for m in HEAVY if m in sys.modules)
from trellis_jupyter import ChatWidget
w = ChatWidget()
bundle = w._repr_mimebundle_()
data = bundle[0] if isinstance(bundle, tuple) else bundle
print(json.dumps({"file": trellis_jupyter.__file__, "heavy": heavy, "keys": sorted(data),
                  "esm": len(str(w._esm))}))
"""
    result = subprocess.run(
        [str(python), "-c", script],
        check=True,
        capture_output=True,
        text=True,
        env={"PATH": str(env_dir / "bin"), "HOME": str(tmp_path)},  # no node, no npm
        cwd=tmp_path,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["file"].startswith(site), "the package was not imported from the wheel"
    assert report["heavy"] == [], f"import trellis_jupyter pulled in {report['heavy']}"
    assert "application/vnd.jupyter.widget-view+json" in report["keys"]
    assert "text/html" in report["keys"] or "text/plain" in report["keys"]
    assert report["esm"] > 100_000, "the widget's bundle did not load from the installed wheel"
