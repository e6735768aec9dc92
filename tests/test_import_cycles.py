"""No import cycles among the modules of `src/`, read statically with `ast`.

A cycle is a set of modules each of which, through its imports, ends up
importing the others. Python may cope with one at run time, by luck of which
module is imported first, but it means neither module can be read, moved or
tested alone; a reordering of imports then fails with a partially
initialised module. The walk below counts every import that can run:

- module-level and function-level ones alike (a function-level import is a
  cycle that waits for the first call);
- `import a.b.c` and `from a.b.c import x` import `a.b.c` and every package
  above it (`a/__init__.py`, `a/b/__init__.py`): an import of a package is an
  import of its `__init__.py`;
- `from a.b import c` where `a/b/c.py` is a module imports that module as well;
- `importlib.import_module("a.b")` with a literal name, as `keras_recipes`'s
  lazy `__getattr__` does.

One exception, Python's own rule: before a module's first line runs, every
package above it has been initialised (or is being initialised), so
`import a` or `from a import submodule` inside `a/b.py` waits for nothing.
Taking a *value* from an enclosing package (`from a import CONSTANT` inside
`a/b.py`) does read its `__init__.py`, and counts.

The check fails naming each loop, smallest first, as `a -> b -> a`.
"""

import ast
import collections
import re
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"


# === The walk ===


def find_modules(root):
    """Map each dotted module name under `root` to `(path, is_package)`."""
    modules = {}
    for path in sorted(Path(root).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        if parts:
            modules[".".join(parts)] = (path, is_package)
    return modules


def _prefixes(dotted):
    """`"a.b.c"` gives `["a", "a.b", "a.b.c"]`: what importing `a.b.c` initialises."""
    parts = dotted.split(".")
    return [".".join(parts[: index + 1]) for index in range(len(parts))]


def _ancestors(name):
    """The packages enclosing module `name`, which Python has initialised before it runs."""
    return set(_prefixes(name)[:-1])


def _absolute(node, importer, is_package):
    """The absolute module named by an `ImportFrom` node, relative levels resolved."""
    if not node.level:
        return node.module
    package = importer if is_package else importer.rpartition(".")[0]
    base = package.split(".")
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name, path, is_package, modules):
    """The modules of `modules` that module `name` (at `path`) imports, as a set of names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    ancestors = _ancestors(name)
    found = set()

    def initialise(dotted):
        # Importing `dotted` runs every package above it, then itself; the
        # importer's own enclosing packages are already under way.
        found.update(
            prefix for prefix in _prefixes(dotted) if prefix in modules and prefix not in ancestors
        )

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                initialise(alias.name)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, name, is_package)
            initialise(source)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in modules:
                    initialise(submodule)
                elif source in modules:
                    # A value of `source`'s namespace: its `__init__.py` must
                    # have run, even when it encloses the importer.
                    found.add(source)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "importlib"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            initialise(node.args[0].value)
    found.discard(name)
    return found


def import_graph(root):
    """`{module: set of modules it imports}` for every module under `root`."""
    modules = find_modules(root)
    return {
        name: imports_of(name, path, is_package, modules)
        for name, (path, is_package) in modules.items()
    }


def strongly_connected_components(graph):
    """The strongly connected components of `graph` (Tarjan's algorithm, iterative), as sets."""
    index_of, lowlink, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index_of:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index_of[root] = lowlink[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index_of:
                    index_of[successor] = lowlink[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    lowlink[node] = min(lowlink[node], index_of[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
                if lowlink[node] == index_of[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def shortest_loop(graph, component):
    """A shortest loop through the first module of `component`, as `[a, b, ..., a]`."""
    start = min(component)
    previous = {start: None}
    queue = collections.deque([start])
    while queue:
        node = queue.popleft()
        for successor in sorted(graph[node] & component):
            if successor == start:
                # Walk back from the last module to `start`, then close the loop.
                path = [node]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if successor not in previous:
                previous[successor] = node
                queue.append(successor)
    raise AssertionError(f"no loop through {start} in {sorted(component)}")


def import_cycles(root):
    """One line per group of modules under `root` that import each other, smallest group first.

    Each line says how many modules the group holds and one shortest loop
    through it: `"2 modules: a -> b -> a"`.
    """
    graph = import_graph(root)
    groups = sorted(
        (component for component in strongly_connected_components(graph) if len(component) > 1),
        key=lambda component: (len(component), sorted(component)),
    )
    return [
        f"{len(component)} modules: {' -> '.join(shortest_loop(graph, component))}"
        for component in groups
    ]


def assert_no_import_cycles(root):
    """Fail, naming every loop, if modules under `root` import each other."""
    assert find_modules(root), f"no modules found under {root}"
    cycles = import_cycles(root)
    assert not cycles, f"import cycles under {root}:\n" + "\n".join(cycles)


# === The library ===


def test_src_has_no_import_cycles():
    """No module of src/ imports, through any chain of imports, itself (function-level imports included)."""
    assert_no_import_cycles(SRC)


def test_the_walk_sees_the_package_s_own_imports():
    """Control: the graph of src/ has the edges a reader sees, so an empty answer is not a blind walk."""
    graph = import_graph(SRC)
    # The faces re-export what the private modules define, so each imports
    # some of them; and most modules import another of the package.
    for face in ("keras_recipes", "keras_recipes.layers", "keras_recipes.param_count"):
        assert graph[face], f"{face} imports no module of the package"
    importing = [name for name, imported in graph.items() if imported]
    assert len(importing) > len(graph) // 2, importing


# === The check itself, on small packages written to tmp_path ===


def _write_package(root, files):
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


_CYCLES = {
    "module-level": (
        {"pkg/__init__.py": "", "pkg/a.py": "from pkg import b\n", "pkg/b.py": "import pkg.a\n"},
        "pkg.a -> pkg.b -> pkg.a",
    ),
    "function-level": (
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import pkg.b\n",
            "pkg/b.py": "def later():\n    from pkg.a import thing\n    return thing\n",
        },
        "pkg.a -> pkg.b -> pkg.a",
    ),
    "relative": (
        {"pkg/__init__.py": "", "pkg/a.py": "from . import b\n", "pkg/b.py": "from .a import x\n"},
        "pkg.a -> pkg.b -> pkg.a",
    ),
    "through-a-package-init": (
        # `pkg.a` imports `pkg.sub` (its `__init__.py`), which imports `pkg.a`.
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.sub.c import y\n",
            "pkg/sub/__init__.py": "from pkg import a\n",
            "pkg/sub/c.py": "y = 1\n",
        },
        "pkg.a -> pkg.sub -> pkg.a",
    ),
    "a-value-of-the-enclosing-package": (
        {"pkg/__init__.py": "from pkg import a\nVALUE = 1\n", "pkg/a.py": "from pkg import VALUE\n"},
        "pkg -> pkg.a -> pkg",
    ),
    "importlib-literal": (
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import importlib\ndef load():\n    return importlib.import_module('pkg.b')\n",
            "pkg/b.py": "from pkg.a import load\n",
        },
        "pkg.a -> pkg.b -> pkg.a",
    ),
    "three-modules": (
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": "from pkg import c\n",
            "pkg/c.py": "from pkg import a\n",
        },
        "pkg.a -> pkg.b -> pkg.c -> pkg.a",
    ),
}


@pytest.mark.parametrize(("files", "loop"), _CYCLES.values(), ids=list(_CYCLES))
def test_a_cycle_is_found_and_named(files, loop, tmp_path):
    """A package whose modules import each other fails the check, which names the loop module by module."""
    root = _write_package(tmp_path, files)
    size = loop.count(" -> ")
    assert import_cycles(root) == [f"{size} modules: {loop}"]
    with pytest.raises(AssertionError, match=re.escape(loop)):
        assert_no_import_cycles(root)


def test_two_separate_cycles_are_both_named(tmp_path):
    """Two independent loops are two lines, the shorter first."""
    root = _write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": "from pkg import a\n",
            "pkg/c.py": "from pkg import d\n",
            "pkg/d.py": "from pkg import e\n",
            "pkg/e.py": "from pkg import c\n",
        },
    )
    assert import_cycles(root) == [
        "2 modules: pkg.a -> pkg.b -> pkg.a",
        "3 modules: pkg.c -> pkg.d -> pkg.e -> pkg.c",
    ]


_NO_CYCLES = {
    "a-chain": {"pkg/__init__.py": "", "pkg/a.py": "from pkg import b\n", "pkg/b.py": "import os\n"},
    # A package's `__init__.py` re-exports its submodules, which import their
    # siblings through the package: Python initialises `pkg` first, so no wait.
    "re-exporting-init": {
        "pkg/__init__.py": "from pkg.a import f\nfrom pkg import b\n",
        "pkg/a.py": "from pkg import b\ndef f():\n    import pkg\n",
        "pkg/b.py": "x = 1\n",
    },
    # A name that merely looks like an import is not one.
    "strings-and-dynamic-names": {
        "pkg/__init__.py": "",
        "pkg/a.py": "import importlib\nNAME = 'pkg.b'\ndef f():\n    return importlib.import_module(NAME)\n",
        "pkg/b.py": "from pkg import a\n",
    },
}


@pytest.mark.parametrize("files", _NO_CYCLES.values(), ids=list(_NO_CYCLES))
def test_no_cycle_is_reported_where_there_is_none(files, tmp_path):
    """Imports that run one way only, or an enclosing package's submodules, give no loop."""
    root = _write_package(tmp_path, files)
    assert import_cycles(root) == []
    assert_no_import_cycles(root)
