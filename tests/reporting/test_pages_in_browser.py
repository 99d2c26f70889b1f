"""The pages as a real browser shows and prints them (headless Chromium, DevTools protocol).

One English and one Chinese report (the Chinese one over the full baseline horizon, so its
year tables are as wide as an office's), a comparison and a sweep are written once; then
Chromium opens every page and says which font draws each Chinese text node, whether any
network request was made, and prints the PDF that ``qzfp run`` writes.  The tests skip only
when Chromium (or ``pdftotext``) is not installed.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from chinese import english_words, nested_quotes

from qzfp.cli import main
from qzfp.i18n import budget_line_label
from qzfp.model.run import simulate
from qzfp.reporting.pdf import chromium_path
from qzfp.reporting.run import REPORT_NOTEBOOKS
from qzfp.rules.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]
PARAMS = REPO / "params"

needs_chromium = pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed")
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
                                     reason="poppler-utils (pdftotext, pdfinfo) not installed")


def _scenario(tmp: Path, name: str, parent: str, extra: str) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(f"extends: {PARAMS / (parent + '.yaml')}\nscenario_name: {name}\nmc_paths: 10\n{extra}",
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Reports written by the real commands, with the PDF on."""
    tmp = tmp_path_factory.mktemp("site")
    out = tmp / "reports"
    en = _scenario(tmp, "en", "baseline", "horizon: 2\n")
    # the full horizon (16 year columns); the baseline read in Chinese, as `qzfp run
    # params/baseline.yaml --lang zh` reads it: English title and description beside the Chinese ones
    zh = _scenario(tmp, "zh", "baseline", "lang: zh\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QZFP_PDF", "1")
        assert main(["run", str(en), str(zh), "--out", str(out), "--quiet", "--jobs", "2"]) == 0
    en100 = _scenario(tmp, "en100", "allowance_100", "horizon: 2\n")
    assert main(["compare", str(en), str(en100), "--out", str(out)]) == 0
    assert main(["compare", str(en), str(en100), str(_scenario(tmp, "en300", "threshold_300", "horizon: 2\n")),
                 str(_scenario(tmp, "entwp", "township_by_population", "horizon: 2\n")),
                 "--out", str(out), "--name", "compare-wide"]) == 0
    assert main(["sweep", str(zh), "--set", "village.vice_president.allowance=60,100",
                 "--set", "village.vice_president.population_threshold=300,500", "--out", str(out)]) == 0
    assert main(["plan", str(zh), "--year", "2012", "--ceiling", "100%", "--quiet", "--out", str(out),
                 "--vary", "village.vice_president.allowance=40,60,100",
                 "--vary", "village.vice_president.population_threshold=300,500,700"]) == 0
    return tmp, out, {"en": en, "zh": zh}


def _pages(out: Path) -> list[Path]:
    pages = [out / "index.html"]
    for name in ("en", "zh"):
        pages += [out / name / "index.html"] + [out / name / f"{nb}.html" for nb in REPORT_NOTEBOOKS]
    pages += [out / "compare-en-en100" / "index.html", out / "sweep-zh" / "index.html",
              out / "plan-zh-2012" / "index.html", out / "compare-wide" / "index.html"]
    return pages


@pytest.fixture(scope="module")
def measured(site):
    """For every page, on screen and as printed: (Chinese characters of the rendered text
    nodes, glyphs the shipped font drew for them, fonts other than the shipped one that drew
    nodes of Chinese only, network requests)."""
    from browser import Browser

    if chromium_path() is None:
        pytest.skip("Chromium not installed")
    _, out, _ = site
    result = {}
    with Browser() as b:
        for media in ("screen", "print"):
            b.call("Emulation.setEmulatedMedia", session=True, media=media)
            for page in _pages(out):
                b.open(page)
                nodes = b.chinese_fonts()
                n_cjk = sum(n.chars for n in nodes)
                shipped = sum(n.shipped_glyphs for n in nodes)
                others = set().union(*(n.other_fonts for n in nodes))
                requests = [u for u in b.requests() if not u.startswith(("file:", "data:"))]
                result[(media, page.relative_to(out).as_posix())] = (n_cjk, shipped, others, requests)
    return result


@needs_chromium
def test_every_page_draws_its_chinese_text_with_the_shipped_font(measured):
    # Every page has Chinese text (the English pages quote document numbers such as
    # 衢委办[2006]101号); each Chinese character is one glyph of the shipped font.
    assert len(measured) == 2 * 15  # top index; 2 x (index + 4 pages); 2 compares; sweep; plan
    for page, (n_cjk, shipped, others, _) in measured.items():
        assert n_cjk > 0, page
        assert shipped >= n_cjk, (page, n_cjk, shipped)
        assert not others, (page, others)


@needs_chromium
def test_no_page_makes_a_network_request(measured):
    for page, (*_, requests) in measured.items():
        assert requests == [], page


@needs_chromium
def test_the_pages_name_their_language_zh_cn_or_en(site):
    from browser import Browser

    _, out, _ = site
    with Browser() as b:
        b.open(out / "zh" / "03_budget.html")
        assert b.evaluate("document.documentElement.lang") == "zh-CN"
        b.open(out / "en" / "03_budget.html")
        assert b.evaluate("document.documentElement.lang") == "en"


def _pdf_text(pdf: Path, page: int | None = None) -> str:
    """The text of the PDF (or of one of its pages, from 1), laid out as printed."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", *pages, "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True, timeout=120).stdout


@needs_chromium
@needs_pdftotext
def test_the_pdf_has_every_year_and_every_budget_line_on_a4_pages(site):
    tmp, out, files = site
    pdf = out / "zh" / "report.pdf"
    text = _pdf_text(pdf)
    results = simulate(load_scenario(files["zh"]))
    years = [int(y) for y in results.years]
    assert years == list(range(2006, 2022))  # baseline: 2006 + 15 years
    for y in years:
        assert str(y) in text, y
    for line in results.budget["line"].unique():
        label = budget_line_label(line, "zh")
        assert re.sub(r"\s", "", label) in re.sub(r"\s", "", text), label
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "10000", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert len(sizes) > len(REPORT_NOTEBOOKS)
    for w, h in sizes:  # A4 = 595.28 x 841.89 pt
        assert float(w) <= 595.5 and float(h) <= 842.2


@needs_chromium
@needs_pdftotext
def test_the_pdf_has_a_contents_page_and_a_footer_with_scenario_and_page_number(site):
    _, out, _ = site
    pdf = out / "en" / "report.pdf"
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"], check=True,
                           capture_output=True, text=True).stdout
    assert "Contents" in first
    n = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                        text=True).stdout).group(1))
    assert f"page 1 / {n}" in first and "· en" in first
    last = subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert f"page {n} / {n}" in last


@needs_chromium
@needs_pdftotext
def test_a_wide_year_table_prints_whole_in_blocks_of_years(site):
    # The county table of the population page has 16 year columns: on paper every
    # county figure of every year is there, none cut at the right edge.
    _, out, files = site
    results = simulate(load_scenario(files["zh"]))
    pop = results.population_counties
    text = re.sub(r"\s", "", _pdf_text(out / "zh" / "report.pdf"))
    first = pop[pop["county_code"] == pop["county_code"].iloc[0]]
    by_year = first.groupby("year")["population"].sum()
    assert len(by_year) == 16
    for year, v in by_year.items():  # whole persons: rounded down or up so the counties add up to the city
        assert f"{math.floor(v):,}" in text or f"{math.ceil(v):,}" in text, year


def test_without_chromium_the_report_says_so_in_one_line_and_keeps_the_rest(tmp_path, monkeypatch, capsys):
    from qzfp.reporting import pages

    monkeypatch.setenv("QZFP_PDF", "1")
    monkeypatch.setenv("QZFP_CHROMIUM", str(tmp_path / "no-such-chromium"))
    (tmp_path / "p.html").write_text("<html><head></head><body>x</body></html>", encoding="utf-8")
    run = {"lang": "en", "title": "T", "scenario_name": "s", "pages": [{"file": "p.html", "title": "P"}],
           "key_figures": [], "finished": "2026-01-01T00:00:00+00:00"}
    pages.write_pdf(run, tmp_path)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "report.pdf not written" in err and "apt-get install chromium" in err
    assert "Traceback" not in err
    assert not (tmp_path / "report.pdf").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.html"]


def test_qzfp_pdf_0_skips_the_pdf(tmp_path, monkeypatch, capsys):
    from qzfp.reporting import pages

    monkeypatch.setenv("QZFP_PDF", "0")
    pages.write_pdf({"pages": []}, tmp_path)
    assert capsys.readouterr().err == "" and list(tmp_path.iterdir()) == []


def test_compare_and_sweep_folders_have_the_usual_permissions(site):
    _, out, _ = site
    umask = os.umask(0o022)
    os.umask(umask)
    for name in ("compare-en-en100", "sweep-zh", "plan-zh-2012"):
        assert (out / name).stat().st_mode & 0o777 == 0o777 & ~umask
        assert (out / name / "index.html").stat().st_mode & 0o777 == 0o666 & ~umask


# --------------------------------------------------------------------------- a Chinese report in Chinese
def _page_text(path: Path, *, skip_rule_rows: bool) -> str:
    import html as _html

    t = path.read_text(encoding="utf-8")
    t = re.sub(r"<(style|script)\b.*?</\1>", " ", t, flags=re.S | re.I)
    t = re.sub(r"<img\b[^>]*>", " ", t)
    t = re.sub(r"<code>.*?</code>", " ", t, flags=re.S)  # codes: scenario names, hashes
    if skip_rule_rows:  # rows of the parameter tables (they name a dotted rule path)
        t = re.sub(r"<tr>(?:(?!</tr>).)*?[a-z_]+\.[a-z_]+(?:(?!</tr>).)*</tr>", " ", t, flags=re.S)
    return _html.unescape(re.sub(r"<[^>]+>", "\n", t))


def _codes(out: Path) -> set[str]:
    """The codes a Chinese page may show: its folders and files, the languages, the rule
    paths (and their groups: ``demography.fertility``) of the rulebook's tables and the keys
    and names of the scenario files (``census_check``, ``allowance_100``)."""
    from qzfp.rules import load_rulebook, load_scenario

    paths = load_rulebook().paths()
    groups = {".".join(p.split(".")[:i]) for p in paths for i in range(2, p.count(".") + 1)}
    scenarios = [load_scenario(f) for f in sorted((REPO / "params").glob("*.yaml"))]
    keys = {k for sc in scenarios for k in sc.params} | {sc.name for sc in scenarios}  # and their names
    return {p.name for p in out.iterdir()} | {"zh", "en"} | set(paths) | groups | keys


def test_every_word_of_the_chinese_workbooks_is_chinese_or_allowed(site):
    # Every text cell of every sheet: sheet names, headers, line names, units, descriptions
    # and the references of the line items and of the assumptions (rule paths are codes);
    # the budget workbook and those of the Chinese sweep and plan.
    from openpyxl import load_workbook

    _, out, _ = site
    codes = _codes(out)
    found, references = [], 0
    sheets = [ws for path in (out / "zh" / "budget.xlsx", out / "sweep-zh" / "sweep-zh.xlsx",
                              out / "plan-zh-2012" / "plan-zh-2012.xlsx") for ws in load_workbook(path).worksheets]
    for ws in sheets:
        found += english_words(ws.title, codes)
        header = [str(c.value or "") for c in ws[1]]
        for row in ws.iter_rows(values_only=True):
            for h, v in zip(header, row, strict=False):
                if isinstance(v, str) and not v.startswith("="):
                    found += english_words(v, codes)
                    references += h == "依据" and v.startswith("假设：")
    assert found == []
    assert references > 100  # the assumptions' reasons are there, in Chinese


def test_the_chinese_pages_outside_the_rulebook_tables_have_no_english_word(site):
    _, out, _ = site
    codes = _codes(out) | {p.stem for p in (out / "zh").rglob("*")}
    for name in ("index.html", "02_staffing_workload.html", "03_budget.html"):
        words = english_words(_page_text(out / "zh" / name, skip_rule_rows=True), codes)
        assert words == [], (name, sorted(set(words))[:20])
    plan = out / "plan-zh-2012"  # the plan page: headline table, chart, file names
    words = english_words(_page_text(plan / "index.html", skip_rule_rows=False),
                          codes | {p.stem for p in plan.rglob("*")} | {"yaml"})
    assert words == [], sorted(set(words))


def test_every_word_of_every_chinese_page_is_chinese_or_allowed(site):
    # The parameter and budget tables included: descriptions, units, values and references
    # (the rulebook's reference_zh), and the titles of the compared scenarios (title_zh).
    _, out, _ = site
    codes = _codes(out) | {p.stem for p in (out / "zh").rglob("*")}
    for page in sorted((out / "zh").glob("*.html")):
        assert english_words(_page_text(page, skip_rule_rows=False), codes) == [], page.name


# --------------------------------------------------------------------------- navigation and time
def _links(page: Path) -> set[str]:
    """The targets of the navigation bar of ``page``."""
    nav = re.findall(r'<nav class="qzfp-nav">(.*?)</nav>', page.read_text(encoding="utf-8"), re.S)[0]
    return set(re.findall(r'href="([^"]*)"', nav))


def test_every_page_links_to_its_siblings_and_to_the_index(site):
    _, out, _ = site
    for name in ("en", "zh"):
        pages = [f"{nb}.html" for nb in REPORT_NOTEBOOKS]
        for page in ["index.html", *pages]:
            links = _links(out / name / page)
            expected = {"../index.html", "index.html", *pages} - {page}
            assert links == expected, (name, page)
            assert (out / name / page).read_text(encoding="utf-8").count('<nav class="qzfp-nav">') == 1
    for folder in ("compare-en-en100", "sweep-zh", "plan-zh-2012", "compare-wide"):
        assert _links(out / folder / "index.html") == {"../index.html"}


def test_generated_times_are_local_with_their_zone(site):
    import datetime as dt

    _, out, _ = site
    offset = dt.datetime.now().astimezone().strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}"
    for page in (out / "index.html", out / "zh" / "index.html", out / "sweep-zh" / "index.html"):
        text = page.read_text(encoding="utf-8")
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d ", text), page
        assert zone in text or dt.datetime.now().astimezone().tzname() in text, page
        assert not re.search(r"\d\d:\d\d:\d\d\+\d\d:\d\d", text), page  # no raw ISO timestamp



# --------------------------------------------------------------------------- pages that fit a 1280-px screen
#: The widest screen a report page may need [CSS px].
SCREEN_PX = 1280


@pytest.fixture(scope="module")
def layout(site):
    """For every page at 1280 × 800: its width, and for every box whose table scrolls sideways,
    where its first and last cells are (left of the box, right of the box) with the table
    scrolled to the start and to the end, and the width of its first column in em."""
    from browser import Browser

    if chromium_path() is None:
        pytest.skip("Chromium not installed")
    _, out, _ = site
    probe = """(() => {
      const boxes = [...document.querySelectorAll('.qzfp-wide')].filter(b => b.scrollWidth > b.clientWidth + 1
                       && b.getClientRects().length);
      const seen = (b) => { const r = b.getBoundingClientRect(); const rows = [...b.querySelectorAll('tr')];
        return rows.map(tr => { const c = tr.cells, f = c[0].getBoundingClientRect(), l = c[c.length - 1].getBoundingClientRect();
          return [f.left >= r.left - 1 && f.right <= r.right + 1, l.left >= r.left - 1 && l.right <= r.right + 1]; }); };
      return boxes.map(b => { b.scrollLeft = 0; const start = seen(b); b.scrollLeft = b.scrollWidth; const end = seen(b);
        const th = b.querySelector('tr').cells[0];
        return {start, end, first_em: th.getBoundingClientRect().width / parseFloat(getComputedStyle(th).fontSize)}; });
    })()"""
    result = {}
    with Browser(SCREEN_PX, 800) as b:
        for page in _pages(out):
            b.open(page)
            result[page.relative_to(out).as_posix()] = (b.evaluate("document.documentElement.scrollWidth"),
                                                       b.evaluate(probe))
    return result


@needs_chromium
def test_every_report_page_fits_a_1280_px_screen_without_scrolling_sideways(layout):
    assert len(layout) == 15
    too_wide = {page: width for page, (width, _) in layout.items() if width > SCREEN_PX}
    assert too_wide == {}


@needs_chromium
def test_a_wide_year_table_scrolls_in_its_box_with_the_names_and_the_total_always_in_view(layout):
    # the Chinese report has 16 year columns: its budget and population tables scroll
    boxes = layout["zh/03_budget.html"][1] + layout["zh/01_population.html"][1]
    assert len(boxes) >= 3
    for box in boxes:
        for when in ("start", "end"):
            assert all(first and last for first, last in box[when]), when  # names and totals in view
        assert box["first_em"] >= 8  # budget item names get a column, not three characters a line


@needs_chromium
def test_the_compare_page_names_the_scenarios_by_their_titles(site):
    _, out, files = site
    page = (out / "compare-wide" / "index.html").read_text(encoding="utf-8")
    headers = re.findall(r"<th[^>]*>(.*?)</th>", page, re.S)
    for name, parent in (("en", "baseline"), ("en100", "allowance_100"), ("en300", "threshold_300")):
        title = load_scenario(PARAMS / f"{parent}.yaml").title
        assert any(title.replace("'", "&#39;") in h for h in headers), title
        assert not any(h.strip() == name for h in headers)  # not by the code
    alts = re.findall(r'<img src="[^"]+" alt="([^"]*)"', page)
    assert alts and all("(1)" in a for a in alts)


# --------------------------------------------------------------------------- report.pdf


def _fonts(pdf: Path) -> list[list[str]]:
    text = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    return [ln.split() for ln in text.splitlines()[2:] if ln.strip()]


@needs_chromium
@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils not installed")
def test_the_pdf_embeds_the_chinese_font_once_as_a_subset_truetype_font_and_no_type_3_font(site):
    _, out, _ = site
    rows = _fonts(out / "zh" / "report.pdf")
    assert not [r for r in rows if "Type" in r and "3" in r[r.index("Type") + 1:r.index("Type") + 2]], rows
    cjk = [r for r in rows if r[0].split("+")[-1] == "NotoSansCJKSCqzfp-Regular"]
    assert len(cjk) == 1 and cjk[0][1:3] == ["CID", "TrueType"]
    assert cjk[0][-5:-2] == ["yes", "yes", "yes"]  # embedded, subset, with a unicode map


def _outline(pdf: Path) -> list[tuple[int, str, int]]:
    """(level, title, page from 1) of every bookmark."""
    from qzfp.reporting.pdf import outline

    return outline(pdf)


@needs_chromium
@needs_pdftotext
def test_the_pdf_has_a_bookmark_for_every_page_and_section_at_the_page_where_it_is(site):
    import html as _html

    _, out, _ = site
    pdf = out / "zh" / "report.pdf"
    marks = _outline(pdf)
    for nb in REPORT_NOTEBOOKS:
        text = (out / "zh" / f"{nb}.html").read_text(encoding="utf-8")
        h1 = _html.unescape(re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", text, re.S).group(1)))
        sections = [_html.unescape(re.sub(r"<[^>]+>", "", m)).replace("¶", "").strip()
                    for m in re.findall(r"<h2[^>]*>(.*?)</h2>", text, re.S)]
        top = [m for m in marks if m[0] == 0 and m[1] == h1.replace("¶", "").strip()]
        assert len(top) == 1, h1
        at = marks.index(top[0])
        below = [m for m in marks[at + 1:at + 1 + len(sections)] if m[0] == 1]
        assert [m[1] for m in below] == sections, nb
        for _level, title, page in [top[0], *below]:
            assert re.sub(r"\s", "", title) in re.sub(r"\s", "", _pdf_text(pdf, page)), (title, page)


@needs_chromium
@needs_pdftotext
def test_the_contents_page_gives_every_page_and_section_its_page_number(site):
    _, out, _ = site
    pdf = out / "zh" / "report.pdf"
    contents = [ln.strip() for ln in _pdf_text(pdf, 1).splitlines() if ln.strip()]
    numbered = [(re.sub(r"\s", "", m.group(1)), int(m.group(2))) for m in
                (re.match(r"^(?:\d+\.\s+)?(.+?)\s{2,}(\d+)$", ln) for ln in contents) if m]
    marks = [(re.sub(r"\s", "", title), page) for _, title, page in _outline(pdf) if page > 1]
    assert len(marks) > len(REPORT_NOTEBOOKS)
    assert numbered == marks  # every page and section, in order, at the page its bookmark goes to


@needs_chromium
@needs_pdftotext
def test_no_heading_is_left_alone_at_the_foot_of_a_page(site):
    _, out, _ = site
    pdf = out / "zh" / "report.pdf"
    headings = {re.sub(r"\s", "", title) for _, title, _ in _outline(pdf)}
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    for n, page in enumerate(re.findall(r"<page (.*?)</page>", xml, re.S), start=1):
        height = float(re.search(r'height="([\d.]+)"', page).group(1))
        lines = [(float(y1), float(y2), re.sub(r"<[^>]+>|\s", "", body))
                 for y1, y2, body in re.findall(r'<line xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">'
                                                r"(.*?)</line>", page, re.S)]
        body = [ln for ln in lines if ln[1] < height - 16 / 25.4 * 72]  # above the footer's margin
        if not body or n == 1:
            continue
        last = max(body, key=lambda ln: ln[1])
        # a heading with nothing below it in the lower fifth of the page: left alone at the foot
        assert not (last[2] in headings and last[0] > 0.8 * height), (n, last[2])


@needs_chromium
@needs_pdftotext
def test_no_chinese_page_or_pdf_shows_the_english_description_or_a_developer_file(site):
    from openpyxl import load_workbook

    _, out, files = site
    scenario = load_scenario(files["zh"])
    english, chinese = scenario.description_in("en"), scenario.description_in("zh")
    assert english and chinese and english != chinese
    texts = {p.name: _page_text(p, skip_rule_rows=False) for p in (out / "zh").glob("*.html")}
    texts["report.pdf"] = re.sub(r"\s", "", _pdf_text(out / "zh" / "report.pdf"))
    wb = load_workbook(out / "zh" / "budget.xlsx")
    texts["budget.xlsx"] = "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                                     for v in row if isinstance(v, str))
    developer = re.compile(r"SOURCES\.md|docs/|tests/|qzfp/|qzfp\.[a-z]|\.py\b")
    for name, text in texts.items():
        flat = re.sub(r"\s", "", text)
        assert re.sub(r"\s", "", english)[:40] not in flat, name
        assert not developer.search(text), (name, developer.search(text))
        assert nested_quotes(text) == [], name
    for name in ("01_population.html", "index.html", "report.pdf"):
        assert re.sub(r"\s", "", chinese) in re.sub(r"\s", "", texts[name]), name


def test_a_year_is_written_without_a_thousands_separator(site):
    _, out, _ = site
    text = _page_text(out / "zh" / "03_budget.html", skip_rule_rows=False)
    row = re.search(r"模型中县、乡镇计生协第一次换届的年份\s+年\s+\S+\s+(\S+)", text)
    assert row and row.group(1) == "2007", row and row.group(0)
