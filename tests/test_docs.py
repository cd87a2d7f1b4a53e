"""Citations resolve inside the repository.

Code and tests cite the pages of ``docs/`` as ``docs/<page>.md``, optionally
followed by a section title in double quotes (``docs/<page>.md "Section"``).
Every cited page must exist and every quoted section must be a heading of
that page. Nothing may point outside the repository at the notes the project
was specified from (the old digest files or a ``shared`` folder next to the
checkout). This file is left out of the scans: it has to spell those names.
"""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THIS_FILE = Path(__file__).resolve()

# Trees whose text files are read; citations are collected from the code trees.
CODE_TREES = ("minicnn", "tests", "benchmarks")
NO_OUTSIDE_REFS = CODE_TREES + ("docs", "README.md")
TEXT_SUFFIXES = {".py", ".md", ".txt", ".rst", ".cfg", ".toml", ".ini", ".yml", ".yaml"}

# Names of files outside the repository that must not be cited or read: the two
# digests the project was specified from and the folder beside the checkout that
# held them. Spelled in pieces so that a plain grep of the repository for them
# finds nothing, this file included.
SHARED = "shared"
OUTSIDE_NAMES = ("SEEDS" + ".md", "KERAS_" + "SEMANTICS", "/work/" + SHARED, "../" + SHARED)
OUTSIDE = re.compile("|".join(re.escape(name) for name in OUTSIDE_NAMES))

# docs/<page>.md, then optionally (after spaces, one line break and a comment
# marker) a quoted section title that starts with a letter.
CITATION = re.compile(
    r"docs/(?P<page>[\w./-]+\.md)"
    r'(?:[ \t]*(?:\n[ \t]*(?:#[ \t]*)?)?"(?P<section>[A-Za-z][^"\n]*)")?')
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$")


def text_files(entries):
    """Every text file under the given top-level entries, this test excluded."""
    for entry in entries:
        path = ROOT / entry
        paths = [path] if path.is_file() else sorted(path.rglob("*"))
        for p in paths:
            if (p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts
                    and p.resolve() != THIS_FILE):
                yield p


def outside_refs(text):
    """(line number, line) for each line naming a file outside the repository."""
    return [(i, line.strip()) for i, line in enumerate(text.splitlines(), 1)
            if OUTSIDE.search(line)]


def citations(text):
    """(page, section or None, line number) for each ``docs/<page>.md`` citation."""
    return [(m["page"], m["section"], text.count("\n", 0, m.start()) + 1)
            for m in CITATION.finditer(text)]


def headings(markdown):
    """The heading titles of a Markdown page, skipping fenced code blocks."""
    titles, fenced = set(), False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (m := HEADING.match(line)):
            titles.add(m.group(1))
    return titles


def all_citations():
    found = []
    for path in text_files(CODE_TREES):
        for page, section, line in citations(path.read_text(encoding="utf-8")):
            found.append((path.relative_to(ROOT), line, page, section))
    return found


# --- the helpers find what they should ------------------------------------------

def test_helpers_recognise_citations_and_outside_references():
    text = ('# docs/a.md "First part": x\n'
            "see docs/b.md\n"
            '(docs/c.md\n# "Split title")\n'
            'paths = ["docs/d.md", "other"]\n'
            + " ".join(OUTSIDE_NAMES) + "\n")
    assert citations(text) == [("a.md", "First part", 1), ("b.md", None, 2),
                               ("c.md", "Split title", 3), ("d.md", None, 5)]
    assert [n for n, _ in outside_refs(text)] == [6]
    assert all(outside_refs(f"see {name}/x") for name in OUTSIDE_NAMES)
    assert not outside_refs("the shared generator; docs/shared.md; SEEDS; KERAS")
    assert headings("# Top\n## Two words ##\n```\n# not a heading\n```\n### Three") == {
        "Top", "Two words", "Three"}


def test_the_scans_read_the_code():
    scanned = {p.relative_to(ROOT).as_posix() for p in text_files(CODE_TREES)}
    assert "minicnn/parity/compare.py" in scanned and "tests/gradcheck.py" in scanned
    assert THIS_FILE.relative_to(ROOT).as_posix() not in scanned
    # compare.py cites a row of the tolerance table for each of its tolerances
    cited = {(str(p), page, section) for p, _, page, section in all_citations()}
    assert ("minicnn/parity/compare.py", "keras_semantics.md", "Tolerances") in cited


# --- the repository itself ---------------------------------------------------------

def test_nothing_points_outside_the_repository():
    bad = [f"{path.relative_to(ROOT)}:{n}: {line}"
           for path in text_files(NO_OUTSIDE_REFS)
           for n, line in outside_refs(path.read_text(encoding="utf-8"))]
    assert not bad, "references to files outside the repository:\n" + "\n".join(bad)


@pytest.mark.parametrize("path,line,page,section", all_citations(),
                         ids=lambda v: str(v) if isinstance(v, (Path, str)) else None)
def test_cited_page_and_section_exist(path, line, page, section):
    doc = ROOT / "docs" / page
    assert doc.is_file(), f"{path}:{line} cites docs/{page}, which does not exist"
    if section is not None:
        titles = headings(doc.read_text(encoding="utf-8"))
        assert section in titles, (
            f'{path}:{line} cites docs/{page} "{section}", but the page has no such '
            f"heading; its headings are {sorted(titles)}")
