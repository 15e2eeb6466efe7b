"""MkDocs hook: each paper's status (implemented or in progress), computed from what exists.

A paper is **implemented** when all three of these exist, and **in progress** otherwise:

- its code: the package ``reference/<paper>/`` (with ``__init__.py``) or the module
  ``reference/<paper>.py``;
- its reproduce entry: ``reference/reproduce/<paper>.py`` (``python -m reference.reproduce
  <paper>`` accepts it);
- its results: ``docs/results/<paper>.json`` from a full (not ``--quick``) run.

In a page's Markdown (outside code) this hook replaces

``<!-- paper-status: <paper> -->``
    with ``implemented``, or ``in progress`` followed by what is missing;
``<!-- reproduce-commands -->``
    with a code block holding ``python -m reference.reproduce <paper>`` for each paper that has
    a reproduce entry, in the order of ``reference.PAPER_MODULES`` (and a sentence naming the
    papers that have none yet).

The README is not built; ``tests/test_paper_status.py`` checks its Status column against
``status()`` instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATUS_RE = re.compile(r"<!--\s*paper-status:\s*(?P<paper>\w+)\s*-->")
COMMANDS_RE = re.compile(r"<!--\s*reproduce-commands\s*-->")
CODE_RE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^(?P=fence)[ \t]*$"
                     r"|(?P<tick>`+)[^\n]*?(?P=tick)", re.MULTILINE | re.DOTALL)
IMPLEMENTED, IN_PROGRESS = "implemented", "in progress"


def papers(root: Path = ROOT) -> list[str]:
    """The papers in site order (``reference.PAPER_MODULES``, read without importing)."""
    text = (root / "reference" / "__init__.py").read_text()
    match = re.search(r"PAPER_MODULES\s*=\s*\((.*?)\)", text, re.DOTALL)
    return re.findall(r"[\"'](\w+)[\"']", match.group(1)) if match else []


def has_code(root: Path, paper: str) -> bool:
    return ((root / "reference" / paper / "__init__.py").is_file()
            or (root / "reference" / f"{paper}.py").is_file())


def has_reproduce(root: Path, paper: str) -> bool:
    return (root / "reference" / "reproduce" / f"{paper}.py").is_file()


def has_full_results(root: Path, paper: str) -> bool:
    path = root / "docs" / "results" / f"{paper}.json"
    try:
        return not json.loads(path.read_text()).get("quick", False)
    except (OSError, ValueError, AttributeError):
        return False


def status(paper: str, root: Path = ROOT) -> tuple[str, list[str]]:
    """``("implemented", [])`` or ``("in progress", [what is missing, ...])``."""
    missing = []
    if not has_code(root, paper):
        missing.append(f"no code yet (`reference/{paper}/`)")
    if not has_reproduce(root, paper):
        missing.append("no reproduce entry yet")
    if not has_full_results(root, paper):
        missing.append("no results from a full run yet")
    return (IN_PROGRESS if missing else IMPLEMENTED), missing


def status_text(paper: str, root: Path = ROOT) -> str:
    state, missing = status(paper, root)
    return state if not missing else f"{state}: " + ", ".join(missing)


def commands_block(root: Path = ROOT) -> str:
    names = papers(root)
    ready = [p for p in names if has_reproduce(root, p)]
    lines = "\n".join(f"python -m reference.reproduce {p}" for p in ready)
    out = f"```bash\n{lines}\n```\n" if ready else ""
    waiting = [p for p in names if p not in ready]
    if waiting:
        out += ("\nNo reproduce entry yet for: " + ", ".join(f"`{p}`" for p in waiting)
                + " (in progress).\n")
    return out


def _substitute(text: str, root: Path) -> str:
    text = STATUS_RE.sub(lambda m: status_text(m["paper"], root), text)
    return COMMANDS_RE.sub(lambda m: commands_block(root), text)


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Fill the status and command markers (outside code) from the files that exist."""
    if "<!--" not in markdown:
        return markdown
    root = Path(config.docs_dir).resolve().parent
    out, last = [], 0
    for code in CODE_RE.finditer(markdown):
        out.append(_substitute(markdown[last:code.start()], root))
        out.append(code.group(0))
        last = code.end()
    out.append(_substitute(markdown[last:], root))
    return "".join(out)
