"""The site check's text rules (.ci/check_site.py, step 5), on planted HTML: no browser needed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def check_site():
    spec = importlib.util.spec_from_file_location("check_site", ROOT / ".ci" / "check_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page(body: str) -> str:
    return f"<html><head><title>t</title></head><body><article>{body}</article></body></html>"


CLEAN = _page('<p>See <a href="../reference/#reference.mixture_gradients.cdf"><code>cdf</code>'
              '</a> and the <a href="https://github.com/org/repo/issues/4">tracker</a>.</p>'
              '<p>This tissue 4 is fine, and so are 3 issues.</p>')


def test_a_clean_page_passes(check_site):
    assert check_site.text_problems(CLEAN) == []


@pytest.mark.parametrize("role", ["func", "class", "meth", "data", "mod"])
def test_a_planted_raw_role_fails(check_site, role):
    html = _page(f"<p>Uses :{role}:<code>reference.mixture_gradients.cdf</code> here.</p>")
    problems = check_site.text_problems(html)
    assert len(problems) == 1 and "raw Sphinx role" in problems[0]
    assert f":{role}:" in problems[0]


def test_a_role_documented_inside_code_is_allowed(check_site):
    html = _page("<p>Do not write <code>:func:`name`</code>; write a cross-reference.</p>")
    assert check_site.text_problems(html) == []


@pytest.mark.parametrize("text", ["issue 4", "Issue 4", "ISSUE #12", "issues 3 and 5",
                                  "as in issue\n 4"])
def test_a_planted_issue_number_fails(check_site, text):
    problems = check_site.text_problems(_page(f"<p>Measured for {text}.</p>"))
    assert len(problems) == 1 and "internal issue number" in problems[0]


def test_an_issue_number_in_code_fails_but_not_in_a_url(check_site):
    in_code = _page("<pre><code># the fix from issue 4\nx = 1</code></pre>")
    assert len(check_site.text_problems(in_code)) == 1
    in_url = _page('<a href="https://example.org/issue/4" title="issue 4">the tracker</a>')
    assert check_site.text_problems(in_url) == []


def test_papers_md_fails(check_site):
    problems = check_site.text_problems(_page("<p>As the brief in PAPERS.md asks.</p>"))
    assert len(problems) == 1 and "PAPERS.md" in problems[0]


def test_script_and_style_are_not_text(check_site):
    html = _page("<script>var issue = 'issue 4';</script><style>/* :func: */</style><p>ok</p>")
    assert check_site.text_problems(html) == []
