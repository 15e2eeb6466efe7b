"""The gallery build hook: BLAS pinned, each example's name and times reported, nav order."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def gb(monkeypatch, tmp_path):
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, os.environ.get(var, ""))  # restored after the test
    monkeypatch.setenv("GALLERY_TIMES", str(tmp_path / "times.json"))
    monkeypatch.delenv("BUILD_BLAS_THREADS", raising=False)
    spec = importlib.util.spec_from_file_location("hook_gallery_build",
                                                  ROOT / "hooks" / "gallery_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_gallery(blas_seen: list):
    """A stand-in for mkdocs_gallery.gen_single: one example runs, one is cached."""
    def parse_and_execute(script, script_blocks):
        from threadpoolctl import threadpool_info
        blas_seen.append([lib["num_threads"] for lib in threadpool_info()
                          if lib.get("user_api") == "blas"])
        blas_seen.append(os.environ["OPENBLAS_NUM_THREADS"])
        sum(i * i for i in range(200_000))  # some CPU time
        return ["out"], 0.1, 0.0

    gen_single = types.SimpleNamespace(parse_and_execute=parse_and_execute)

    def generate_file_md(script, seen_backrefs=None):
        if script.run:
            return gen_single.parse_and_execute(script, [])
        return None

    gen_single.generate_file_md = generate_file_md
    return gen_single


def _script(path, run):
    return types.SimpleNamespace(src_py_file=Path(path), run=run)


def test_examples_are_pinned_named_and_timed(gb, tmp_path, caplog):
    import numpy  # noqa: F401  (imported before the hook pins: threadpool_limits still applies)

    seen = []
    gen_single = _fake_gallery(seen)
    gen_single._gallery_build_recorder = gb.Recorder(tmp_path / "times.json")
    gb._wrap_execution(gen_single)
    gb._wrap_execution(gen_single)  # a second load (mkdocs serve) does not wrap twice
    with caplog.at_level(logging.INFO, logger="mkdocs.hooks.gallery_build"):
        gen_single.generate_file_md(_script("gallery/paper/plot_01_a.py", run=True))
        gen_single.generate_file_md(_script("gallery/paper/plot_02_b.py", run=False))
    assert seen[0] and all(n == 1 for n in seen[0]) and seen[1] == "1"
    log = caplog.text
    assert "gallery: start paper/plot_01_a.py" in log
    assert "gallery: ran paper/plot_01_a.py in" in log and "s CPU" in log
    assert "paper/plot_02_b.py unchanged since the last build" in log
    records = json.loads((tmp_path / "times.json").read_text())
    assert [r["example"] for r in records] == ["paper/plot_01_a.py", "paper/plot_02_b.py"]
    assert records[0]["status"] == "ran" and records[0]["cpu_s"] >= 0
    assert records[1] == {"example": "paper/plot_02_b.py", "status": "cached",
                          "wall_s": None, "cpu_s": None}


def test_a_failing_example_is_still_timed(gb, tmp_path):
    def boom(script, blocks):
        raise RuntimeError("example failed")

    gen_single = types.SimpleNamespace(parse_and_execute=boom,
                                       generate_file_md=lambda s, b=None: None)
    gen_single._gallery_build_recorder = gb.Recorder(tmp_path / "t.json")
    gb._wrap_execution(gen_single)
    with pytest.raises(RuntimeError):
        gen_single.parse_and_execute(_script("gallery/p/plot_x.py", True), [])
    assert json.loads((tmp_path / "t.json").read_text())[0]["status"] == "failed"


def test_thread_count_comes_from_build_blas_threads(gb, monkeypatch):
    assert gb.pin_environment() == 1 and os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("BUILD_BLAS_THREADS", "2")
    assert gb.pin_environment() == 2 and os.environ["OMP_NUM_THREADS"] == "2"
    monkeypatch.setenv("BUILD_BLAS_THREADS", "zero")
    with pytest.raises(ValueError, match="BUILD_BLAS_THREADS"):
        gb.pin_environment()


def test_sections_sort_by_nav_then_name(gb):
    nav = [{"Home": "index.md"}, {"Papers": [{"B": "b.md"}, {"A": "a.md"}]},
           {"Gallery": "generated/gallery"}]
    order = gb.nav_papers(nav)
    assert order == ["index", "b", "a"]
    folders = ["gallery/a", "gallery/zz", "gallery/b", "gallery/extra"]
    assert sorted(folders, key=gb.section_sort_key(order)) == [
        "gallery/b", "gallery/a", "gallery/extra", "gallery/zz"]


def test_the_patched_mkdocs_gallery_functions_exist():
    """The hook replaces these by name; a new mkdocs-gallery that renames them fails here."""
    gen_single = pytest.importorskip("mkdocs_gallery.gen_single")
    gen_data_model = pytest.importorskip("mkdocs_gallery.gen_data_model")
    assert callable(gen_single.parse_and_execute) and callable(gen_single.generate_file_md)
    assert callable(gen_data_model.Gallery.populate_subsections)
    assert callable(gen_data_model._has_readme) and gen_data_model.GallerySubSection
