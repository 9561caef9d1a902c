"""Issue 10 §3/§4: no import runs back up a floor (docs/architecture.md, "Floors").

Every ``import carbonpeak.X`` / ``from carbonpeak.X import ...`` in src/carbonpeak -- at module
level or inside a function -- is checked: a module may import from its own floor or below,
never from above.  The few justified exceptions are listed in :data:`EXCEPTIONS` with the
reason, and in docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import carbonpeak

SRC = Path(carbonpeak.__file__).resolve().parent

#: Top-level package (or module) of carbonpeak → floor, from the ground up.
FLOORS: dict[str, int] = {
    # 0: reference data and the shared basics every floor uses
    "catalog": 0, "errors": 0, "config": 0, "i18n": 0, "jsonutil": 0, "demo": 0, "__init__": 0,
    # 1: reading files, typed records
    "io": 1, "model": 1,
    # 2: the domain (pure engines)
    "accounting": 2, "targets": 2, "scenarios": 2, "monitoring": 2, "markets": 2, "footprint": 2,
    # 3: persistence, the only SQL
    "store": 3,
    # 4: use cases
    "workflows": 4,
    # 5: documents
    "reports": 5,
    # 6: interfaces
    "api": 6, "web": 6, "cli": 6,
}  # fmt: skip

#: (importing module, imported package) → why it is allowed for now.
EXCEPTIONS: dict[tuple[str, str], str] = {}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path, module: str) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names if a.name.startswith("carbonpeak.")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the module's package
                base = module.split(".")[: -node.level]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            if name == "carbonpeak":  # a subpackage, or a name of carbonpeak/__init__.py
                out += [
                    f"carbonpeak.{a.name}" if (SRC / a.name).exists() or (SRC / f"{a.name}.py").exists()
                    else "carbonpeak"
                    for a in node.names
                ]
            elif name.startswith("carbonpeak."):
                out.append(name)
    return out


def _modules() -> list[tuple[Path, str]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((path, ".".join(parts)))
    return out


def upward_imports() -> list[str]:
    bad = []
    for path, module in _modules():
        own = _package(module)
        for target in _imports(path, module):
            pkg = _package(target)
            if pkg not in FLOORS or own not in FLOORS:
                bad.append(f"{module} -> {target}: package without a floor (add it to FLOORS and the docs)")
                continue
            if FLOORS[pkg] > FLOORS[own] and (module, pkg) not in EXCEPTIONS:
                bad.append(f"{module} (floor {FLOORS[own]}) -> {target} (floor {FLOORS[pkg]})")
    return sorted(set(bad))


def test_every_package_has_a_floor():
    pkgs = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    pkgs |= {p.stem for p in SRC.glob("*.py")}
    assert sorted(pkgs - set(FLOORS)) == []


def test_no_import_runs_back_up_a_floor():
    assert upward_imports() == []


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The check can fail: a domain module importing the store is reported."""
    pkg = tmp_path / "carbonpeak" / "accounting"
    pkg.mkdir(parents=True)
    mod = pkg / "bad.py"
    mod.write_text("def f():\n    from carbonpeak.store.duck import Store\n    return Store\n")
    assert _imports(mod, "carbonpeak.accounting.bad") == ["carbonpeak.store.duck"]
    monkeypatch.setattr(f"{__name__}._modules", lambda: [(mod, "carbonpeak.accounting.bad")])
    assert upward_imports() == ["carbonpeak.accounting.bad (floor 2) -> carbonpeak.store.duck (floor 3)"]


def test_the_exceptions_are_documented():
    doc = (SRC.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    for module, _pkg in EXCEPTIONS:
        assert module in doc, f"{module}: record the exception in docs/architecture.md"
