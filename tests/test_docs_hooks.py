"""The documentation build hooks: results tables from JSON, and KaTeX shipped with the site."""

from __future__ import annotations

import importlib.util
import json
import types
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
from mkdocs.exceptions import PluginError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _load_hook(name):
    spec = importlib.util.spec_from_file_location(f"hook_{name}", ROOT / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def results_table():
    return _load_hook("results_table")


RECORD = {
    "paper": "mixture_gradients",
    "command": "python -m reference.reproduce mixture_gradients --quick",
    "quick": True,
    "seed": 0,
    "commit": "0123456789abcdef0123456789abcdef01234567",
    "date": "2026-11-25T02:00:00+00:00",
    "machine": {"cpu_count": 2, "processor": "x86_64", "python": "3.11.7", "numpy": "2.1.0",
                "blas": "scipy-openblas"},
    "wall_time_s": 3.21,
    "metrics": {"rel_error": 0.012345, "n_samples": 1000, "curve": [0.5, 0.25]},
    "table": [
        {"metric": "rel_error", "description": "Relative error | of the gradient",
         "paper": "0.01 (Table 1)", "ours": 0.012345},
        {"metric": "missing", "description": "Not measured", "paper": "—", "ours": None},
    ],
}


def _render(module, markdown, docs_dir, nav=None):
    page = types.SimpleNamespace(file=types.SimpleNamespace(src_uri="page.md"))
    config = types.SimpleNamespace(docs_dir=str(docs_dir), nav=nav or [])
    return module.on_page_markdown(markdown, page, config, None)


@pytest.fixture
def docs(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "mixture_gradients.json").write_text(json.dumps(RECORD))
    return tmp_path


def test_table_has_numbers_command_commit_and_machine(results_table, docs):
    out = _render(results_table, "## Results\n\n<!-- results-table: mixture_gradients -->\n", docs)
    assert "| Quantity | Paper's number | Ours |" in out
    assert r"| Relative error \| of the gradient | 0.01 (Table 1) | 0.01235 |" in out
    assert "| Not measured | — | — |" in out
    assert "`python -m reference.reproduce mixture_gradients --quick`" in out
    assert "`0123456789`" in out and "2026-11-25" in out and "3.2 s" in out
    assert "2 CPUs" in out and "numpy 2.1.0 (scipy-openblas)" in out
    assert "quick settings" in out
    assert "<!--" not in out


def test_inline_results_with_and_without_format_spec(results_table, docs):
    out = _render(results_table,
                  "a <!-- result: mixture_gradients.rel_error :.3g --> "
                  "b <!-- result: mixture_gradients.n_samples --> "
                  "c <!-- result: mixture_gradients.curve:.1f -->", docs)
    assert out == "a 0.0123 b 1000 c 0.5, 0.2"


def test_missing_results_file_gives_a_note_not_an_error(results_table, docs):
    out = _render(results_table, "<!-- results-table: air -->\n\n<!-- result: air.x -->", docs)
    assert '!!! note "No results yet"' in out
    assert "`python -m reference.reproduce air`" in out
    assert "not run yet" in out


def test_missing_key_fails_the_build_naming_page_file_and_key(results_table, docs):
    with pytest.raises(PluginError, match=r"page\.md.*mixture_gradients\.nope.*rel_error"):
        _render(results_table, "<!-- result: mixture_gradients.nope -->", docs)


def test_incomplete_results_file_fails_the_build(results_table, docs):
    (docs / "results" / "air.json").write_text(json.dumps({"paper": "air"}))
    with pytest.raises(PluginError, match="lacks"):
        _render(results_table, "<!-- results-table: air -->", docs)


def test_markers_inside_code_are_left_alone(results_table, docs):
    md = ("```markdown\n<!-- result: mixture_gradients.nope -->\n```\n"
          "and `<!-- results-table: mixture_gradients -->` inline\n")
    assert _render(results_table, md, docs) == md


def test_all_renders_every_paper_with_its_nav_title(results_table, docs):
    nav = [{"Papers": [{"Mixture gradients (Graves 2016)": "mixture_gradients.md"}]}]
    out = _render(results_table, "<!-- results-table: all -->", docs, nav=nav)
    assert "## Mixture gradients (Graves 2016)" in out
    assert out.count("| Quantity |") == 1  # only mixture_gradients has a results file
    assert out.count("No results yet") >= 4  # the other papers of reference.PAPER_MODULES


def test_katex_falls_back_to_the_cdn_without_node_modules_or_npm(tmp_path, monkeypatch, capsys):
    katex = _load_hook("katex")
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"katex": "0.19.1"}}))
    (tmp_path / "mkdocs.yml").write_text("")
    monkeypatch.setattr(katex.shutil, "which", lambda name: None)  # no npm
    config = types.SimpleNamespace(
        config_file_path=str(tmp_path / "mkdocs.yml"),
        extra_css=["assets/katex/katex.min.css", "assets/other.css"],
        extra_javascript=["assets/katex/katex.min.js",
                          types.SimpleNamespace(path="assets/katex/contrib/auto-render.min.js"),
                          "assets/katex-init.js"])
    katex.on_config(config)
    cdn = "https://cdn.jsdelivr.net/npm/katex@0.19.1/dist/"
    assert config.extra_css == [cdn + "katex.min.css", "assets/other.css"]
    assert config.extra_javascript[0] == cdn + "katex.min.js"
    assert config.extra_javascript[1].path == cdn + "contrib/auto-render.min.js"
    assert config.extra_javascript[2] == "assets/katex-init.js"
    assert "NOTICE" in capsys.readouterr().out


def test_katex_pin_is_exact_and_locked():
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    pinned = package["dependencies"]["katex"]
    assert pinned[0].isdigit(), "pin KaTeX to an exact version, not a range"
    assert lock["packages"]["node_modules/katex"]["version"] == pinned
