"""Honest status: the README's Status column, the home page's markers, and the commands shown.

A paper is implemented when its code, its reproduce entry and a full run's results all exist
(``hooks/paper_status.py``). The README is not built, so this test compares its table with the
files; the home page's column is computed at build time from the same function.
"""

from __future__ import annotations

import importlib.util
import json
import re
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
yaml = pytest.importorskip("yaml")


def _load_hook(name):
    spec = importlib.util.spec_from_file_location(f"hook_{name}", ROOT / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ps():
    return _load_hook("paper_status")


def _readme_rows() -> dict[str, str]:
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        m = re.match(r"\|\s*\[[^\]]+\]\(docs/(\w+)\.md\)\s*\|.*\|\s*([^|]+?)\s*\|\s*$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_readme_status_column_matches_the_files(ps):
    rows = _readme_rows()
    assert set(rows) == set(ps.papers()), "the README table lists every paper, once"
    for paper, cell in rows.items():
        state, missing = ps.status(paper)
        assert cell == state, (
            f"README.md says {paper} is {cell!r}, but it is {state!r}"
            + (f" ({', '.join(missing)})" if missing else "")
            + ": update the Status column of README.md")


def test_home_page_has_a_status_marker_for_every_paper(ps):
    text = (ROOT / "docs" / "index.md").read_text()
    for paper in ps.papers():
        assert f"<!-- paper-status: {paper} -->" in text
    assert "<!-- reproduce-commands -->" in text


def _tree(tmp_path, code=True, entry=True, results=True, quick=False):
    (tmp_path / "reference" / "reproduce").mkdir(parents=True)
    (tmp_path / "docs" / "results").mkdir(parents=True)
    (tmp_path / "reference" / "__init__.py").write_text('PAPER_MODULES = ("graves", "air")\n')
    if code:
        (tmp_path / "reference" / "graves").mkdir()
        (tmp_path / "reference" / "graves" / "__init__.py").write_text("")
    if entry:
        (tmp_path / "reference" / "reproduce" / "graves.py").write_text('"""R."""\n')
    if results:
        (tmp_path / "docs" / "results" / "graves.json").write_text(json.dumps({"quick": quick}))
    return tmp_path


def _render(ps, root, markdown):
    page = types.SimpleNamespace(file=types.SimpleNamespace(src_uri="index.md"))
    config = types.SimpleNamespace(docs_dir=str(root / "docs"))
    return ps.on_page_markdown(markdown, page, config, None)


def test_status_marker_is_filled_from_what_exists(ps, tmp_path):
    root = _tree(tmp_path)
    out = _render(ps, root, "| a | <!-- paper-status: graves --> |\n"
                            "| b | <!-- paper-status: air --> |\n")
    assert "| a | implemented |" in out
    assert ("| b | in progress: no code yet (`reference/air/`), no reproduce entry yet, "
            "no results from a full run yet |") in out


@pytest.mark.parametrize("what", ["code", "entry", "results"])
def test_anything_missing_means_in_progress(ps, tmp_path, what):
    root = _tree(tmp_path, **{what: False})
    assert ps.status("graves", root)[0] == "in progress"


def test_quick_results_do_not_make_a_paper_implemented(ps, tmp_path):
    root = _tree(tmp_path, quick=True)
    assert ps.status("graves", root) == ("in progress", ["no results from a full run yet"])


def test_reproduce_commands_only_for_papers_with_an_entry(ps, tmp_path):
    out = _render(ps, _tree(tmp_path), "<!-- reproduce-commands -->")
    assert "python -m reference.reproduce graves" in out
    assert "reproduce air" not in out and "`air` (in progress)" in out


def test_markers_in_code_are_left_alone(ps, tmp_path):
    md = "`<!-- paper-status: graves -->`\n"
    assert _render(ps, _tree(tmp_path), md) == md


@pytest.mark.parametrize("doc", ["README.md", "docs/index.md", "docs/results.md",
                                 "gallery/README.md"])
def test_commands_shown_name_papers_that_have_an_entry(ps, doc):
    text = (ROOT / doc).read_text()
    for name in re.findall(r"python -m reference\.reproduce (\w+)", text):
        assert ps.has_reproduce(ROOT, name), (
            f"{doc} shows `python -m reference.reproduce {name}`, which has no entry yet")


def _nav_titles() -> dict[str, str]:
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    papers = next(item["Papers"] for item in nav if isinstance(item, dict) and "Papers" in item)
    return {page[:-3]: title for entry in papers for title, page in entry.items()}


def test_nav_lists_the_papers_in_site_order(ps):
    assert list(_nav_titles()) == ps.papers()


def test_gallery_sections_follow_the_nav_order():
    gb = _load_hook("gallery_build")
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    order = gb.nav_papers(nav)
    folders = [p for p in (ROOT / "gallery").iterdir() if (p / "README.md").is_file()]
    ordered = [p.name for p in sorted(folders, key=gb.section_sort_key(order))]
    assert ordered == [p for p in _nav_titles() if p in ordered]


def test_gallery_section_titles_are_the_nav_titles():
    titles = _nav_titles()
    for readme in sorted((ROOT / "gallery").glob("*/README.md")):
        paper = readme.parent.name
        heading = next((line.lstrip("#").strip() for line in readme.read_text().splitlines()
                        if line.startswith("#")), None)
        assert heading == titles.get(paper), (
            f"{readme.relative_to(ROOT)}: the section is titled {heading!r}; the Papers nav "
            f"calls it {titles.get(paper)!r}")
