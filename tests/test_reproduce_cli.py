"""The reproduce framework: where runs write, what --help says, and the run's own descriptions."""

from __future__ import annotations

import json
import sys
import types

import pytest

import reference.reproduce as rp
from reference.reproduce import _cli


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """A paper "fake" with a reproduce entry; docs/results is a temporary folder."""
    calls = []

    def run(quick=False, seed=0):
        from threadpoolctl import threadpool_info
        calls.append([lib["num_threads"] for lib in threadpool_info()
                      if lib.get("user_api") == "blas"])
        return {"n_mixtures": 20 if quick else 100, "err": 1e-8, "tfp": None, "gain": 11.31}

    module = types.ModuleType("reference.reproduce.fake")
    module.run = run
    module.TABLE = [
        ("err", "Max error over {n_mixtures} mixtures (seed {seed})", "—"),
        ("tfp", "TFP time / ours", "—", "TFP not installed"),
        ("gain", "Speed-up", "—", "TFP not installed"),
    ]
    monkeypatch.setitem(sys.modules, "reference.reproduce.fake", module)
    monkeypatch.setattr(rp, "available_papers", lambda: ["fake"])
    results = tmp_path / "docs" / "results"
    monkeypatch.setattr(rp, "RESULTS_DIR", results)
    monkeypatch.setattr(rp, "code_is_dirty", lambda: False)
    return types.SimpleNamespace(calls=calls, results=results, tmp=tmp_path)


def test_quick_run_leaves_docs_results_alone(fake):
    record = rp.reproduce("fake", quick=True)
    assert not fake.results.exists()
    written = json.loads(open(record["path"]).read())
    assert written["quick"] is True and "path" not in written
    assert written["table"][0]["description"] == "Max error over 20 mixtures (seed 0)"


def test_quick_run_refuses_docs_results_as_out(fake):
    with pytest.raises(ValueError, match="never writes docs/results"):
        rp.reproduce("fake", quick=True, out=fake.results)
    with pytest.raises(ValueError, match="never writes docs/results"):
        rp.reproduce("fake", quick=True, out=fake.results / "fake.json")
    assert fake.calls == []


def test_quick_run_writes_to_a_chosen_path(fake):
    record = rp.reproduce("fake", quick=True, out=fake.tmp / "mine.json")
    assert record["path"] == str(fake.tmp / "mine.json")
    assert (fake.tmp / "mine.json").is_file()


def test_full_run_writes_docs_results_with_the_runs_own_descriptions(fake):
    record = rp.reproduce("fake", seed=3)
    path = fake.results / "fake.json"
    assert record["path"] == str(path)
    table = json.loads(path.read_text())["table"]
    assert table[0]["description"] == "Max error over 100 mixtures (seed 3)"
    assert table[1]["missing"] == "TFP not installed" and table[1]["ours"] is None
    assert table[2]["ours"] == 11.31  # the hook shows the reason only when ours is None


def test_full_run_refuses_a_dirty_tree_before_running(fake, monkeypatch):
    monkeypatch.setattr(rp, "code_is_dirty", lambda: True)
    with pytest.raises(ValueError, match="uncommitted changes"):
        rp.reproduce("fake")
    assert fake.calls == [] and not fake.results.exists()
    rp.reproduce("fake", allow_dirty=True)
    assert (fake.results / "fake.json").is_file()
    rp.reproduce("fake", out=fake.tmp / "elsewhere")  # writing elsewhere needs no clean tree
    assert (fake.tmp / "elsewhere" / "fake.json").is_file()


def test_runs_are_pinned_to_one_blas_thread(fake):
    rp.reproduce("fake", quick=True)
    rp.reproduce("fake", quick=True, blas_threads=2)
    assert fake.calls[0] and all(n == 1 for n in fake.calls[0])
    with pytest.raises(ValueError, match="blas_threads"):
        rp.reproduce("fake", quick=True, blas_threads=0)


def test_help_describes_every_paper_with_its_run_times(capsys):
    with pytest.raises(SystemExit):
        rp.main(["--help"])
    out = capsys.readouterr().out
    papers_section = out[out.index("papers ("):]  # the usage line above may wrap at a name
    for paper in rp.available_papers():
        first, _ = _cli._module_facts(paper)
        block = papers_section[papers_section.index(f"  {paper}\n"):].split("--quick:")[0]
        assert " ".join(first.split()) in " ".join(block.split())
        assert "full run:" in block


def test_help_reads_the_quick_time_constant(tmp_path, monkeypatch):
    (tmp_path / "fake.py").write_text('"""Reproduce a fake paper.\n\nMore."""\n'
                                      "QUICK_WALL_TIME_S = 42.0\n")
    monkeypatch.setattr(rp, "__file__", str(tmp_path / "__init__.py"))
    monkeypatch.setattr(rp, "RESULTS_DIR", tmp_path / "none")
    assert rp.describe_paper("fake") == ("  fake\n      Reproduce a fake paper.\n"
                                         "      full run: not measured; --quick: 42 s")


def test_a_paper_in_progress_gets_a_clear_error(capsys, monkeypatch):
    import reference

    monkeypatch.setattr(reference, "PAPER_MODULES", (*reference.PAPER_MODULES, "ghost"))
    with pytest.raises(SystemExit):
        rp.main(["ghost"])
    assert "'ghost' is in progress: it has no reproduce entry yet" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        rp.main(["nonsense"])
    assert "not a paper of this repository" in capsys.readouterr().err
