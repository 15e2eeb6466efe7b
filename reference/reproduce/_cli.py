"""The command line of ``python -m reference.reproduce``: ``--help`` and ``main``.

``--help`` lists each paper with the first paragraph of its reproduce module's docstring and the
times of its runs (the full run's from its results file, ``--quick``'s from the module's
``QUICK_WALL_TIME_S``). Names of the package (``RESULTS_DIR``, ``available_papers``,
``reproduce``) are looked up on it at call time, so tests can replace them.
"""

from __future__ import annotations

import argparse
import ast
import json
import textwrap
from pathlib import Path

import reference.reproduce as rp

def _module_facts(paper: str) -> tuple[str, float | None]:
    """First docstring paragraph and ``QUICK_WALL_TIME_S`` of a reproduce module, read without
    importing it (so ``--help`` is fast and works while one module is broken)."""
    path = Path(rp.__file__).parent / f"{paper}.py"
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError):
        return "(cannot be read)", None
    doc = (ast.get_docstring(tree) or "").strip().splitlines()
    quick = None
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "QUICK_WALL_TIME_S" for t in targets):
                try:
                    quick = float(ast.literal_eval(node.value))
                except (ValueError, TypeError):
                    quick = None
    paragraph = []
    for line in doc:  # the first paragraph: a summary line may wrap onto the next lines
        if not line.strip():
            break
        paragraph.append(line.strip())
    first = " ".join(paragraph) or "(no description)"
    for role in ("func", "class", "meth", "mod", "data"):  # plain text for a terminal
        first = first.replace(f":{role}:", "")
    return first.replace("``", "`"), quick


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "not measured"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def describe_paper(paper: str) -> str:
    """One paper's ``--help`` entry: what it measures and how long its runs take."""
    first, quick = _module_facts(paper)
    full = None
    try:
        record = json.loads((rp.RESULTS_DIR / f"{paper}.json").read_text())
        if not record.get("quick"):
            cpus = (record.get("machine") or {}).get("cpu_count")
            full = (_duration(record.get("wall_time_s"))
                    + (f" on {cpus} CPUs" if cpus else "")
                    + f" (docs/results/{paper}.json)")
    except (OSError, ValueError, AttributeError):
        pass
    summary = textwrap.fill(first, width=92, initial_indent=" " * 6, subsequent_indent=" " * 6)
    return (f"  {paper}\n{summary}\n"
            f"      full run: {full or 'not measured'}; --quick: {_duration(quick)}")


def _site_order() -> list[str]:
    """The papers with a reproduce entry, in the order of ``reference.PAPER_MODULES``."""
    from reference import PAPER_MODULES

    ready = rp.available_papers()
    return [p for p in PAPER_MODULES if p in ready] + [p for p in ready
                                                       if p not in PAPER_MODULES]


def _epilog() -> str:
    entries = "\n".join(describe_paper(p) for p in _site_order())
    return ("papers (full-run time from each results file, --quick time as measured):\n"
            + (entries or "  (none yet)") + "\n\n"
            "A full run writes docs/results/<paper>.json, which the docs build renders; it needs "
            "the code\ncommitted (or --allow-dirty). A --quick run writes to a temporary "
            "directory, or to --out.")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m reference.reproduce",
        description="Run a paper's experiments, print its metrics and write its results file.",
        epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paper", help="one of: " + ", ".join(_site_order()))
    parser.add_argument("--quick", action="store_true",
                        help="smaller settings, for a smoke test (never writes docs/results/)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the np.random.Generator")
    parser.add_argument("--out", "--out-dir", dest="out", type=Path, default=None,
                        help="a directory, or a .json path, for the results file (default: "
                             "docs/results/ for a full run, a temporary directory for --quick)")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads for the run (default 1: on a small machine more "
                             "threads cost CPU time without saving wall time)")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="let a full run write docs/results/ although reference/ has "
                             "uncommitted changes (the commit is recorded with -dirty)")
    args = parser.parse_args(argv)
    from reference import PAPER_MODULES

    if args.paper not in rp.available_papers():
        state = (" is in progress: it has no reproduce entry yet"
                 if args.paper in PAPER_MODULES else " is not a paper of this repository")
        parser.error(f"{args.paper!r}{state}; the papers with one are: "
                     + ", ".join(_site_order()))
    try:
        record = rp.reproduce(args.paper, quick=args.quick, seed=args.seed, out=args.out,
                           blas_threads=args.blas_threads, allow_dirty=args.allow_dirty)
    except ValueError as err:
        parser.error(str(err))
    print(f"# {record['command']}  ({record['wall_time_s']} s, commit {record['commit']})")
    width = max((len(k) for k in record["metrics"]), default=0)
    for key, value in record["metrics"].items():
        print(f"{key:<{width}}  {value}")
    print(f"# wrote {record['path']}")
    if args.quick:
        print("# quick settings: docs/results/ is unchanged")
    elif record["commit"] and record["commit"].endswith("-dirty"):
        print("# warning: recorded with uncommitted changes (-dirty); the site flags this file")
    return 0
