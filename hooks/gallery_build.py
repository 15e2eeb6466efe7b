"""MkDocs hook: a gallery build that is pinned, says where it is, and follows the Papers nav.

mkdocs-gallery executes every example in the build process itself. This hook

- **pins BLAS to one thread** while the examples run: the environment variables
  (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``; inherited by any worker
  process an example starts) are set when the hook loads, before an example imports numpy, and
  each example runs inside ``threadpoolctl.threadpool_limits``, which also works when numpy was
  imported earlier. Set ``BUILD_BLAS_THREADS=N`` to allow N threads instead;
- **prints each example's name when it starts** and its wall and CPU time (this process and its
  worker processes) when it ends, and notes the examples that are reused from the cache
  (unchanged since the last build, so not run again);
- **writes those times** to ``build/gallery_times.json`` (or the path in ``GALLERY_TIMES``), a
  list of ``{"example", "status", "wall_s", "cpu_s"}`` rewritten after every example, so a build
  that is stopped half way still leaves what it did; ``.ci/run`` prints the five slowest;
- **orders the gallery's sections like the Papers nav**: mkdocs-gallery 0.10.4 sorts the
  sub-folders alphabetically and its ``subsection_order`` option cannot be given a list from
  ``mkdocs.yml`` (and recurses when set), so the hook replaces the sort with the nav's order of
  ``<paper>.md`` pages (``gallery/<paper>/``); folders with no paper page come last.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import time
from pathlib import Path

LOG = logging.getLogger("mkdocs.hooks.gallery_build")
ROOT = Path(__file__).resolve().parents[1]
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def blas_threads() -> int:
    """The BLAS thread count for the build: ``BUILD_BLAS_THREADS``, default 1."""
    value = os.environ.get("BUILD_BLAS_THREADS", "1")
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"BUILD_BLAS_THREADS must be a positive integer, got {value!r}")
    if n < 1:
        raise ValueError(f"BUILD_BLAS_THREADS must be a positive integer, got {value!r}")
    return n


def pin_environment() -> int:
    """Set the BLAS thread variables for this process and its children; returns the count."""
    n = blas_threads()
    for var in THREAD_VARS:
        os.environ[var] = str(n)
    return n


# Before anything in the build imports numpy (the examples are executed later, in on_pre_build).
pin_environment()


def times_path() -> Path:
    return Path(os.environ.get("GALLERY_TIMES") or ROOT / "build" / "gallery_times.json")


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class Recorder:
    """The per-example timing records of one build, kept in memory and on disk."""

    def __init__(self, path: Path):
        self.path = path
        self.records: list[dict] = []
        self.ran: set[str] = set()
        self.total: int | None = None  # examples to execute in this build, when known

    def progress(self) -> str:
        done = sum(r["status"] in ("ran", "failed") for r in self.records) + 1
        return f" ({done}/{self.total})" if self.total else ""

    def add(self, example: str, status: str, wall: float | None, cpu: float | None):
        self.records.append({"example": example, "status": status,
                             "wall_s": None if wall is None else round(wall, 2),
                             "cpu_s": None if cpu is None else round(cpu, 2)})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(self.records, indent=1) + "\n")
            os.replace(tmp, self.path)
        except OSError as err:  # never fail a build over the timing file
            LOG.info(f"gallery: cannot write {self.path}: {err}")


def _example_name(script) -> str:
    src = Path(script.src_py_file)
    return f"{src.parent.name}/{src.name}"


def _wrap_execution(gen_single) -> None:
    """Wrap mkdocs-gallery's per-example functions (once per process, however often loaded)."""
    if getattr(gen_single.parse_and_execute, "_timed", False):
        return
    run_example = gen_single.parse_and_execute
    make_page = gen_single.generate_file_md

    # The recorder lives on mkdocs-gallery's module, so that a hook reloaded by `mkdocs serve`
    # (on_config sets a fresh one) and the wrapper installed by the first load share it.
    def parse_and_execute(script, script_blocks):
        from threadpoolctl import threadpool_limits

        name = _example_name(script)
        recorder = gen_single._gallery_build_recorder
        recorder.ran.add(name)
        n = pin_environment()
        LOG.info(f"gallery: start {name}{recorder.progress()} (BLAS threads: {n})")
        wall0, cpu0 = time.perf_counter(), cpu_seconds()
        status = "failed"
        try:
            with threadpool_limits(limits=n):
                result = run_example(script, script_blocks)
            status = "ran"
            return result
        finally:
            wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
            LOG.info(f"gallery: {status} {name} in {wall:.1f} s wall, {cpu:.1f} s CPU")
            recorder.add(name, status, wall, cpu)

    def generate_file_md(script, seen_backrefs=None):
        result = make_page(script, seen_backrefs)
        name = _example_name(script)
        recorder = gen_single._gallery_build_recorder
        if name not in recorder.ran:
            executable = getattr(script, "is_executable_example", lambda: True)()
            if not executable:
                LOG.info(f"gallery: {name} not run (plot_gallery is off, or filename_pattern "
                         f"does not match it)")
                recorder.add(name, "not run", None, None)
            else:
                LOG.info(f"gallery: {name} unchanged since the last build, not run again")
                recorder.add(name, "cached", None, None)
        return result

    parse_and_execute._timed = True
    gen_single.parse_and_execute = parse_and_execute
    gen_single.generate_file_md = generate_file_md


def nav_papers(nav) -> list[str]:
    """The ``<name>`` of every ``<name>.md`` page in the nav, in nav order."""
    found: list[str] = []

    def walk(items):
        for item in items or []:
            values = item.values() if isinstance(item, dict) else [item]
            for value in values:
                if isinstance(value, list):
                    walk(value)
                elif isinstance(value, str) and value.endswith(".md") and "/" not in value:
                    found.append(value[:-3])

    walk(nav)
    return found


def section_sort_key(order: list[str]):
    """Sort key for gallery sub-folders: position in ``order``, then alphabetically."""
    def key(folder) -> tuple[int, str]:
        name = Path(folder).name
        return (order.index(name) if name in order else len(order), name)
    return key


def _order_sections(gen_data_model, order: list[str]) -> None:
    gallery_cls = gen_data_model.Gallery
    gallery_cls._nav_order = list(order)
    if getattr(gallery_cls.populate_subsections, "_nav_ordered", False):
        return

    def populate_subsections(self):
        assert self.subsections is None, "This method can only be called once !"  # noqa
        subfolders = [f for f in self.scripts_dir.iterdir()
                      if f.is_dir() and gen_data_model._has_readme(f)]
        subfolders.sort(key=section_sort_key(type(self)._nav_order))
        self.subsections = tuple(
            gen_data_model.GallerySubSection(self, subpath=f.relative_to(self.scripts_dir))
            for f in subfolders)

    populate_subsections._nav_ordered = True
    gallery_cls.populate_subsections = populate_subsections


def _count_examples(config) -> int | None:
    """How many scripts match the gallery plugin's filename_pattern (None when unknown)."""
    try:
        import re

        plugin = config.plugins["gallery"]
        pattern = re.compile(plugin.config.get("filename_pattern") or r"/plot")
        dirs = plugin.config.get("examples_dirs") or []
        root = Path(config.config_file_path).parent
        scripts = [p for d in dirs for p in (root / d).rglob("*.py")]
        return sum(bool(pattern.search(p.as_posix())) for p in scripts) or None
    except Exception:  # only a progress count: never fail the build over it
        return None


def on_config(config):
    """Reset the timing file, wrap the example runner, and order the sections by the nav."""
    try:
        from mkdocs_gallery import gen_data_model, gen_single
    except ImportError:  # no gallery plugin: nothing to time or order
        return config
    path = times_path()
    if path.exists():
        path.unlink()
    recorder = gen_single._gallery_build_recorder = Recorder(path)
    recorder.total = _count_examples(config)
    _wrap_execution(gen_single)
    _order_sections(gen_data_model, nav_papers(config.nav))
    LOG.info(f"gallery: examples run with {blas_threads()} BLAS thread(s); "
             f"times go to {path}")
    return config
