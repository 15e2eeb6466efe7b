r"""Reproduction commands: ``python -m reference.reproduce <paper> [--quick] [--seed N]``.

Each paper has a module ``reference/reproduce/<paper>.py``; the first paragraph of its docstring
is what ``python -m reference.reproduce --help`` says about it. The module defines

``run(quick: bool, seed: int) -> dict``
    Runs the experiments and returns the metrics (a flat ``dict`` of JSON-serialisable values:
    numbers, strings, ``None``, or lists of them). It may print progress.
``TABLE``
    A list of ``(metric_key, description, papers_number)`` rows for the docs results table, or
    ``(metric_key, description, papers_number, missing)`` rows. ``papers_number`` is a string
    quoting the paper's published value with its location (for example ``"0.953 (Table 1)"``)
    or ``"—"`` when the paper has none. The description may hold ``{placeholders}`` naming
    metrics (``"{n_mixtures} random mixtures"``, ``"{steps:,} updates"``), filled from the run's
    own metrics, so that a quick run's description states the quick settings. ``missing`` says
    why the value can be absent (``"TFP not installed"``); the table shows it only when the
    value is ``None``.
``QUICK_WALL_TIME_S`` (optional)
    The measured wall time of ``--quick`` on the machine of the full run, shown by ``--help``
    (the full run's time is read from its results file).

The framework pins BLAS to one thread (``--blas-threads``), times the run, records the exact
command, the git commit (``-dirty`` when ``reference/`` or ``pyproject.toml`` differ from it),
the date and the machine, and prints the metrics. Only a full run writes the committed results
``docs/results/<paper>.json``, and only when the code is committed (``--allow-dirty`` overrides,
and the site then flags the file). A ``--quick`` run writes to a temporary directory, or to
``--out``, and never to ``docs/results/``. Results files are never edited by hand; the docs
pages render them with the hook ``hooks/results_table.py``.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import math
import os
import pkgutil
import platform
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["available_papers", "describe_paper", "machine_info", "git_commit", "code_is_dirty",
           "fill_description", "reproduce", "main", "RESULTS_DIR", "CODE_PATHS"]

#: The source tree, and where full runs write their results files: its ``docs/results``.
ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = ROOT / "docs" / "results"
#: The paths whose uncommitted changes make a run's commit ``-dirty``.
CODE_PATHS = ("reference", "pyproject.toml")


def available_papers() -> list[str]:
    """Names of the papers that have a reproduce entry (modules in this package)."""
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def machine_info() -> dict:
    """CPU count, platform, Python, numpy version, the loaded BLAS libraries and thread settings.

    The BLAS entries come from ``threadpoolctl.threadpool_info()``: for each BLAS library loaded
    in the process (numpy's, and scipy's when it ships its own), its ``internal_api``
    (``"openblas"``, ``"mkl"``, ...), ``version``, ``num_threads`` at the time of the call and
    ``architecture`` (the CPU kernel it chose). ``blas`` is the same in one line, for the pages.
    """
    from threadpoolctl import threadpool_info

    libraries = []
    for lib in threadpool_info():
        if lib.get("user_api") != "blas":
            continue
        entry = {key: lib.get(key) for key in ("internal_api", "version", "num_threads",
                                               "architecture")}
        if entry not in libraries:
            libraries.append(entry)

    def one_line(lib):
        kernel = f" {lib['architecture']}" if lib.get("architecture") else ""
        threads = lib["num_threads"]
        return (f"{lib['internal_api']} {lib['version']}{kernel}, "
                f"{threads} thread{'' if threads == 1 else 's'}")

    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": "; ".join(one_line(lib) for lib in libraries) or None,
        "blas_libraries": libraries,
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
    }


def code_is_dirty() -> bool | None:
    """Whether ``reference/`` or ``pyproject.toml`` differ from the commit (``None``: no git).

    Uncommitted changes and new files that git does not ignore both count: either way the commit
    does not describe the code that ran. Changes elsewhere (docs, tests) do not.
    """
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", *CODE_PATHS], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return bool(out.strip())


def git_commit() -> str | None:
    """The current git commit, with ``-dirty`` when the code differs from it (see above)."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return sha + ("-dirty" if code_is_dirty() else "")


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if np.isfinite(v) else None
    return value


def _short(value) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_short(v) for v in value)
    return str(value)


def fill_description(template: str, values: dict) -> str:
    """Fill ``{key}`` / ``{key:spec}`` from ``values``; a template that cannot be filled is kept
    as it is (the docs build then names the unknown key)."""
    if "{" not in template:
        return template
    try:
        out = []
        for literal, field, spec, _ in string.Formatter().parse(template):
            out.append(literal)
            if field is not None:
                value = values[field]
                out.append(format(value, spec) if spec else _short(value))
        return "".join(out)
    except (KeyError, ValueError, TypeError) as err:
        print(f"# warning: description {template!r} not filled: {err!r}", file=sys.stderr)
        return template


def _output_path(paper: str, quick: bool, out: Path | None) -> Path:
    """Where a run writes: ``out`` (a directory, or a ``.json`` file), else ``docs/results``
    for a full run and a new temporary directory for a quick one."""
    if out is None:
        folder = Path(tempfile.mkdtemp(prefix=f"reproduce-{paper}-quick-")) if quick \
            else RESULTS_DIR
        return folder / f"{paper}.json"
    out = Path(out)
    path = out if out.suffix == ".json" else out / f"{paper}.json"
    if quick and path.resolve().parent == RESULTS_DIR.resolve():
        raise ValueError("a --quick run never writes docs/results/ (the committed results); "
                         "choose another --out, or drop --quick for a full run")
    return path


def reproduce(paper: str, quick: bool = False, seed: int = 0, out: Path | None = None,
              blas_threads: int = 1, allow_dirty: bool = False) -> dict:
    """Run one paper's reproduction, write its results file and return the record.

    The file goes to ``out`` (a directory or a ``.json`` path) when given; otherwise a full run
    writes ``docs/results/<paper>.json`` and a quick run a new temporary directory. The record's
    ``"path"`` key (not written to the file) says where it went.

    Raises
    ------
    ValueError
        For an unknown paper, a quick run aimed at ``docs/results/``, a ``blas_threads`` below 1,
        or a full run into ``docs/results/`` while ``reference/`` has uncommitted changes (unless
        ``allow_dirty``), checked before anything runs.
    """
    from threadpoolctl import threadpool_limits

    papers = available_papers()
    if paper not in papers:
        raise ValueError(f"unknown paper {paper!r}; choose one of {papers}")
    if int(blas_threads) < 1:
        raise ValueError(f"blas_threads must be at least 1, got {blas_threads}")
    path = _output_path(paper, quick, out)
    committed = path.resolve().parent == RESULTS_DIR.resolve()
    if committed and not allow_dirty and code_is_dirty():
        raise ValueError(
            "reference/ or pyproject.toml has uncommitted changes, so the commit would not "
            "describe the code that produced docs/results/" + path.name + ". Commit first, "
            "write elsewhere with --out, or pass --allow-dirty (the site will flag the file).")
    module = importlib.import_module(f"{__name__}.{paper}")
    command = "python -m reference.reproduce " + paper + (" --quick" if quick else "")
    command += f" --seed {seed}" if seed != 0 else ""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(int(blas_threads))  # for worker processes started by the run
    with threadpool_limits(limits=int(blas_threads)):
        start = time.perf_counter()
        metrics = module.run(quick=quick, seed=seed)
        wall = time.perf_counter() - start
        machine = machine_info()
    values = {"seed": seed, **metrics}
    table = []
    for row in getattr(module, "TABLE", []):
        key, desc, papers_number = row[:3]
        entry = {"metric": key, "description": fill_description(desc, values),
                 "paper": papers_number, "ours": metrics.get(key)}
        if len(row) > 3 and row[3]:
            entry["missing"] = row[3]
        table.append(entry)
    record = _jsonable({
        "paper": paper,
        "command": command,
        "quick": quick,
        "seed": seed,
        "commit": git_commit(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine,
        "wall_time_s": round(wall, 2),
        "metrics": metrics,
        "table": table,
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return {**record, "path": str(path)}


from ._cli import describe_paper, main  # noqa: E402  (the command line, after the API it uses)
