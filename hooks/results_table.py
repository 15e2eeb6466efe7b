"""MkDocs hook: render results from ``docs/results/<paper>.json`` into the pages.

The JSON files are written only by ``python -m reference.reproduce <paper>`` (see
``reference/reproduce/__init__.py``); no number on the site is typed in by hand. In a page's
Markdown this hook replaces

``<!-- results-table: <paper> -->``
    with a table (quantity, the paper's number, ours) followed by the exact command, the commit,
    the date, the wall time and a summary of the machine that produced the numbers;
``<!-- results-table: all -->``
    with one such table per paper, in the order of ``reference.PAPER_MODULES``;
``<!-- result: <paper>.<key> -->`` or ``<!-- result: <paper>.<key> :.3g -->``
    with one metric, formatted with the optional Python format spec.

A table row's description may hold ``{placeholders}`` (``{n_mixtures}``, ``{steps:,}``): they are
filled from the run's own metrics (and its ``seed``), so the text always describes the settings
the run used. A row whose value is missing (``None``) shows "—", followed by the row's
``missing`` reason when the reproduce module gave one; a present value never shows a reason.

The footer flags a results file that is older than the code it describes: the code of
``reference/<paper>/`` (or ``reference/<paper>.py``) and ``reference/reproduce/<paper>.py`` at the
commit the file records differs from the code at ``HEAD``, or the file was recorded from a working
tree with uncommitted changes (a commit ending in ``-dirty``). "Code" is each module's syntax tree
without docstrings (comments never reach the tree), so a commit that only edits docstrings or
comments leaves the results current, and any other edit flags them. Without git, no flag.

A paper with no JSON yet gets a note saying which command to run, or, when the paper has no
reproduce entry yet, that it is in progress (the build goes on). A key that is not in an existing
JSON, a placeholder naming no metric, or a JSON without the expected fields, fails the build with
a message naming the page, the file and the key. Markers inside code (fenced blocks or backticks)
are left alone, so they can be documented.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import hashlib
import json
import math
import re
import string
import subprocess
from pathlib import Path

from mkdocs.exceptions import PluginError

TABLE_RE = re.compile(r"<!--\s*results-table:\s*(?P<paper>[\w-]+)\s*-->")
RESULT_RE = re.compile(
    r"<!--\s*result:\s*(?P<paper>\w+)\.(?P<key>[\w-]+)\s*(?::(?P<fmt>\S*?))?\s*-->"
)
# Code that must not be touched: fenced blocks, then inline code spans.
CODE_RE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^(?P=fence)[ \t]*$"
                     r"|(?P<tick>`+)[^\n]*?(?P=tick)", re.MULTILINE | re.DOTALL)
REQUIRED = ("paper", "command", "commit", "date", "machine", "wall_time_s", "metrics", "table")


def _papers() -> tuple[str, ...]:
    try:
        from reference import PAPER_MODULES
    except ImportError:  # the package is not installed: fall back to the files present
        return ()
    return tuple(PAPER_MODULES)


def _load(docs_dir: Path, paper: str, page: str) -> dict | None:
    path = docs_dir / "results" / f"{paper}.json"
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise PluginError(f"results_table: {path} (used by {page}) is not valid JSON: {err}. "
                          f"Regenerate it with `python -m reference.reproduce {paper}`.")
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise PluginError(f"results_table: {path} (used by {page}) lacks {missing}. "
                          f"Regenerate it with `python -m reference.reproduce {paper}`.")
    return record


def _fmt(value, spec: str | None = None) -> str:
    """Format one metric: numbers to 4 significant digits unless a format spec is given."""
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v, spec) for v in value)
    if value is None:
        return "—"
    if spec:
        try:
            return format(value, spec)
        except (ValueError, TypeError) as err:
            raise PluginError(f"results_table: cannot format {value!r} with {spec!r}: {err}")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.3e}"
        return f"{value:.4g}"
    return str(value)


def _cell(text) -> str:
    return str(text).replace("|", r"\|").replace("\n", " ")


def _duration(seconds) -> str:
    if not isinstance(seconds, (int, float)):
        return "unknown"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours} h " if hours else "") + f"{minutes} min {sec} s"


def _machine(m: dict) -> str:
    if not isinstance(m, dict):
        return str(m)
    parts = []
    if m.get("cpu_count"):
        parts.append(f"{m['cpu_count']} CPUs")
    if m.get("processor"):
        parts.append(str(m["processor"]))
    if m.get("python"):
        parts.append(f"Python {m['python']}")
    if m.get("numpy"):
        parts.append(f"numpy {m['numpy']}" + (f" ({m['blas']})" if m.get("blas") else ""))
    threads = [f"{k}={m[k]}" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS") if m.get(k)]
    parts += threads
    return ", ".join(parts) or "unknown"


def _missing_note(paper: str, root: Path) -> str:
    if not (root / "reference" / "reproduce" / f"{paper}.py").is_file():
        return ('!!! note "In progress"\n'
                "    This paper is in progress: it has no reproduce entry yet, so there are no "
                "results to show.\n")
    return (f'!!! note "No results yet"\n'
            f"    No results yet: run `python -m reference.reproduce {paper}`.\n")


def describe(template: str, record: dict, where: str = "") -> str:
    """Fill a description's ``{key}`` / ``{key:spec}`` placeholders from the run's metrics."""
    if "{" not in template:
        return template
    values = {"seed": record.get("seed"), **record.get("metrics", {})}
    out = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as err:
        raise PluginError(f"results_table: {where}: bad placeholder in {template!r}: {err}")
    for literal, field, spec, conversion in parsed:
        out.append(literal)
        if field is None:
            continue
        if field not in values:
            raise PluginError(
                f"results_table: {where}: the description {template!r} names {{{field}}}, "
                f"which is not a metric of the run (it has: {', '.join(sorted(values))}).")
        out.append(_fmt(values[field], spec or None))
    return "".join(out)


#: Metrics (fnmatch patterns) each paper's results table shows as percentages, beside the paper's
#: percentages. Display only: results files keep fractions in [0, 1], and this lives here rather
#: than in the reproduce modules so that changing it does not mark any results file stale.
PERCENT_METRICS = {
    "matching_networks": ("omniglot_*", "lake_*", "*_lake", "eval_*", "paper_within_*",
                          "variant_*_20way_1shot"),
    "neural_statistician": ("*_accuracy", "families_logistic", "families_mixture_logistic",
                            "families_moments_ceiling", "omniglot_*way_*shot",
                            "lake_20way_1shot", "pixel_*", "autoencoder_*",
                            "omniglot_curve_lake", "conv_*way_1shot", "conv_lake_*",
                            "varsize_*way_1shot", "varsize_lake_*"),
    "air": ("*accuracy*",),
}


def _ours(row: dict, percent: tuple[str, ...] = ()) -> str:
    value = row.get("ours")
    if value is None and row.get("missing"):
        return f"— ({row['missing']})"
    metric = row.get("metric", "")
    if any(fnmatch.fnmatchcase(metric, pat) for pat in percent) and not isinstance(value, bool):
        values = value if isinstance(value, list) else [value]
        if all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in values):
            return _fmt(value, ".1%")
    return _fmt(value)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None


def _code_paths(paper: str) -> list[str]:
    return [f"reference/{paper}", f"reference/{paper}.py", f"reference/reproduce/{paper}.py"]


def code_fingerprint(path: str, source: bytes) -> str:
    """A hash of a file's code: for Python, its syntax tree with every docstring removed."""
    text = source
    if path.endswith(".py"):
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            pass
        else:
            for node in ast.walk(tree):
                body = getattr(node, "body", None)
                if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                      ast.AsyncFunctionDef)) and body
                        and isinstance(body[0], ast.Expr)
                        and isinstance(body[0].value, ast.Constant)
                        and isinstance(body[0].value.value, str)):
                    node.body = body[1:] or [ast.Pass()]
            text = ast.dump(tree).encode()
    return hashlib.sha256(path.encode() + b"\0" + text).hexdigest()


@functools.lru_cache(maxsize=None)
def _blob_fingerprint(root: Path, path: str, blob: str) -> str | None:
    proc = subprocess.run(["git", "cat-file", "blob", blob], cwd=root, capture_output=True,
                          timeout=30)
    return code_fingerprint(path, proc.stdout) if proc.returncode == 0 else None


@functools.lru_cache(maxsize=None)
def code_at(root: Path, commit: str, paper: str) -> str | None:
    """Fingerprint of the paper's code at ``commit`` (``None`` without git or that commit)."""
    proc = _git(root, "ls-tree", "-r", commit, "--", *_code_paths(paper))
    if proc is None or proc.returncode != 0:
        return None
    parts = []
    entries = sorted((line.partition("\t")[2], line.split()[2])  # (path, blob sha)
                     for line in proc.stdout.splitlines())
    for path, blob in entries:
        part = _blob_fingerprint(root, path, blob)
        if part is None:
            return None
        parts.append(part)
    return hashlib.sha256("".join(parts).encode()).hexdigest()


@functools.lru_cache(maxsize=None)
def last_code_change(root: Path, paper: str) -> tuple[str, str] | None:
    """``(sha, date)`` of the last commit that changed the paper's code (not only docstrings)."""
    proc = _git(root, "log", "--format=%H %cs", "--", *_code_paths(paper))
    if proc is None or proc.returncode != 0 or not proc.stdout.strip():
        return None
    for line in proc.stdout.strip().splitlines():
        sha, _, date = line.partition(" ")
        if code_at(root, sha, paper) != code_at(root, sha + "^", paper):
            return sha, date
    return None


def staleness_note(record: dict, root: Path | None) -> str:
    """A warning when the results were recorded before the last change to their code."""
    commit = record.get("commit") or ""
    paper = record["paper"]
    command = f"`python -m reference.reproduce {paper}`"
    notes = []
    if commit.endswith("-dirty"):
        notes.append(f"they were recorded from a working tree with uncommitted changes to the "
                     f"code, so commit `{commit[:10]}` does not identify the code exactly")
    recorded = commit.removesuffix("-dirty")
    now = code_at(root, "HEAD", paper) if root is not None and commit else None
    then = code_at(root, recorded, paper) if now is not None else None
    if now is not None and then is not None and now != then:
        change = last_code_change(root, paper)
        since = f" (commit `{change[0][:10]}` of {change[1]})" if change else ""
        notes.append(f"they were recorded at commit `{commit[:10]}`, before the last change to "
                     f"the code they describe{since}")
    if not notes:
        return ""
    return (f'!!! warning "Older than the code"\n'
            f"    These numbers may not match the code on this site: {'; '.join(notes)}. "
            f"Rerun {command} at a clean commit to refresh them.\n")


def _table(record: dict, root: Path | None = None, where: str = "") -> str:
    rows = ["| Quantity | Paper's number | Ours |", "| --- | --- | --- |"]
    percent = PERCENT_METRICS.get(record.get("paper", ""), ())
    for row in record["table"]:
        desc = describe(row.get("description") or row.get("metric", ""), record, where)
        rows.append(f"| {_cell(desc)} | {_cell(row.get('paper', '—'))} | "
                    f"{_cell(_ours(row, percent))} |")
    commit = record["commit"] or "unknown"
    short = commit[:10] + ("-dirty" if commit.endswith("-dirty") else "")
    footer = (f"Produced by `{record['command']}` at commit `{short}` on {record['date']}, "
              f"in {_duration(record['wall_time_s'])} on {_machine(record['machine'])}.")
    if record.get("quick"):
        footer += " These are quick settings (a smoke test), not the full run."
    stale = staleness_note(record, root)
    return "\n".join(rows) + "\n\n" + footer + "\n" + ("\n" + stale if stale else "")


def _title(config, paper: str) -> str:
    """The paper's title as written in the nav (falls back to the module name)."""
    def walk(items):
        for item in items or []:
            if isinstance(item, dict):
                for title, value in item.items():
                    if value == f"{paper}.md":
                        return title
                    found = walk(value if isinstance(value, list) else [])
                    if found:
                        return found
        return None
    return walk(config.nav) or paper.replace("_", " ").capitalize()


def _render_table(paper: str, docs_dir: Path, page: str, config) -> str:
    if paper == "all":
        papers = list(_papers())
        papers += sorted(p.stem for p in (docs_dir / "results").glob("*.json")
                         if p.stem not in papers)
        parts = []
        for name in papers:
            link = f"{name}.md" if (docs_dir / f"{name}.md").is_file() else None
            title = _title(config, name)
            parts.append(f"## {title}\n\n" + (f"Page: [{title}]({link}).\n\n" if link else "")
                         + _render_table(name, docs_dir, page, config))
        return "\n".join(parts)
    record = _load(docs_dir, paper, page)
    root = docs_dir.resolve().parent
    if record is None:
        return _missing_note(paper, root)
    return _table(record, root, f"{page} (docs/results/{paper}.json)")


def _render_result(paper: str, key: str, spec: str | None, docs_dir: Path, page: str) -> str:
    record = _load(docs_dir, paper, page)
    if record is None:
        if not (docs_dir.resolve().parent / "reference" / "reproduce" / f"{paper}.py").is_file():
            return "(in progress: no reproduce entry yet)"
        return f"(not run yet: `python -m reference.reproduce {paper}`)"
    if key not in record["metrics"]:
        raise PluginError(
            f"results_table: {page} asks for result {paper}.{key}, but "
            f"docs/results/{paper}.json has no metric {key!r} (it has: "
            f"{', '.join(sorted(record['metrics'])) or 'none'}). Fix the marker, or add the "
            f"metric to reference/reproduce/{paper}.py and rerun "
            f"`python -m reference.reproduce {paper}`.")
    return _fmt(record["metrics"][key], spec or None)


def _substitute(text: str, docs_dir: Path, page: str, config) -> str:
    text = TABLE_RE.sub(lambda m: _render_table(m["paper"], docs_dir, page, config), text)
    return RESULT_RE.sub(
        lambda m: _render_result(m["paper"], m["key"], m["fmt"], docs_dir, page), text)


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Replace the result markers (outside code) with tables and numbers from the JSON files."""
    if "<!--" not in markdown:
        return markdown
    docs_dir = Path(config.docs_dir)
    name = page.file.src_uri
    out, last = [], 0
    for code in CODE_RE.finditer(markdown):
        out.append(_substitute(markdown[last:code.start()], docs_dir, name, config))
        out.append(code.group(0))
        last = code.end()
    out.append(_substitute(markdown[last:], docs_dir, name, config))
    return "".join(out)
