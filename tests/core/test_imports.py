"""The package's import graph: no cycle, core never imports a chapter, chapters import only earlier chapters."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "course_utils"
CHAPTERS = ["cnn", "rnn_bptt", "lstm_gru", "gan", "autoencoders", "vae"]  # notebook order 01..06
# A chapter may build on these earlier chapters (chapter 06 compares its VAE with chapter 04's GAN, and
# chapter 04 scores generators with chapter 01's classifier).
MAY_IMPORT = {"cnn": set(), "rnn_bptt": set(), "lstm_gru": {"rnn_bptt"}, "gan": {"cnn"},
              "autoencoders": set(), "vae": {"autoencoders", "gan", "cnn"}}


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every course_utils module ``path`` imports, at module level or inside functions."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("course_utils")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("course_utils"):
                continue
            for a in node.names:  # `from . import train` imports the module course_utils.train
                sub = f"{mod}.{a.name}"
                found.add(sub if (PKG.parent / (sub.replace(".", "/") + ".py")).exists()
                          or (PKG.parent / sub.replace(".", "/")).is_dir() else mod)
    found.discard(name)
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PKG.rglob("*.py")}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle():
    # A package's __init__ imports its own modules; edges into a package __init__ from its children are not cycles
    # Python sees, so only module-to-module edges count (a package name stands for its __init__).
    edges = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph().items()}
    assert find_cycle(edges) is None, f"import cycle: {' -> '.join(find_cycle(edges))}"


def chapter_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in CHAPTERS else None


@pytest.mark.parametrize("module,deps", sorted(graph().items()))
def test_dependencies_point_one_way(module, deps):
    own = chapter_of(module)
    for dep in deps:
        other = chapter_of(dep)
        if other is None or other == own:
            continue
        assert own is not None, f"core module {module} imports chapter module {dep}"
        assert other in MAY_IMPORT[own], f"{module} (chapter {own}) imports {dep} (chapter {other})"


def test_plotting_does_not_import_train():
    assert "course_utils.train" not in graph()["course_utils.plotting"]
