"""The reference site covers the public API, and its navigation points at real pages.

The site is built by MkDocs from ``mkdocs.yml`` and ``docs/``; the API pages
(``docs/api/**/*.md``) hold one mkdocstrings block, ``::: minicnn.<path>``, per
documented object. CI builds it with ``mkdocs build --strict`` (``.ci/run``),
which fails on a block or a cross-reference whose object was renamed. These
tests only read files, so they run without MkDocs installed, and they fail:

* when a public name of a documented module (``__all__``, or for a module
  without one the classes and functions it defines) has no block in any API
  page, a new layer in ``minicnn.layers`` included. An alias (``MaxPool2D``)
  counts when the object it names has a block and the alias is written on
  some API page;
* when a module listed in ``NEW_MODULES`` exists but has no page yet;
* when ``mkdocs.yml``'s nav names a file that is missing, or leaves a page out;
* when the tolerance table of the parity page disagrees with
  ``minicnn.parity.compare.TOLERANCES``.

To document a new module: write ``docs/api/<name>.md`` (see the other pages),
add it to the nav in ``mkdocs.yml`` and to ``DOCUMENTED`` below.
"""
import importlib
import importlib.util
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API = DOCS / "api"
MKDOCS_YML = ROOT / "mkdocs.yml"

# Modules whose public names must each have a reference entry.
DOCUMENTED = (
    "minicnn", "minicnn.backend", "minicnn.utils", "minicnn.models", "minicnn.layers",
    "minicnn.activations", "minicnn.losses", "minicnn.optimizers", "minicnn.metrics",
    "minicnn.callbacks", "minicnn.initializers", "minicnn.regularizers",
    "minicnn.constraints", "minicnn.kernels", "minicnn.kernels.reference",
    "minicnn.kernels.optim_reference", "minicnn.tape", "minicnn.ops", "minicnn.zoo",
    "minicnn.applications", "minicnn.datasets", "minicnn.viz", "minicnn.parallel",
    "minicnn.saving", "minicnn.keras_io", "minicnn.parity",
)

# Modules being written as this site was made: documented as soon as they exist.
NEW_MODULES = ("minicnn.schedules", "minicnn.preprocessing", "minicnn.experiments",
               "minicnn.layers.preprocessing", "minicnn.applications.imagenet_utils")

DIRECTIVE = re.compile(r"^:::[ \t]+([\w.]+)[ \t]*$", re.M)


def _exists(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:        # a parent package is missing
        return False


def documented_modules():
    return list(DOCUMENTED) + [name for name in NEW_MODULES if _exists(name)]


def public_names(module):
    """``__all__``, or the classes and functions the module (or its package) defines."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [name for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
            and (getattr(obj, "__module__", None) or "").startswith(module.__name__)]


def api_pages():
    return sorted(API.rglob("*.md"))


def api_text():
    return "\n".join(p.read_text(encoding="utf-8") for p in api_pages())


def resolve(path):
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        if not _exists(name):
            continue
        obj = importlib.import_module(name)
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"no module in {path!r}")


def directive_targets():
    """``{path: (page, object)}`` for every ``::: path`` block of the API pages."""
    targets = {}
    for page in api_pages():
        for path in DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            targets[path] = (page.relative_to(DOCS).as_posix(), resolve(path))
    return targets


def nav_files():
    """The .md files named in mkdocs.yml's nav (read without a YAML library)."""
    text = MKDOCS_YML.read_text(encoding="utf-8")
    nav = text[text.index("\nnav:"):]
    return re.findall(r"^\s*-\s+(?:[^:\n]+:\s+)?([\w./-]+\.md)\s*$", nav, flags=re.M)


# --- the helpers -------------------------------------------------------------------

def test_helpers_find_directives_names_and_nav_entries(tmp_path):
    assert DIRECTIVE.findall("::: minicnn.layers.Dense\n    options:\n  ::: no\n::: a.b \n") == [
        "minicnn.layers.Dense", "a.b"]
    assert resolve("minicnn.layers.Dense") is importlib.import_module("minicnn.layers").Dense
    assert resolve("minicnn.kernels.reference") is importlib.import_module(
        "minicnn.kernels.reference")
    assert "Conv2D" in public_names(importlib.import_module("minicnn.layers"))
    losses = public_names(importlib.import_module("minicnn.losses"))    # no __all__
    assert "CategoricalCrossentropy" in losses and "np" not in losses
    assert {"index.md", "concepts/im2col.md", "api/layers/index.md"} <= set(nav_files())


# --- the API pages -----------------------------------------------------------------

def test_every_block_names_an_object():
    bad = []
    for page in api_pages():
        for path in DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            try:
                resolve(path)
            except (ImportError, AttributeError) as exc:
                bad.append(f"{page.relative_to(DOCS)}: ::: {path} ({exc})")
    assert not bad, "API blocks whose object does not exist:\n" + "\n".join(bad)


@pytest.mark.parametrize("module_name", documented_modules())
def test_every_public_name_has_a_reference_entry(module_name):
    module = importlib.import_module(module_name)
    documented = {id(obj) for _, obj in directive_targets().values()}
    text = api_text()
    missing, unnamed = [], []
    for name in public_names(module):
        obj = getattr(module, name)
        if id(obj) not in documented:
            missing.append(name)
        elif getattr(obj, "__name__", name).rpartition(".")[2] != name and \
                not re.search(rf"\b{re.escape(name)}\b", text):
            unnamed.append(f"{name} (= {obj.__name__})")
    assert not missing, (
        f"{module_name}: public names with no `::: ...` block in docs/api: {missing}. Add a "
        f"block for each to the page of its module (docs/api/...), e.g. "
        f"`::: {module_name}.{missing[0]}`")
    assert not unnamed, (
        f"{module_name}: aliases never mentioned on an API page: {unnamed}. Name each beside "
        f"the object it stands for (see docs/api/layers/index.md)")


@pytest.mark.parametrize("module_name", documented_modules())
def test_every_documented_module_has_a_block_of_its_own(module_name):
    """Its docstring is shown (``::: module`` with ``members: false``, usually): the
    page a new module gets, even before it has public names."""
    assert module_name in directive_targets(), (
        f"{module_name} exists but no API page has a `::: {module_name}` block: write "
        f"docs/api/<page>.md for it (see docs/api/losses.md) and list it in mkdocs.yml's nav")


def test_every_layer_class_has_its_own_block():
    layers = importlib.import_module("minicnn.layers")
    targets = directive_targets()
    for name, cls in layers.LAYER_CLASSES.items():
        assert f"minicnn.layers.{name}" in targets, (
            f"minicnn.layers.{name} has no `::: minicnn.layers.{name}` block in docs/api/layers")
        assert targets[f"minicnn.layers.{name}"][1] is cls


def test_no_object_has_two_blocks():
    """Two blocks for one object would give it two anchors, and cross-references an
    ambiguous target."""
    seen, twice = {}, []
    for path, (page, obj) in directive_targets().items():
        if inspect.ismodule(obj) or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if id(obj) in seen:
            twice.append(f"{path} ({page}) and {seen[id(obj)]}")
        seen[id(obj)] = f"{path} ({page})"
    assert not twice, "objects documented twice:\n" + "\n".join(twice)


# --- the navigation ----------------------------------------------------------------

def test_every_nav_entry_exists():
    missing = [f for f in nav_files() if not (DOCS / f).is_file()]
    assert not missing, f"mkdocs.yml's nav names files missing from docs/: {missing}"


def test_every_page_is_in_the_nav():
    listed = set(nav_files())
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert not pages - listed, f"pages left out of mkdocs.yml's nav: {sorted(pages - listed)}"
    assert {"source_networks.md", "keras_semantics.md"} <= listed


def test_the_site_config_is_strict_and_reads_docs():
    text = MKDOCS_YML.read_text(encoding="utf-8")
    assert re.search(r"^docs_dir:\s*docs\s*$", text, re.M)
    assert re.search(r"^strict:\s*true\s*$", text, re.M)
    assert re.search(r"^site_name:\s*minicnn\s*$", text, re.M)


# --- the parity page's tolerance table ------------------------------------------------

def _pair(cell):
    rtol, atol = (float(v) for v in cell.split("/"))
    return rtol, atol


def test_the_tolerance_table_matches_compare_py():
    from minicnn.parity.compare import TOLERANCES
    text = (DOCS / "concepts" / "parity.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\|\s*`(\w+)`\s*\|[^|]*\|([^|]+)\|([^|]+)\|\s*$", line)
        if m and m.group(1) in TOLERANCES:
            rows[m.group(1)] = {"cpu": _pair(m.group(2)), "gpu": _pair(m.group(3))}
    assert rows == {kind: {d: tuple(map(float, v)) for d, v in by_device.items()}
                    for kind, by_device in TOLERANCES.items()}
