"""Check the package a user installs: build it, look inside, install it fresh, run it.

``make package-check`` (part of ``make test``) runs this from the repository root with the
project's virtual environment. It

1. checks that the version has one source (``nukiasync/__init__.py``; pyproject reads it);
2. builds the sdist and, from it, the wheel with ``python -m build`` into a temporary
   directory, as pip would;
3. checks that both hold ``py.typed``, every module of the simulator and its scenario
   TOML files, and that the wheel declares the ``nukiasync`` command and the version;
4. installs the wheel (with its dependencies) into a new virtual environment and, from
   outside the checkout, runs ``nukiasync --help``, imports every name in
   ``nukiasync.__all__``, loads the built-in scenario and compares the installed version
   with ``nukiasync.__version__``.

It prints what it checked and exits 1 with the reason on the first failure.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "nukiasync"
VERSION_FILE = "nukiasync/__init__.py"

# Run inside the fresh environment, from a directory without the checkout on sys.path.
_PROBE = """
import importlib.metadata, json, sys
import nukiasync
import nukiasync.simulator
missing = [n for n in nukiasync.__all__ if not hasattr(nukiasync, n)]
scenario = nukiasync.simulator.builtin_scenario()
print(json.dumps({
    "file": nukiasync.__file__,
    "prefix": sys.prefix,
    "version": nukiasync.__version__,
    "dist_version": importlib.metadata.version("nukiasync"),
    "names": len(nukiasync.__all__),
    "missing": missing,
    "scenario_steps": len(scenario.steps),
}))
"""


class CheckError(Exception):
    """One thing about the package is wrong; the message says what."""


def main() -> int:
    """Run every check; return the exit status."""
    started = time.monotonic()
    try:
        version = _one_version_source()
        with tempfile.TemporaryDirectory(prefix="nukiasync-package-") as tmp:
            work = Path(tmp)
            wheel, sdist = _build(work / "dist")
            expected = _expected_files()
            _check_wheel(wheel, expected, version)
            _check_sdist(sdist, expected, version)
            _check_installed(wheel, work, version)
    except CheckError as err:
        print(f"package check FAILED: {err}", file=sys.stderr)
        return 1
    print(f"package check passed in {time.monotonic() - started:.1f} s")
    return 0


def _say(text: str) -> None:
    print(f"  ok  {text}", flush=True)


def _one_version_source() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    if "version" in project["project"] or "version" not in project["project"].get("dynamic", []):
        msg = "pyproject.toml must not set a version; it is dynamic, read from " + VERSION_FILE
        raise CheckError(msg)
    source = project.get("tool", {}).get("hatch", {}).get("version", {}).get("path")
    if source != VERSION_FILE:
        msg = f"[tool.hatch.version] path is {source!r}, not {VERSION_FILE!r}"
        raise CheckError(msg)
    text = (ROOT / VERSION_FILE).read_text(encoding="utf-8")
    found = re.findall(r'^__version__ = "([^"]+)"$', text, flags=re.MULTILINE)
    if len(found) != 1:
        msg = f"{VERSION_FILE} must assign __version__ exactly once, found {len(found)}"
        raise CheckError(msg)
    version: str = found[0]
    _say(f"one version source: {VERSION_FILE} says {version}")
    return version


def _build(outdir: Path) -> tuple[Path, Path]:
    command = [sys.executable, "-m", "build", "--outdir", str(outdir), str(ROOT)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        msg = f"python -m build failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        raise CheckError(msg)
    wheels = sorted(outdir.glob("*.whl"))
    sdists = sorted(outdir.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        msg = f"expected one wheel and one sdist, got {[p.name for p in outdir.iterdir()]}"
        raise CheckError(msg)
    _say(f"built {sdists[0].name} and, from it, {wheels[0].name}")
    return wheels[0], sdists[0]


def _expected_files() -> set[str]:
    """Paths (relative to the repository) that both archives must hold."""
    simulator = PACKAGE / "simulator"
    scenarios = sorted(simulator.glob("scenarios/*.toml"))
    if not scenarios:
        msg = "no scenario TOML files in the source tree"
        raise CheckError(msg)
    files = {"nukiasync/py.typed", "nukiasync/__init__.py", "nukiasync/cli/__init__.py"}
    files |= {p.relative_to(ROOT).as_posix() for p in simulator.glob("*.py")}
    files |= {p.relative_to(ROOT).as_posix() for p in scenarios}
    return files


def _check_wheel(wheel: Path, expected: set[str], version: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        _require(expected - names, "the wheel")
        info = f"nukiasync-{version}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    if f"\nVersion: {version}\n" not in metadata:
        msg = f"the wheel's METADATA does not say Version: {version}"
        raise CheckError(msg)
    if not re.search(r"^nukiasync = nukiasync\.cli:main$", entry_points, flags=re.MULTILINE):
        msg = "the wheel does not declare the console script nukiasync = nukiasync.cli:main"
        raise CheckError(msg)
    _say(f"wheel holds py.typed, the simulator and its scenarios ({len(expected)} files)")
    _say(f"wheel metadata: version {version}, console script nukiasync")


def _check_sdist(sdist: Path, expected: set[str], version: str) -> None:
    top = f"nukiasync-{version}"
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(top + "/") for name in archive.getnames()}
    _require(expected - names, "the sdist")
    _require({"pyproject.toml", "PKG-INFO"} - names, "the sdist")
    _say("sdist holds py.typed, the simulator, its scenarios and pyproject.toml")


def _require(missing: set[str], where: str) -> None:
    if missing:
        msg = f"{where} lacks {', '.join(sorted(missing))}"
        raise CheckError(msg)


def _check_installed(wheel: Path, work: Path, version: str) -> None:
    env = work / "venv"
    # No pip inside: the project's pip installs into it (--python), which saves seconds.
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(wheel)])
    _say(f"installed {wheel.name} with its dependencies into a new environment")
    help_text = _run([str(env / "bin" / "nukiasync"), "--help"], cwd=work)
    if "simulate" not in help_text:
        msg = "nukiasync --help does not list the simulate command"
        raise CheckError(msg)
    _say("nukiasync --help runs and lists its commands")
    probe = json.loads(_run([str(python), "-I", "-c", _PROBE], cwd=work))
    if not Path(probe["file"]).is_relative_to(probe["prefix"]):
        msg = f"imported nukiasync from {probe['file']}, not from the new environment"
        raise CheckError(msg)
    if probe["missing"]:
        msg = f"names in __all__ that do not import: {', '.join(probe['missing'])}"
        raise CheckError(msg)
    if not probe["version"] == probe["dist_version"] == version:
        msg = (
            f"versions differ: nukiasync.__version__ {probe['version']}, installed "
            f"distribution {probe['dist_version']}, source {version}"
        )
        raise CheckError(msg)
    _say(f"imported all {probe['names']} public names from the installed package")
    _say(f"built-in scenario loads from the installed package ({probe['scenario_steps']} steps)")
    _say(f"installed version {version} == nukiasync.__version__")


def _run(command: list[str], *, cwd: Path | None = None) -> str:
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, check=False)
    if result.returncode != 0:
        shown = " ".join(Path(part).name if "/" in part else part for part in command[:4])
        msg = f"`{shown} ...` exited {result.returncode}:\n{result.stderr[-3000:]}"
        raise CheckError(msg)
    return result.stdout


if __name__ == "__main__":
    sys.exit(main())
