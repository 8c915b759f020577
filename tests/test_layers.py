"""Imports point one way: ``corpora`` <- ``citations`` <- ``refine``, and inside ``refine`` from
higher layers to lower ones only, with no cycle. Read from the source, so an import under
``TYPE_CHECKING`` or inside a function counts like any other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("corpora", "citations", "refine")

# The layers, lowest first: a module may import from its own layer or a lower one. A name ending
# in "." stands for a package and everything in it. This list is the one place the order is written.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("corpora.",),
    ("citations.",),
    ("refine.errors", "refine.usage"),
    ("refine._options", "refine._progress"),
    ("refine.constraints",),
    ("refine.lm.", "refine.retrieval."),
    ("refine.history", "refine.example"),
    ("refine.signatures.",),
    ("refine.program.",),
    ("refine.checks", "refine.metrics"),
    ("refine.evaluation.",),
    ("refine.optimizers.",),
    ("refine.rag.",),
    ("refine.testing.", "refine.cli."),
    ("refine",),
)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _layer(module: str) -> int:
    for rank, members in enumerate(LAYERS):
        for member in members:
            if module == member.rstrip(".") or (member.endswith(".") and module.startswith(member)):
                return rank
    raise AssertionError(f"{module} is in no layer of tests/test_layers.py: add it to LAYERS")


def _imports(module: str) -> set[str]:
    """The modules of ours that ``module`` imports, anywhere in its source."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import name` imports the submodule pkg.name when there is one.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_points_up(module: str) -> None:
    upward = sorted(t for t in GRAPH[module] if _layer(t) > _layer(module))
    assert not upward, f"{module} (layer {_layer(module)}) imports higher layers: {upward}"


def test_no_import_cycle() -> None:
    # Package __init__ files re-export their own modules, so an edge into one's own package is not a cycle.
    def edges(module: str) -> set[str]:
        return {t for t in GRAPH[module] if not (module.startswith(t + ".") and MODULES[t].name == "__init__.py")}

    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(edges(module)):
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module)


def test_refine_uses_only_public_names_of_citations_and_corpora() -> None:
    private = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if module.startswith("refine")
        for target in targets
        if target.split(".")[0] in ("citations", "corpora") and any(p.startswith("_") for p in target.split(".")[1:])
    )
    assert not private, f"refine reaches into private modules: {private}"


def test_the_top_level_of_refine_shows_the_layers() -> None:
    top = sorted(p.name for p in (ROOT / "refine").iterdir() if p.suffix == ".py")
    packages = sorted(p.name for p in (ROOT / "refine").iterdir() if (p / "__init__.py").exists())
    assert len(top) <= 15, top
    assert packages == ["cli", "evaluation", "lm", "optimizers", "program", "rag", "retrieval", "signatures", "testing"]
