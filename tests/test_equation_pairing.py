r"""The equation-pairing rule: every public function is paired with its equation and its page.

For each paper in ``reference.PAPER_MODULES`` whose module exists (``reference/<paper>.py``, or a
package ``reference/<paper>/`` whose submodules without a leading underscore are all walked),
every public function or class *defined* there (not imported; no leading underscore; only the
names in ``__all__`` when the module has one) must

(a) have a raw docstring, ``r\"\"\"...\"\"\"``, so LaTeX backslashes survive;
(b) either cite an equation, "Eq. (n)" (or "Eqs. (9)-(10)"), and show math in a ``$$ ... $$``
    block, or name the part of the paper it implements ("Algorithm 1", "Section 5.1",
    "Table 2", "Figure 3", "Appendix A");
(c) be rendered on ``docs/<paper>.md`` by a mkdocstrings block ``::: reference.<paper>.<name>``
    (for a package also ``::: reference.<paper>.<submodule>.<name>``).

The checker is plain ``ast`` over the source text, so it sees exactly what was written. The
self-tests at the end build a fake module and page and show that each rule can fail.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import reference

ROOT = Path(__file__).resolve().parents[1]

EQUATION = re.compile(r"\bEqs?\.\s*\((?:[A-Z]\.?)?\d+[a-z]?\)")
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
PAPER_PART = re.compile(
    r"\b(?:Algorithm|Section|Table|Figure|Fig\.)\s+[A-Z]?\d+(?:\.\d+)*"
    r"|\bAppendix\s+[A-Z](?:\.\d+)*\b"
)


@dataclass
class Definition:
    """A public top-level function or class found in a module's source."""

    qualname: str   # e.g. reference.mixture_gradients.log_mixture_density
    name: str
    where: str      # path:line, for the report
    docstring: str | None
    literal: str | None  # the docstring exactly as written, prefix and quotes included


def module_files(paper: str, package_dir: Path) -> dict[str, Path] | None:
    """Map dotted module names to source files for one paper, or None when it does not exist."""
    single = package_dir / f"{paper}.py"
    if single.is_file():
        return {f"reference.{paper}": single}
    pkg = package_dir / paper
    if (pkg / "__init__.py").is_file():
        found = {}
        for path in sorted(pkg.rglob("*.py")):
            rel = path.relative_to(pkg).with_suffix("")
            if any(part.startswith("_") for part in rel.parts):
                continue  # __init__, private submodules and private subpackages
            found[".".join(("reference", paper) + rel.parts)] = path
        return found
    return None


def _declared_all(tree: ast.Module) -> list[str] | None:
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            try:
                return list(ast.literal_eval(node.value))
            except ValueError:
                return None
    return None


def public_definitions(modname: str, path: Path) -> list[Definition]:
    """Top-level functions and classes defined in ``path`` that are public."""
    source = path.read_text()
    tree = ast.parse(source, filename=str(path))
    exported = _declared_all(tree)
    out = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if node.name.startswith("_") or (exported is not None and node.name not in exported):
            continue
        literal = None
        first = node.body[0] if node.body else None
        if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)):
            literal = ast.get_source_segment(source, first.value)
        try:
            rel = path.relative_to(ROOT)
        except ValueError:
            rel = path
        out.append(Definition(f"{modname}.{node.name}", node.name, f"{rel}:{node.lineno}",
                              ast.get_docstring(node, clean=False), literal))
    return out


def rendered_objects(page: Path) -> set[str]:
    """The objects a docs page renders with ``::: dotted.path`` blocks."""
    if not page.is_file():
        return set()
    return set(re.findall(r"^:::\s+([\w.]+)\s*$", page.read_text(), flags=re.MULTILINE))


def check_paper(paper: str, package_dir: Path, docs_dir: Path) -> tuple[int, list[str]]:
    """Return (number of public definitions checked, offences) for one paper.

    Raises ``LookupError`` when the paper's module does not exist.
    """
    files = module_files(paper, package_dir)
    if files is None:
        raise LookupError(paper)
    page = docs_dir / f"{paper}.md"
    on_page = rendered_objects(page)
    is_package = not (package_dir / f"{paper}.py").is_file()
    offences, n = [], 0
    for modname, path in files.items():
        for d in public_definitions(modname, path):
            n += 1
            head = f"{d.qualname} ({d.where})"
            doc = d.docstring or ""
            if d.docstring is None:
                offences.append(f"{head}: (a) has no docstring; write a raw numpy docstring "
                                f'r"""...""" citing its equation')
            elif not (d.literal or "").lower().startswith(('r"""', "r'''")):
                offences.append(f'{head}: (a) docstring is not raw; start it with r"""')
            has_eq = bool(EQUATION.search(doc))
            has_math = any(m.strip() for m in DISPLAY_MATH.findall(doc))
            if d.docstring is not None and not ((has_eq and has_math) or PAPER_PART.search(doc)):
                if has_eq:
                    why = "cites an equation but shows no $$ ... $$ math"
                elif has_math:
                    why = 'shows math but cites no "Eq. (n)"'
                else:
                    why = ('cites no "Eq. (n)" with $$ ... $$ math and names no paper part '
                           '("Algorithm 1", "Section 5.1", "Table 2", "Figure 3")')
                offences.append(f"{head}: (b) {why}")
            wanted = {d.qualname}
            if is_package:
                wanted.add(f"reference.{paper}.{d.name}")
            if not wanted & on_page:
                where = page.relative_to(docs_dir.parent) if page.is_file() else f"{page} (missing)"
                offences.append(f"{head}: (c) not on {where}; add a line `::: {d.qualname}`")
    return n, offences


@pytest.mark.parametrize("paper", reference.PAPER_MODULES)
def test_every_public_function_is_paired_with_its_equation_and_page(paper):
    try:
        n, offences = check_paper(paper, ROOT / "reference", ROOT / "docs")
    except LookupError:
        pytest.skip(f"reference/{paper}.py (or package reference/{paper}/) does not exist yet")
    assert not offences, (f"{len(offences)} equation-pairing offences in {paper} "
                          f"({n} public definitions):\n  " + "\n  ".join(offences))


# -- self-tests: the checker must be able to fail -------------------------------------------

FAKE_MODULE = '''\
r"""A fake paper module."""
from math import sqrt  # imported: not checked
import numpy as np


def good(x):
    r"""Implements Eq. (1) of Someone (2016).

    $$
    y = \\sqrt{x}
    $$
    """
    return sqrt(x)


def good_by_section(x):
    r"""The training loop of Section 5.1 (no single equation)."""
    return x


def no_equation(x):
    r"""Does something but says neither which equation nor which part of the paper."""
    return x


def equation_without_math(x):
    r"""Implements Eqs. (9)-(10), but the math is missing."""
    return x


def not_raw(x):
    """Implements Eq. (2): $$ y = 2 x $$."""
    return 2 * x


def no_docstring(x):
    return x


def not_on_page(x):
    r"""Algorithm 1 of Someone (2016)."""
    return x


class Model:
    r"""Figure 3 of Someone (2016)."""


def _private(x):
    return x
'''

FAKE_PAGE = """# Fake

::: reference.fake.good
::: reference.fake.good_by_section
::: reference.fake.no_equation
::: reference.fake.equation_without_math
::: reference.fake.not_raw
::: reference.fake.no_docstring

Mentioning reference.fake.not_on_page in prose does not count.

::: reference.fake.Model
"""


def _offenders(offences):
    """{name: set of rules broken}."""
    out: dict[str, set] = {}
    for line in offences:
        m = re.match(r"reference\.fake\.(\w+) \(.*?\): \((\w)\)", line)
        assert m, line
        out.setdefault(m[1], set()).add(m[2])
    return out


def test_checker_reports_each_kind_of_offence(tmp_path):
    pkg, docs = tmp_path / "reference", tmp_path / "docs"
    pkg.mkdir()
    docs.mkdir()
    (pkg / "fake.py").write_text(FAKE_MODULE)
    (docs / "fake.md").write_text(FAKE_PAGE)
    n, offences = check_paper("fake", pkg, docs)
    assert n == 8  # 7 public functions and a class; sqrt, np and _private are not checked
    assert _offenders(offences) == {
        "no_equation": {"b"},
        "equation_without_math": {"b"},
        "not_raw": {"a"},
        "no_docstring": {"a"},
        "not_on_page": {"c"},
    }


def test_checker_fails_everything_when_the_page_is_missing(tmp_path):
    pkg, docs = tmp_path / "reference", tmp_path / "docs"
    pkg.mkdir()
    docs.mkdir()
    (pkg / "fake.py").write_text(FAKE_MODULE)
    _, offences = check_paper("fake", pkg, docs)
    assert sum("(c)" in line for line in offences) == 8


def test_checker_respects_all_and_walks_packages(tmp_path):
    pkg, docs = tmp_path / "reference", tmp_path / "docs"
    (pkg / "fake" / "_private").mkdir(parents=True)
    docs.mkdir()
    (pkg / "fake" / "__init__.py").write_text("from .model import exported\n")
    (pkg / "fake" / "model.py").write_text(
        '__all__ = ["exported"]\n\n\ndef exported(x):\n    r"""Table 2."""\n\n\n'
        'def helper(x):\n    """Not in __all__: not checked."""\n')
    (pkg / "fake" / "loss.py").write_text('def loss(x):\n    """No rule met."""\n')
    (pkg / "fake" / "_private" / "impl.py").write_text('def hidden(x):\n    """Skipped."""\n')
    (docs / "fake.md").write_text("::: reference.fake.exported\n")
    n, offences = check_paper("fake", pkg, docs)
    assert n == 2
    assert len(offences) == 3
    assert all(line.startswith("reference.fake.loss.loss ") for line in offences)


def test_checker_skips_a_paper_that_does_not_exist(tmp_path):
    with pytest.raises(LookupError):
        check_paper("nothing_here", tmp_path, tmp_path)


@pytest.mark.parametrize("text, ok", [
    ("Implements Eq. (22) of Graves (2016). $$ a $$", True),
    ("Implements Eqs. (9)-(10). $$ a $$", True),
    ("Implements Eq. (A.1). $$ a $$", True),
    ("Implements Eq. (3).", False),          # no math
    ("Implements equation 3. $$ a $$", False),
    ("Algorithm 1, step 4.", True),
    ("As in Section 5.1.", True),
    ("The numbers of Table 2.", True),
    ("Reproduces Figure 3.", True),
    ("See the paper.", False),
])
def test_rule_b_patterns(text, ok):
    has = (EQUATION.search(text) and any(m.strip() for m in DISPLAY_MATH.findall(text))) \
        or PAPER_PART.search(text)
    assert bool(has) is ok
