"""The tests mirror the package, no test module imports another, citations resolve (issue 16).

Shared code lives in tests/support/; a test module that imports another one runs that
module's tests' setup twice and ties two files' edits together.
"""

from __future__ import annotations

import ast
import re

from tests.support.paths import ROOT

TESTS = ROOT / "tests"


def _imported_modules(tree: ast.Module, package: str) -> set[str]:
    """Every module name an import statement of the tree names, relative imports resolved."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _is_test_module(name: str) -> bool:
    return name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")


def test_no_test_module_imports_another() -> None:
    offenders: list[str] = []
    modules = sorted(TESTS.rglob("test_*.py"))
    assert len(modules) > 50  # the walk really found the suite
    for path in modules:
        package = ".".join(path.relative_to(ROOT).parent.parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders += [
            f"{path.relative_to(ROOT)} imports {name}"
            for name in sorted(_imported_modules(tree, package))
            if _is_test_module(name)
        ]
    assert offenders == [], "\n".join(offenders)


def test_the_rule_sees_each_form_of_import() -> None:
    forms = {
        "import tests.hub.test_hub": True,
        "from tests.hub.test_hub import running": True,
        "from tests.hub import test_hub": True,
        "from .test_hub import running": True,
        "from . import test_hub": True,
        "from tests.support.hub import running": False,
        "from tests.support import canary": False,
        "import pytest": False,
    }
    for source, expected in forms.items():
        names = _imported_modules(ast.parse(source), "tests.hub")
        assert any(_is_test_module(n) for n in names) is expected, source


def test_shared_helpers_live_in_support() -> None:
    """Only test modules, conftest.py and package markers sit in the test folders."""
    strays = [
        str(path.relative_to(ROOT))
        for path in TESTS.rglob("*.py")
        if not path.name.startswith("test_")
        and path.name not in {"__init__.py", "conftest.py"}
        and path.relative_to(TESTS).parts[0] not in {"support", "soak", "fixtures"}
    ]
    assert strays == []
    folders = [
        p for p in TESTS.iterdir() if p.is_dir() and p.name not in {"fixtures", "__pycache__"}
    ]
    assert [p.name for p in folders if not (p / "__init__.py").exists()] == []


def _cited_decisions(text: str) -> set[str]:
    """Decision numbers a text cites: "decision 0002", "decisions 0001 and 0014", ".../0011"."""
    cited = set(re.findall(r"docs/decisions/(\d{4})", text))
    for run in re.findall(r"[Dd]ecisions? (\d{4}(?:(?:, | and | or )\d{4})*)", text):
        cited.update(re.findall(r"\d{4}", run))
    return cited


def test_every_cited_decision_has_its_record() -> None:
    """Docstrings cite decisions by the records under docs/decisions/, and only those."""
    held = {path.name[:4] for path in (ROOT / "docs" / "decisions").glob("[0-9]*.md")}
    sources = [*ROOT.joinpath("nukiasync").rglob("*.py"), *ROOT.joinpath("examples").rglob("*.py")]
    sources += [*ROOT.joinpath("bench").rglob("*.py"), ROOT / "README.md", ROOT / "bench/README.md"]
    missing = {
        f"{path.relative_to(ROOT)}: decision {number}"
        for path in sources
        for number in _cited_decisions(path.read_text(encoding="utf-8"))
        if number not in held
    }
    assert not missing, sorted(missing)
    # Ids of notes outside the repository ("reliability.md A21", "(A17)"); B1..B7 are bench's.
    outside = re.compile(r"\w+\.md [A-Z]\d+|\((?!B\d)[A-Z]\d{1,2}\)")
    assert not [str(p.relative_to(ROOT)) for p in sources if outside.search(p.read_text())]


def test_the_citation_rule_reads_each_form() -> None:
    text = "decision 0002; decisions 0001 and 0014; see docs/decisions/0011-who.md"
    assert _cited_decisions(text) == {"0001", "0002", "0011", "0014"}
