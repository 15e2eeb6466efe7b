"""The gallery's shared helpers in reference.testing: the run cache and the results file."""

import functools

import numpy as np
import pytest

from reference.testing import cached_runs, results_record


def _draw(seed, n):
    return {"x": np.random.default_rng(seed).normal(size=n)}


def _fail():
    raise AssertionError("a job whose file exists must not run again")


def test_cached_runs_computes_once_then_reads_back(tmp_path):
    jobs = {"a": functools.partial(_draw, 0, 3), "b": functools.partial(_draw, 1, 4)}
    first = cached_runs(jobs, tmp_path / "cache", "t1")
    assert list(first) == ["a", "b"]
    np.testing.assert_array_equal(first["a"]["x"], np.random.default_rng(0).normal(size=3))
    np.testing.assert_array_equal(first["b"]["x"], np.random.default_rng(1).normal(size=4))
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert files == ["a_t1.pkl", "b_t1.pkl"]                    # no temporary file left
    again = cached_runs({"b": _fail, "a": _fail}, tmp_path / "cache", "t1")
    assert list(again) == ["b", "a"]
    np.testing.assert_array_equal(again["b"]["x"], first["b"]["x"])


def test_cached_runs_runs_only_the_missing_jobs_and_a_new_tag_runs_again(tmp_path):
    cached_runs({"a": functools.partial(_draw, 0, 2)}, tmp_path, "t1")
    out = cached_runs({"a": _fail, "b": functools.partial(_draw, 5, 2)}, tmp_path, "t1")
    np.testing.assert_array_equal(out["b"]["x"], np.random.default_rng(5).normal(size=2))
    with pytest.raises(AssertionError, match="must not run again"):
        cached_runs({"a": _fail}, tmp_path, "t2")                # another code key: no reuse


def test_results_record_reads_the_file_or_names_the_command():
    record = results_record("controllable_features")
    assert record["paper"] == "controllable_features" and "metrics" in record
    with pytest.raises(FileNotFoundError, match="reference.reproduce no_such_paper"):
        results_record("no_such_paper")
