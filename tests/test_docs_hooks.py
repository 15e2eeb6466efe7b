"""The documentation build hooks: results tables from JSON, and KaTeX shipped with the site."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
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
    """A docs folder with one results file; the repository root is its parent, tmp_path."""
    docs = tmp_path / "docs"
    (docs / "results").mkdir(parents=True)
    (docs / "results" / "mixture_gradients.json").write_text(json.dumps(RECORD))
    return docs


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
    # give "air" a reproduce entry in the temporary repository root
    entry = docs.parent / "reference" / "reproduce" / "air.py"
    entry.parent.mkdir(parents=True)
    entry.write_text('"""Reproduce AIR."""\n')
    out = _render(results_table, "<!-- results-table: air -->\n\n<!-- result: air.x -->", docs)
    assert '!!! note "No results yet"' in out
    assert "`python -m reference.reproduce air`" in out
    assert "not run yet" in out


def test_paper_without_reproduce_entry_shows_no_command(results_table, docs):
    out = _render(results_table, "<!-- results-table: air -->\n\n<!-- result: air.x -->", docs)
    assert '!!! note "In progress"' in out and "no reproduce entry yet" in out
    assert "reproduce air" not in out  # the command would fail with "invalid choice"


def _record(**changes):
    record = json.loads(json.dumps(RECORD))
    record.update(changes)
    return record


def test_descriptions_are_filled_from_the_runs_own_metrics(results_table, docs):
    record = _record(quick=False, metrics={"n_mixtures": 20, "err": 0.5, "steps": 3000})
    record["table"] = [{"metric": "err", "paper": "—", "ours": 0.5,
                        "description": "Max error over {n_mixtures} mixtures, "
                                       "{steps:,} updates, seed {seed}"}]
    (docs / "results" / "mixture_gradients.json").write_text(json.dumps(record))
    out = _render(results_table, "<!-- results-table: mixture_gradients -->", docs)
    assert "| Max error over 20 mixtures, 3,000 updates, seed 0 | — | 0.5 |" in out
    assert "{" not in out


def test_a_placeholder_naming_no_metric_fails_the_build(results_table, docs):
    record = _record()
    record["table"][0]["description"] = "over {n_mixtures} mixtures"
    (docs / "results" / "mixture_gradients.json").write_text(json.dumps(record))
    with pytest.raises(PluginError, match=r"n_mixtures.*not a metric"):
        _render(results_table, "<!-- results-table: mixture_gradients -->", docs)


def test_missing_reason_shows_only_when_the_value_is_missing(results_table, docs):
    record = _record()
    record["table"] = [
        {"metric": "a", "description": "TFP speed-up, present", "paper": "—", "ours": 11.31,
         "missing": "TFP not installed"},
        {"metric": "b", "description": "TFP speed-up, absent", "paper": "—", "ours": None,
         "missing": "TFP not installed"},
    ]
    (docs / "results" / "mixture_gradients.json").write_text(json.dumps(record))
    out = _render(results_table, "<!-- results-table: mixture_gradients -->", docs)
    assert "| TFP speed-up, present | — | 11.31 |" in out
    assert "| TFP speed-up, absent | — | — (TFP not installed) |" in out
    assert out.count("TFP not installed") == 1


def _git(repo, *args):
    """Run git in the temporary repository; returns HEAD after a commit."""
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                    "commit.gpgsign=false", *args], cwd=repo, check=True, capture_output=True)
    if args[0] != "commit":
        return None
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    """A git repository with a paper module, committed twice: returns (root, first, second)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    (root / "reference" / "reproduce").mkdir(parents=True)
    (root / "docs" / "results").mkdir(parents=True)
    (root / "reference" / "mixture_gradients.py").write_text("x = 1\n")
    (root / "reference" / "reproduce" / "mixture_gradients.py").write_text('"""R."""\n')
    _git(root, "init", "-q")
    _git(root, "add", ".")
    first = _git(root, "commit", "-q", "-m", "first")
    (root / "reference" / "mixture_gradients.py").write_text("x = 2\n")
    _git(root, "add", ".")
    second = _git(root, "commit", "-q", "-m", "change the code")
    (root / "README.md").write_text("docs only\n")
    _git(root, "add", ".")
    third = _git(root, "commit", "-q", "-m", "docs only")
    (root / "reference" / "mixture_gradients.py").write_text(
        '"""A module docstring."""\n\n\nx = 2  # a comment\n')
    _git(root, "add", ".")
    fourth = _git(root, "commit", "-q", "-m", "docstring and comment only")
    return root, first, second, third, fourth


def _clear_caches(results_table):
    for f in (results_table.last_code_change, results_table.code_at,
              results_table._blob_fingerprint):
        f.cache_clear()


@pytest.mark.parametrize("which, stale", [(1, True), (2, False), (3, False), (4, False)])
def test_footer_flags_results_older_than_the_code(results_table, repo, which, stale):
    """Stale when the code differs from HEAD's; docstring- or comment-only commits do not count."""
    root, *commits = repo
    _clear_caches(results_table)
    record = _record(quick=False, commit=commits[which - 1])
    (root / "docs" / "results" / "mixture_gradients.json").write_text(json.dumps(record))
    out = _render(results_table, "<!-- results-table: mixture_gradients -->", root / "docs")
    assert ('!!! warning "Older than the code"' in out) is stale
    if stale:
        assert f"`{commits[1][:10]}`" in out  # names the commit that changed the code
        assert "`python -m reference.reproduce mixture_gradients`" in out


def test_code_fingerprint_ignores_docstrings_and_comments_only(results_table):
    fp = results_table.code_fingerprint
    base = fp("m.py", b"def f(x):\n    return x + 1\n")
    assert fp("m.py", b'def f(x):\n    """Doc."""\n    return x + 1  # note\n') == base
    assert fp("m.py", b"def f(x):\n    return x + 2\n") != base
    assert fp("m.py", b'def f(x):\n    s = "not a docstring"\n    return x + 1\n') != base
    assert fp("n.py", b"def f(x):\n    return x + 1\n") != base  # a moved file is a change


def test_footer_names_the_last_code_change_not_a_docstring_commit(results_table, repo):
    root, first, second, _, _ = repo
    _clear_caches(results_table)
    assert results_table.last_code_change(root, "mixture_gradients")[0] == second


def test_footer_flags_results_from_a_dirty_tree(results_table, repo):
    root, _, second, _, _ = repo
    record = _record(quick=False, commit=second + "-dirty")
    (root / "docs" / "results" / "mixture_gradients.json").write_text(json.dumps(record))
    out = _render(results_table, "<!-- results-table: mixture_gradients -->", root / "docs")
    assert '!!! warning "Older than the code"' in out and "uncommitted changes" in out


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
    # the other papers of reference.PAPER_MODULES (no reproduce entry in this temporary tree)
    assert out.count('!!! note "In progress"') >= 4


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


def test_table_shows_listed_metrics_as_percentages_and_leaves_the_rest(results_table, docs):
    record = dict(RECORD, paper="matching_networks", table=[
        {"metric": "omniglot_5way_1shot", "description": "5-way", "paper": "98.1%",
         "ours": 0.9718},
        {"metric": "lake_seeds", "description": "seeds", "paper": "—", "ours": [0.86, 0.84]},
        {"metric": "episodes", "description": "episodes", "paper": "—", "ours": 7000},
        {"metric": "lake_broken", "description": "out of range", "paper": "—", "ours": 1.5},
    ])
    (docs / "results" / "matching_networks.json").write_text(json.dumps(record))
    out = _render(results_table, "<!-- results-table: matching_networks -->\n", docs)
    assert "| 5-way | 98.1% | 97.2% |" in out
    assert "| seeds | — | 86.0%, 84.0% |" in out
    assert "| episodes | — | 7000 |" in out
    assert "| out of range | — | 1.5 |" in out      # not a fraction: shown as it is
    # the file itself is unchanged: fractions stay fractions
    assert json.loads((docs / "results" / "matching_networks.json").read_text())[
        "table"][0]["ours"] == 0.9718
