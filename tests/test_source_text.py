r"""Source files hold no control characters.

A docstring written through a non-raw string turns ``\frac``, ``\big``, ``\arg`` and ``\times``
into form feed, backspace, bell and tab, which KaTeX then shows as errors on the site; this test
finds them in the source before any build.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTROL = {chr(c) for c in range(32)} - {"\n", "\r"}
FILES = sorted(p for folder in ("reference", "gallery", "docs", "tests", "hooks", "benchmarks")
               for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".md"}
               and "generated" not in p.parts)


def control_characters(text: str) -> list[tuple[int, str]]:
    """(line number, repr of the character) for every control character but newlines."""
    return [(n, repr(ch)) for n, line in enumerate(text.split("\n"), 1)
            for ch in line if ch in CONTROL]


def test_the_check_finds_a_planted_form_feed():
    assert control_characters("ok\n$$ -\frac{1}{2} $$\n") == [(2, repr("\f"))]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_control_characters(path):
    found = control_characters(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)}: control characters at (line, char) {found[:5]}"
