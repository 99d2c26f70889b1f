"""Report pages are safe to open whatever Markdown or HTML a scenario's texts carry."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nbformat
import pytest

from qzfp.reporting.convert import notebook_to_html
from qzfp.reporting.safehtml import is_safe_url, sanitize_html
from qzfp.reporting.workbook import is_qzfp_formula

#: Markdown a careless or hostile planner might put into a scenario's description.
HOSTILE_MARKDOWN = "\n\n".join([
    "[js](javascript:alert(1))",
    "[JS upper](JaVaScRiPt:alert(2))",
    "[js tab](java\tscript:alert(3))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==)",
    "[vb](vbscript:msgbox(5))",
    "[file](file:///etc/passwd)",
    '<a href="&#106;avascript:alert(6)" onclick="alert(7)">entity</a>',
    "<script>alert(8)</script>",
    '<img src="x" onerror="alert(9)">',
    '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
    '<iframe src="https://example.org"></iframe>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(10)">',
    '<svg><a xlink:href="javascript:alert(11)"><text>svg</text></a></svg>',
    '<form action="javascript:alert(12)"><button formaction="javascript:alert(13)">b</button></form>',
    "NUL\x00here and bell\x07 and C1\x85",
    "[ok http](http://example.org/a) [ok https](https://example.org/b) [ok relative](data/villages.csv) "
    "[ok fragment](#top)",
])
SAFE_HREFS = {"http://example.org/a", "https://example.org/b", "data/villages.csv", "#top"}


class _Collect(HTMLParser):
    """Every tag and attribute of a page, as a browser's parser sees them."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def _tags(page: str) -> list[tuple[str, dict]]:
    p = _Collect()
    p.feed(page)
    p.close()
    return p.tags


def _assert_safe(page: str) -> None:
    assert not any(ord(ch) < 32 and ch not in "\t\n\r" or 0x7F <= ord(ch) <= 0x9F for ch in page)
    for tag, attrs in _tags(page):
        assert tag not in {"script", "iframe", "object", "embed", "base"}, tag
        assert not (tag == "meta" and "http-equiv" in attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in {"href", "src", "action", "formaction", "xlink:href"}:
                v = "".join((value or "").split()).lower()
                scheme = v.split(":", 1)[0] if ":" in v.split("/", 1)[0] else ""
                image = tag == "img" and name == "src" and v.startswith("data:image/png;base64,")
                assert scheme in {"", "http", "https"} or image, (tag, name, value)


def _page_with_markdown(text: str) -> str:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("md(description)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": text, "text/plain": "x"})]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title\n\n" + text), cell]
    return notebook_to_html(nb, "Title\x00")


def test_a_notebook_page_keeps_only_http_https_and_relative_links_from_a_users_markdown():
    page = _page_with_markdown(HOSTILE_MARKDOWN)
    _assert_safe(page)
    hrefs = {a["href"] for tag, a in _tags(page) if tag == "a" and "href" in a}
    assert SAFE_HREFS <= hrefs
    for text in ("js", "data", "entity", "svg"):  # the links' texts stay, only the target goes
        assert f">{text}<" in page


def test_a_notebook_page_keeps_its_embedded_chart_images():
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("chart")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "x"})]
    nb.cells = [cell]
    page = notebook_to_html(nb, "charts")
    assert any(tag == "img" and a.get("src") == f"data:image/png;base64,{png}" for tag, a in _tags(page))


@pytest.mark.parametrize("url, safe", [
    ("https://example.org", True), ("HTTP://example.org", True), ("villages.csv", True),
    ("../x.html#a", True), ("#top", True), ("?q=1", True),
    ("javascript:alert(1)", False), (" javascript:alert(1)", False), ("jav\nascript:x", False),
    ("data:text/html,x", False), ("vbscript:x", False), ("file:///etc/passwd", False),
    ("mailto:a@b.c", False),
])
def test_only_http_https_and_relative_urls_are_safe_links(url, safe):
    assert is_safe_url(url) is safe


def test_embedded_raster_images_are_safe_only_as_an_image_source():
    url = "data:image/png;base64,AAAA"
    assert is_safe_url(url, image=True) and not is_safe_url(url)
    assert not is_safe_url("data:image/svg+xml;base64,AAAA", image=True)


def test_a_page_without_unsafe_content_is_kept_byte_for_byte():
    page = ('<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><style>a{color:red}</style>'
            '</head><body><h1 id="t">衢州 &amp; <b>x</b></h1><!-- c --><a href="data/x.csv">x</a>'
            '<img alt="chart" src="data:image/png;base64,AAAA"><br/></body></html>')
    assert sanitize_html(page) == page


def test_a_dropped_element_takes_its_content_with_it():
    assert sanitize_html("a<script>document.write('<p>x</p>')</script>b<iframe><p>y</p></iframe>c") == "abc"


def test_a_run_with_a_hostile_description_and_reference_writes_no_live_link_and_no_formula(tmp_path):
    """End to end: what a hostile scenario file puts into ``qzfp run``'s pages and workbook."""
    import os
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    from openpyxl import load_workbook

    repo = Path(__file__).resolve().parents[2]
    scenario = tmp_path / "hostile.yaml"
    scenario.write_text(
        f"extends: {repo / 'params' / 'baseline.yaml'}\nscenario_name: hostile\nhorizon: 1\nmc_paths: 5\n"
        "title: 'T [t](javascript:alert(0))'\n"
        "description: \"[x](javascript:alert(1)) [d](data:text/html,hi) <script>alert(2)</script> "
        "<img src=x onerror=alert(3)> [ok](https://example.org/)\"\n"
        "overrides:\n  village.vice_president.allowance:\n    value: 70\n"
        "    reference: '=HYPERLINK(\"http://evil\",\"click\")'\n", encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "qzfp", "run", str(scenario), "--out", str(out), "--quiet"],
                          cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    pages = sorted((out / "hostile").glob("*.html")) + [out / "index.html"]
    assert len(pages) == 6
    for page in pages:
        text = page.read_text(encoding="utf-8")
        _assert_safe(text)
    first = (out / "hostile" / "01_population.html").read_text(encoding="utf-8")
    assert 'href="https://example.org/"' in first and ">x<" in first  # the text stays, the link goes
    book = out / "hostile" / "budget.xlsx"
    with zipfile.ZipFile(book) as z:
        formulas = [f for n in z.namelist() if n.startswith("xl/worksheets/")
                    for f in re.findall(r"<f>([^<]*)</f>", z.read(n).decode())]
    assert formulas and all(is_qzfp_formula(f) for f in formulas)  # only the workbook's own
    values = {c.value for ws in load_workbook(book).worksheets for row in ws.iter_rows() for c in row}
    assert any(isinstance(v, str) and v.startswith('=HYPERLINK("http://evil"') for v in values)
