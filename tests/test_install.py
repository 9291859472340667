"""A real, non-editable ``pip install`` of this checkout into a fresh virtual environment, then
the installed ``relsim`` run from an unrelated folder: personas, batches, turning points and
prompts must come from the installed package, not from the checkout.

Offline and fast: the build uses the running environment's setuptools (no build isolation, no
index), the package is installed without dependencies, and the new environment sees this
environment's site-packages (for textual, pydantic, …) through a ``.pth`` line. A ``.pth`` line
adds a directory but runs none of the ``.pth`` files inside it, so this checkout's editable
install stays invisible to the new environment.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("engine", "tui", "personas", "pyproject.toml", "README.md")


def _copy_checkout(dest: Path) -> Path:
    # A copy, so the in-tree build's build/ and *.egg-info never land in the checkout.
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` directory of a fresh venv holding relsim, installed from a copy of the repo."""
    tmp = tmp_path_factory.mktemp("install")
    source = _copy_checkout(tmp / "src")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    (Path(purelib) / "outer_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--no-index", str(source)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return venv / "bin"


def run(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_installed_package_is_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    code = "import engine, personas, tui; print(engine.__file__, personas.__file__, tui.__file__)"
    result = run(installed, tmp_path, "python", "-c", code)
    assert result.returncode == 0, result.stderr
    venv = str(installed.parent)
    for path in result.stdout.split():
        assert path.startswith(venv) and not path.startswith(str(ROOT / "engine")), path


def test_installed_relsim_works_from_any_folder(installed: Path, tmp_path: Path) -> None:
    result = run(installed, tmp_path, "relsim", "simulate", "aiko", "kwame", "--scenes", "1",
                 "--beats", "1")
    assert result.returncode == 0, result.stderr
    assert "Scene 1:" in result.stdout and "Commitment log" in result.stdout

    result = run(installed, tmp_path, "relsim", "personas")
    assert result.returncode == 0, result.stderr
    assert "aiko-tanaka" in result.stdout and "shipped" in result.stdout
    assert "demo" in result.stdout  # the shipped batches are listed too

    # A shipped batch by name: explicit_pairs.toml names personas by id, first name and by
    # "personas/…toml" path, and fixes a plan of turning points.
    result = run(installed, tmp_path, "relsim", "run", "explicit-pairs", "--out", "runs",
                 "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "completed" in result.stdout and "15" in result.stdout
    result = run(installed, tmp_path, "relsim", "runs", "--out", "runs")
    assert result.returncode == 0 and "completed" in result.stdout

    # `relsim demo` opens the dashboard on the shipped demo batch: the batch must load.
    code = ("from engine.batch.spec import demo_batch_path, load_batch; "
            "print(len(load_batch(demo_batch_path()).expand()))")
    result = run(installed, tmp_path, "python", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "12"


def test_user_personas_shadow_shipped_ones(installed: Path, tmp_path: Path) -> None:
    folder = tmp_path / "personas"
    folder.mkdir()
    (folder / "aiko-tanaka.toml").write_text(
        'name = "Aiko Local"\nsummary = "A persona of this folder."\nattachment_style = "secure"\n'
    )
    result = run(installed, tmp_path, "relsim", "personas")
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if "aiko-tanaka" in x)
    assert "Aiko Local" in line and "./personas" in line
    result = run(installed, tmp_path, "relsim", "simulate", "aiko-tanaka", "kwame", "--scenes",
                 "1", "--beats", "1")
    assert result.returncode == 0, result.stderr
    assert "Aiko Local" in result.stdout
