"""The code's shape, checked: no import cycles, kernels you can jump to."""
import ast
import inspect
import os
import re

import minicnn
import minicnn.kernels as k

PACKAGE_DIR = os.path.dirname(minicnn.__file__)


def _module_name(path):
    rel = os.path.relpath(path, os.path.dirname(PACKAGE_DIR))[:-3].replace(os.sep, ".")
    return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def _modules():
    """{module name: path} of every module in the minicnn package."""
    found = {}
    for folder, _, files in os.walk(PACKAGE_DIR):
        for f in files:
            if f.endswith(".py"):
                found[_module_name(os.path.join(folder, f))] = os.path.join(folder, f)
    return found


def import_graph():
    """{module: set of minicnn modules it imports}, at module level or inside functions."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        is_package = path.endswith("__init__.py")
        package = name if is_package else name.rsplit(".", 1)[0]
        edges = set()
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:          # `from . import x` may name a module
                    if f"{target}.{alias.name}" in modules:
                        edges.add(f"{target}.{alias.name}")
                    elif target in modules:
                        edges.add(target)
        edges.discard(name)
        graph[name] = edges
    return graph


def find_cycle(graph):
    """One import cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None
    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_import_graph_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_among_minicnn_modules():
    graph = import_graph()
    assert "minicnn.saving" in graph and "minicnn.model" in graph["minicnn.models"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_public_kernels_are_real_functions_with_shapes_in_their_docstrings():
    for name in k.KERNELS:
        fn = getattr(k, name)
        source = inspect.getsource(fn)
        assert source.startswith(f"def {name}("), name
        assert fn.__module__ == "minicnn.kernels", name
        assert re.search(r"\([\w*]+, ", fn.__doc__), f"{name}: no shape like (N, ...) in its docstring"


def test_every_kernel_has_a_twin_with_the_same_parameters():
    from minicnn.kernels import jit, reference
    for name in k.KERNELS:
        ours = list(inspect.signature(getattr(k, name)).parameters)
        for twin in (reference, jit):
            assert list(inspect.signature(getattr(twin, name)).parameters) == ours, (twin, name)
