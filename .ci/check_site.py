r"""Check a built MkDocs site in headless Chromium with the network cut.

Usage: ``python .ci/check_site.py site [--chromium PATH] [--screenshot-dir DIR]``

1. Serves ``site/`` on 127.0.0.1 (a free port) with a server that records every request.
2. Crawls every HTML page and every CSS file for site-local references (``href``, ``src``,
   ``srcset``, CSS ``url()``) and requests each one: any 404 fails. A script, stylesheet, image
   or font loaded from another host fails too, since it would not load offline.
3. Opens every page whose HTML contains math (``class="arithmatex"``) in headless Chromium, with
   every host other than 127.0.0.1 unresolvable and a dead proxy, and reads the DOM after the
   scripts ran: each math element must hold rendered KaTeX (``.katex``), there must be no
   ``.katex-error``, and no raw ``\(`` or ``\[`` delimiter may be left in the text.
4. Any request the browser made that the server answered with 404 fails as well.
5. The text of every built page (not its URLs or attributes) must hold no internal notes and no
   unrendered markup (see ``text_problems``): no raw Sphinx role (``:func:``, ``:class:``,
   ``:meth:``, ``:data:``, ``:mod:``, ``:attr:``, ``:exc:``, ``:obj:``, ``:ref:``) outside code,
   and nowhere the word "issue" followed by a number ("issue 4", "Issue #12") or "PAPERS.md".

Only the standard library is used. Exits non-zero on any failure, after printing all of them.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr"}
SKIP_TEXT = {"script", "style", "pre", "code", "textarea", "noscript"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
# Text rules: (pattern, also inside <code>/<pre>?, what the failure says).
TEXT_RULES = (
    (re.compile(r"(?<![\w:]):(?:py:)?(?:func|class|meth|data|mod|attr|exc|obj|ref):"), False,
     "raw Sphinx role (use mkdocstrings cross-references: [name][reference.module.name])"),
    (re.compile(r"\bissues?\s*#?\s*\d+", re.IGNORECASE), True,
     "internal issue number (say what was measured and where its command is)"),
    (re.compile(r"PAPERS\.md", re.IGNORECASE), True,
     "internal file PAPERS.md (not part of the published project)"),
)


class RecordingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site and records (path, status) of every request."""

    log: list = []

    def log_request(self, code="-", size="-"):
        self.log.append((self.path, int(code) if str(code).isdigit() else code))

    def log_message(self, *args):  # quiet
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    """A server that does not print a traceback when a client closes a connection early."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class LinkParser(HTMLParser):
    """Collects (kind, url) pairs: kind is 'link' for <a>, 'asset' for what a page loads."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.refs.append(("link", a["href"]))
        elif tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower()
            nav_rels = {"canonical", "alternate", "prev", "next", "search"}
            kind = "link" if rel in nav_rels else "asset"
            if "preconnect" in rel or "dns-prefetch" in rel:
                kind = "asset"
            self.refs.append((kind, a["href"]))
        elif tag in {"script", "img", "source", "iframe", "embed", "video", "audio"}:
            if a.get("src"):
                self.refs.append(("asset", a["src"]))
            for part in (a.get("srcset") or "").split(","):
                if part.strip():
                    self.refs.append(("asset", part.strip().split()[0]))


class DomParser(HTMLParser):
    """Reads a serialised DOM: math elements, rendered KaTeX, errors, raw delimiters."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set]] = []
        self.math = 0            # elements with class arithmatex
        self.math_rendered = 0   # ... that contain a .katex element
        self.katex = 0
        self.code_blocks = 0     # <pre> elements (code blocks)
        self.copy_buttons = 0    # Material's copy-to-clipboard buttons
        self.errors: list[str] = []
        self.raw: list[str] = []
        self._math_open: list[list] = []  # [depth, has_katex]
        self._err_depth = None
        self._err_text = []

    def _classes(self, attrs):
        return set((dict(attrs).get("class") or "").split())

    def handle_starttag(self, tag, attrs):
        cls = self._classes(attrs)
        if tag in VOID:
            return
        self.stack.append((tag, cls))
        depth = len(self.stack)
        if "arithmatex" in cls:
            self.math += 1
            self._math_open.append([depth, False])
        if tag == "pre":
            self.code_blocks += 1
        if "md-clipboard" in cls or dict(attrs).get("data-md-type") == "copy":
            self.copy_buttons += 1  # Material < 9.7 / >= 9.7
        if "katex" in cls:
            self.katex += 1
            for m in self._math_open:
                m[1] = True
        if "katex-error" in cls and self._err_depth is None:
            self._err_depth, self._err_text = depth, []

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in VOID or not self.stack:
            return
        # pop to the matching tag (tolerates stray end tags)
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                break
        else:
            return
        while len(self.stack) > i:
            depth = len(self.stack)
            if self._math_open and self._math_open[-1][0] == depth:
                self.math_rendered += self._math_open.pop()[1]
            if self._err_depth == depth:
                self.errors.append("".join(self._err_text).strip()[:120])
                self._err_depth = None
            self.stack.pop()

    def handle_data(self, data):
        if self._err_depth is not None:
            self._err_text.append(data)
        if any(t in SKIP_TEXT or "katex" in c for t, c in self.stack):
            return
        for delim in ("\\(", "\\["):
            i = data.find(delim)
            if i >= 0:
                self.raw.append(data[max(0, i - 30):i + 50].strip())


class TextParser(HTMLParser):
    """Collects a page's text nodes, each marked as inside code (``<code>``/``<pre>``) or not.

    Script and style contents are not text; attribute values (URLs, titles) are not visited.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.texts: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if any(t in {"script", "style", "template"} for t in self.stack):
            return
        if data.strip():
            self.texts.append((data, any(t in {"code", "pre"} for t in self.stack)))


def text_problems(html: str) -> list[str]:
    """The text rules of step 5 applied to one page's HTML: one message per problem."""
    parser = TextParser()
    parser.feed(html)
    parser.close()
    problems = []
    for text, in_code in parser.texts:
        for pattern, check_code, what in TEXT_RULES:
            if in_code and not check_code:
                continue
            for m in pattern.finditer(text):
                snippet = " ".join(text[max(0, m.start() - 40):m.end() + 40].split())
                problems.append(f"{what}: {m.group(0)!r} in {snippet!r}")
    return problems


def check_structure(site: Path, repo: Path) -> tuple[list[str], list[str]]:
    """The pages the site must have, and the executed gallery examples with their downloads.

    Returns (failures, notes).
    """
    failures, notes = [], []
    required = ["index.html", "results/index.html", "contributing/index.html",
                "generated/gallery/index.html"]
    try:
        sys.path.insert(0, str(repo))
        from reference import PAPER_MODULES
        required += [f"{paper}/index.html" for paper in PAPER_MODULES]
    except ImportError as err:
        failures.append(f"cannot import reference.PAPER_MODULES: {err}")
    finally:
        sys.path.pop(0)
    for rel in required:
        if not (site / rel).is_file():
            failures.append(f"required page {rel} is missing")
    scripts = sorted((repo / "gallery").glob("*/plot_*.py"))
    with_figure = 0
    for script in scripts:
        sub, stem = script.parent.name, script.stem
        page = site / "generated" / "gallery" / sub / stem / "index.html"
        if not page.is_file():
            failures.append(f"gallery example {sub}/{stem}.py has no page in the site")
            continue
        html = page.read_text(errors="replace")
        for ext in (".py", ".ipynb"):
            if f'href="../{stem}{ext}"' not in html:
                failures.append(f"gallery page {sub}/{stem} offers no {ext} download")
        if re.search(r'<img[^>]+src="[^"]*images/mkd_glr_' + re.escape(stem), html):
            with_figure += 1
    if not scripts:
        notes.append("no gallery example (gallery/*/plot_*.py) in the repository yet")
    elif with_figure == 0:
        failures.append("no executed gallery example shows a figure")
    else:
        notes.append(f"{len(scripts)} gallery examples executed, {with_figure} with a figure, "
                     f"each offering .py and .ipynb downloads")
    return failures, notes


def find_chromium(explicit: str | None) -> str:
    for cand in [explicit, os.environ.get("CHROMIUM"), "/usr/bin/chromium",
                 shutil.which("chromium"), shutil.which("chromium-browser")]:
        if cand and Path(cand).exists():
            return cand
    sys.exit("check_site: no Chromium found (install Debian's `chromium` package)")


def chromium_cmd(chromium: str, profile: str, port: int) -> list[str]:
    return [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-extensions",
        "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
        f"--user-data-dir={profile}",
        # The network is cut: no name resolves except 127.0.0.1, and any proxied request
        # goes to a port where nothing listens.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
        "--virtual-time-budget=15000", "--window-size=1280,2000",
    ]


def run_chromium(args: list[str], timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1],
                    help="the repository the site was built from (default: this one)")
    ap.add_argument("--chromium", default=None)
    ap.add_argument("--screenshot-dir", type=Path, default=None,
                    help="also save a PNG of each math page here (for a human to look at)")
    args = ap.parse_args(argv)
    site = args.site.resolve()
    if not (site / "index.html").is_file():
        sys.exit(f"check_site: {site} has no index.html; run `mkdocs build` first")

    handler = functools.partial(RecordingHandler, directory=str(site))
    server = QuietServer(("127.0.0.1", 0), handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}/"
    t0 = time.perf_counter()

    # -- 0. the pages the site must have -------------------------------------------------
    failures, notes = check_structure(site, args.repo.resolve())

    # -- 1. static crawl: every page and CSS file, every site-local reference --------------
    pages = sorted(site.rglob("*.html"))
    css_files = sorted(site.rglob("*.css"))
    to_check: dict[str, str] = {}  # url (no fragment) -> first referrer
    math_pages = []
    code_pages = []
    for path in pages:
        rel = path.relative_to(site).as_posix()
        page_url = base + rel
        html = path.read_text(errors="replace")
        if 'class="arithmatex"' in html:
            math_pages.append(rel)
        elif "<pre" in html:
            code_pages.append(rel)
        failures += [f"{rel}: {problem}" for problem in text_problems(html)]
        parser = LinkParser()
        parser.feed(html)
        for kind, ref in parser.refs:
            full = urllib.parse.urljoin(page_url, ref)
            parts = urllib.parse.urlsplit(full)
            if parts.scheme in {"mailto", "javascript", "data", "tel"}:
                continue
            if parts.netloc != f"127.0.0.1:{port}":
                if kind == "asset" and parts.scheme in {"http", "https"}:
                    failures.append(f"{rel}: loads {ref} from another host (breaks offline)")
                continue
            to_check.setdefault(urllib.parse.urlunsplit(parts._replace(fragment="")), rel)
    for path in css_files:
        rel = path.relative_to(site).as_posix()
        for ref in CSS_URL.findall(path.read_text(errors="replace")):
            if ref.startswith(("data:", "#")):
                continue
            full = urllib.parse.urljoin(base + rel, ref)
            parts = urllib.parse.urlsplit(full)
            if parts.netloc != f"127.0.0.1:{port}":
                failures.append(f"{rel}: loads {ref} from another host (breaks offline)")
                continue
            to_check.setdefault(urllib.parse.urlunsplit(parts._replace(fragment="", query="")),
                                rel)
    for url, referrer in sorted(to_check.items()):
        try:
            req = urllib.request.Request(url, method="HEAD")
            with urllib.request.urlopen(req, timeout=10):
                pass
        except urllib.error.HTTPError as err:
            failures.append(f"{referrer}: {url[len(base) - 1:]} -> HTTP {err.code}")
        except OSError as err:
            failures.append(f"{referrer}: {url[len(base) - 1:]} -> {err}")
    t_crawl = time.perf_counter() - t0

    # -- 2. math pages in headless Chromium, network cut ----------------------------------
    chromium = find_chromium(args.chromium)
    n_request_before = len(RecordingHandler.log)
    total_math = total_katex = 0
    if args.screenshot_dir:
        args.screenshot_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="check_site_chromium_") as profile:
        cmd = chromium_cmd(chromium, profile, port)
        for rel in math_pages + code_pages:
            has_math = rel in math_pages
            url = base + rel
            try:
                proc = run_chromium(cmd + ["--dump-dom", url])
            except subprocess.TimeoutExpired:
                failures.append(f"{rel}: Chromium timed out")
                continue
            if proc.returncode != 0 or "<html" not in proc.stdout:
                failures.append(f"{rel}: Chromium failed (exit {proc.returncode}): "
                                f"{proc.stderr.strip()[-300:]}")
                continue
            dom = DomParser()
            dom.feed(proc.stdout)
            total_math += dom.math
            total_katex += dom.math_rendered
            if not has_math:
                pass
            elif dom.katex == 0:
                failures.append(f"{rel}: math on the page but no rendered .katex element")
            elif dom.math_rendered < dom.math:
                failures.append(f"{rel}: {dom.math - dom.math_rendered} of {dom.math} math "
                                f"elements not rendered")
            if dom.code_blocks and not dom.copy_buttons:
                failures.append(f"{rel}: {dom.code_blocks} code blocks but no copy button")
            for err in dom.errors:
                failures.append(f"{rel}: .katex-error: {err}")
            for raw in dom.raw[:5]:
                failures.append(f"{rel}: raw math delimiter left in text: {raw!r}")
            print(f"  {rel}: {dom.math_rendered}/{dom.math} math elements rendered, "
                  f"{len(dom.errors)} KaTeX errors, {dom.copy_buttons}/{dom.code_blocks} code "
                  f"blocks with a copy button")
            if args.screenshot_dir and has_math:
                png = args.screenshot_dir / (rel.replace("/", "_").replace(".html", ".png"))
                run_chromium(cmd + [f"--screenshot={png}", url])
    missing: dict[str, int] = {}
    for path, status in RecordingHandler.log[n_request_before:]:
        if status == 404:
            missing[path] = missing.get(path, 0) + 1
    for path, count in sorted(missing.items()):
        failures.append(f"the browser requested {path} ({count}x) -> HTTP 404")
    server.shutdown()
    t_total = time.perf_counter() - t0

    for note in notes:
        print(f"check_site: {note}")
    print(f"check_site: {len(pages)} pages, {len(css_files)} stylesheets, "
          f"{len(to_check)} site-local references checked in {t_crawl:.1f} s; "
          f"{len(math_pages) + len(code_pages)} pages opened in Chromium, "
          f"{len(math_pages)} with math, {total_katex}/{total_math} math elements "
          f"rendered by KaTeX with the network cut ({t_total:.1f} s in all)")
    if failures:
        print(f"check_site: FAILED, {len(failures)} problems:")
        for f in failures:
            print(f"  - {f}")
        return 1
    if not math_pages:
        print("check_site: FAILED, no page contains math, so KaTeX was not checked")
        return 1
    print("check_site: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
