"""MkDocs hook: serve KaTeX from the built site, so math renders with no network.

KaTeX comes from the npm registry (pinned in ``package.json`` / ``package-lock.json``) and is
never committed. At build time this hook

1. finds ``node_modules/katex/dist`` beside ``mkdocs.yml``; if it is missing and ``npm`` is on
   the ``PATH``, runs ``npm ci`` once (quietly) to fetch it;
2. adds ``katex.min.js``, ``katex.min.css``, ``contrib/auto-render.min.js`` and ``fonts/*`` to the
   site's files under ``assets/katex/`` (the URLs that ``mkdocs.yml`` lists in ``extra_css`` and
   ``extra_javascript``), so ``mkdocs build`` and ``mkdocs serve`` both ship them;
3. if KaTeX still cannot be found (no npm, no registry), rewrites those URLs to the same pinned
   version on a public CDN and prints a one-line notice: the build succeeds, but math then needs
   the network.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.katex")

#: Where ``mkdocs.yml`` refers to KaTeX inside the site.
SITE_PREFIX = "assets/katex/"
#: The files copied from ``node_modules/katex/dist`` (relative to it); ``fonts/`` is added whole.
DIST_FILES = ("katex.min.js", "katex.min.css", "contrib/auto-render.min.js")
CDN = "https://cdn.jsdelivr.net/npm/katex@{version}/dist/"

_state: dict = {"dist": None}


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def _pinned_version(root: Path) -> str:
    """The exact KaTeX version pinned in ``package.json``."""
    data = json.loads((root / "package.json").read_text())
    return data["dependencies"]["katex"].lstrip("=^~")


def _dist(root: Path) -> Path | None:
    dist = root / "node_modules" / "katex" / "dist"
    ok = all((dist / name).is_file() for name in DIST_FILES) and (dist / "fonts").is_dir()
    return dist if ok else None


def _npm_ci(root: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        return
    try:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent", "--fetch-retries=1"],
                       cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180,
                       check=False)
    except (OSError, subprocess.SubprocessError):
        pass


def on_config(config):
    """Locate KaTeX (running ``npm ci`` if needed); otherwise point the pages at the CDN."""
    root = _root(config)
    dist = _dist(root)
    if dist is None:
        _npm_ci(root)
        dist = _dist(root)
    _state["dist"] = dist
    if dist is not None:
        return config

    base = CDN.format(version=_pinned_version(root))
    print(f"NOTICE: KaTeX not found in node_modules (run `npm ci`); math will load from {base}")

    def to_cdn(url: str) -> str:
        return base + url[len(SITE_PREFIX):] if url.startswith(SITE_PREFIX) else url

    config.extra_css = [to_cdn(str(u)) for u in config.extra_css]
    for i, script in enumerate(config.extra_javascript):
        if isinstance(script, str):
            config.extra_javascript[i] = to_cdn(script)
        else:
            script.path = to_cdn(script.path)
    return config


def on_files(files: Files, config) -> Files:
    """Add the KaTeX distribution files to the site under ``assets/katex/``."""
    dist = _state["dist"]
    if dist is None:
        return files
    paths = [dist / name for name in DIST_FILES]
    paths += sorted(p for p in (dist / "fonts").iterdir() if p.is_file())
    for path in paths:
        uri = SITE_PREFIX + path.relative_to(dist).as_posix()
        stale = files.get_file_from_path(uri)  # e.g. an old copy under docs/assets/katex
        if stale is not None:
            files.remove(stale)
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
