r"""Reproduction commands: ``python -m reference.reproduce <paper> [--quick] [--seed N]``.

Each paper has a module ``reference/reproduce/<paper>.py`` defining

``run(quick: bool, seed: int) -> dict``
    Runs the experiments and returns the metrics (a flat ``dict`` of JSON-serialisable values:
    numbers, strings, ``None``, or lists of them). It may print progress.
``TABLE``
    A list of ``(metric_key, description, papers_number)`` rows for the docs results table;
    ``papers_number`` is a string quoting the paper's published value with its location
    (for example ``"0.953 (Table 1)"``) or ``"—"`` when the paper has none.

The framework times the run, records the exact command, the git commit, the date and the
machine, writes ``docs/results/<paper>.json`` and prints the metrics. Results files are produced
only by this command, never edited by hand; the docs pages render them with the hook
``hooks/results_table.py``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import json
import os
import pkgutil
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

__all__ = ["available_papers", "machine_info", "git_commit", "reproduce", "main", "RESULTS_DIR"]

#: Where results files are written: ``docs/results`` of the source tree.
RESULTS_DIR = Path(__file__).resolve().parents[2] / "docs" / "results"


def available_papers() -> list[str]:
    """Names of the papers that have a reproduce entry (modules in this package)."""
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def machine_info() -> dict:
    """CPU count, platform, Python, numpy version and its BLAS, and BLAS thread settings."""
    blas = None
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {}).get("name")
    except Exception:  # numpy < 1.25 has no mode="dicts"
        pass
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
    }


def git_commit() -> str | None:
    """The current git commit of the source tree (with ``-dirty`` when it has changes)."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


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


def reproduce(paper: str, quick: bool = False, seed: int = 0, out_dir: Path | None = None) -> dict:
    """Run one paper's reproduction, write ``<out_dir>/<paper>.json`` and return its record."""
    papers = available_papers()
    if paper not in papers:
        raise ValueError(f"unknown paper {paper!r}; choose one of {papers}")
    module = importlib.import_module(f"{__name__}.{paper}")
    command = "python -m reference.reproduce " + paper + (" --quick" if quick else "")
    command += f" --seed {seed}" if seed != 0 else ""
    start = time.perf_counter()
    metrics = module.run(quick=quick, seed=seed)
    wall = time.perf_counter() - start
    table = [
        {"metric": key, "description": desc, "paper": papers_number, "ours": metrics.get(key)}
        for key, desc, papers_number in getattr(module, "TABLE", [])
    ]
    record = _jsonable({
        "paper": paper,
        "command": command,
        "quick": quick,
        "seed": seed,
        "commit": git_commit(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "wall_time_s": round(wall, 2),
        "metrics": metrics,
        "table": table,
    })
    out_dir = Path(out_dir) if out_dir is not None else RESULTS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{paper}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return record


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m reference.reproduce",
        description=("Run a paper's experiments, print its metrics and write "
                     "docs/results/<paper>.json."),
    )
    parser.add_argument("paper", choices=available_papers())
    parser.add_argument("--quick", action="store_true", help="smaller settings, for a smoke test")
    parser.add_argument("--seed", type=int, default=0, help="seed of the np.random.Generator")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="where to write <paper>.json (default: docs/results)")
    args = parser.parse_args(argv)
    record = reproduce(args.paper, quick=args.quick, seed=args.seed, out_dir=args.out_dir)
    print(f"# {record['command']}  ({record['wall_time_s']} s, commit {record['commit']})")
    width = max((len(k) for k in record["metrics"]), default=0)
    for key, value in record["metrics"].items():
        print(f"{key:<{width}}  {value}")
    out = (args.out_dir or RESULTS_DIR) / f"{args.paper}.json"
    print(f"# wrote {out}")
    return 0
