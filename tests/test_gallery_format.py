"""The gallery scripts follow the sphinx-gallery format that mkdocs-gallery builds.

Math in a heading is not typeset (the table of contents and the page title show raw ``$``),
which the site check only finds after a full build; this finds it in a second.
"""

import ast
import re
from pathlib import Path

import pytest

GALLERY = Path(__file__).resolve().parents[1] / "gallery"
SCRIPTS = sorted(GALLERY.glob("*/plot_*.py"))
_UNDERLINE = re.compile(r"^(-{3,}|={3,})$")


def headings(path: Path) -> list[str]:
    """The title (docstring) and every ``# %%`` section heading of a gallery script."""
    source = path.read_text()
    doc = ast.get_docstring(ast.parse(source), clean=True) or ""
    lines = doc.splitlines()
    found = [lines[i] for i in range(len(lines) - 1) if _UNDERLINE.match(lines[i + 1].strip())]
    code = source.splitlines()
    found += [code[i][2:] for i in range(len(code) - 1)
              if code[i].startswith("# ") and code[i + 1].startswith("# ")
              and _UNDERLINE.match(code[i + 1][2:].strip())]
    return found


def test_there_are_gallery_scripts():
    assert len(SCRIPTS) >= 1


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_has_a_title_and_no_math_in_headings(path):
    source = path.read_text()
    assert source.lstrip().startswith('r"""'), f"{path}: start with a raw docstring title"
    found = headings(path)
    assert found, f"{path}: the docstring needs a title underlined with ==="
    bad = [h for h in found if "$" in h]
    assert not bad, f"{path}: math in headings is not typeset; reword {bad}"


def test_the_heading_check_can_fail(tmp_path):
    script = tmp_path / "plot_00_x.py"
    script.write_text('r"""\nTitle\n=====\n"""\n# %%\n# The $x$ law\n# -----------\n')
    assert headings(script) == ["Title", "The $x$ law"]


def test_source_key_changes_with_any_source_file(tmp_path):
    # the gallery names cached models by this key: a model written by older code must not match
    import types

    from reference.testing import source_key

    (tmp_path / "__init__.py").write_text("x = 1\n")
    (tmp_path / "model.py").write_text("y = 2\n")
    module = types.SimpleNamespace(__file__=str(tmp_path / "__init__.py"))
    key = source_key(module)
    assert len(key) == 12 and key == source_key(module)
    (tmp_path / "model.py").write_text("y = 3\n")
    changed = source_key(module)
    assert changed != key
    (tmp_path / "extra.py").write_text("")
    with_extra = source_key(module)
    assert with_extra != changed
    (tmp_path / "notes.txt").write_text("not source")      # only .py files count
    assert source_key(module) == with_extra
