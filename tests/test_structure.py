"""The shape of the package: no import circles, a CLI that uses only public library names and imports
nothing heavy, and the native layout's file names spelled in one module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "embedkit"
NATIVE_FILE_NAMES = ("meta.json", "vectors.npy", "vocab.txt")


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """``(module, imported names, line)`` of every import in the file, module level or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((a.name, [], node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([mod] if mod else []))
            out.append((mod, [a.name for a in node.names], node.lineno))
    return out


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for name, path in MODULES.items():
        for mod, names, _ in _imports(name, path):
            if not mod.startswith("embedkit"):
                continue
            targets = [f"{mod}.{n}" for n in names if f"{mod}.{n}" in MODULES] or [mod]
            for t in targets:
                while t not in MODULES and "." in t:
                    t = t.rsplit(".", 1)[0]
                if t in MODULES and t != name:
                    graph[name].add(t)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circles():
    graph = _graph()
    assert sum(len(v) for v in graph.values()) > 50  # the scan sees the package's imports
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_cli_imports_only_public_library_names():
    bad = []
    for name, path in MODULES.items():
        if not name.startswith("embedkit.cli"):
            continue
        for mod, names, line in _imports(name, path):
            if not mod.startswith("embedkit") or mod.startswith("embedkit.cli"):
                continue
            private = [n for n in names if n.startswith("_") and not n.endswith("__")] + [p for p in mod.split(".") if p.startswith("_")]
            if private:
                bad.append(f"{path.name}:{line} {mod} {private}")
    assert bad == []


def _string_constants(tree: ast.AST) -> list[tuple[str, int]]:
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [(n.value, n.lineno) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


def test_native_layout_file_names_live_in_the_native_format_module():
    owner = "embedkit.vectors.formats.native"
    assert any(f in s for s, _ in _string_constants(ast.parse(MODULES[owner].read_text())) for f in NATIVE_FILE_NAMES)
    bad = []
    for name, path in MODULES.items():
        if name == owner:
            continue
        for s, line in _string_constants(ast.parse(path.read_text(encoding="utf-8"))):
            if any(f in s for f in NATIVE_FILE_NAMES):
                bad.append(f"{name}:{line} {s[:60]!r}")
    assert bad == []


@pytest.mark.parametrize("entry", ["embedkit", "embedkit.cli"])
def test_light_imports(entry):
    mods = [m for m in MODULES if m.startswith("embedkit.cli.commands.")]
    code = (f"import sys, importlib; importlib.import_module({entry!r}); "
            f"[importlib.import_module(m) for m in {mods!r}]; "
            "print(' '.join(x for x in ('tensorflow', 'keras', 'faiss', 'pydantic', 'fastapi', 'uvicorn', "
            "'starlette', 'sklearn', 'gensim', 'matplotlib') if x in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PKG.parent).stdout.strip()
    assert out == ""
