"""The pages as a real browser shows and prints them (headless Chromium, DevTools protocol).

One English and one Chinese report (the Chinese one over the full baseline horizon, so its
year tables are as wide as an office's), a comparison and a sweep are written once; then
Chromium opens every page and says which font draws each Chinese text node, whether any
network request was made, and prints the PDF that ``qzfp run`` writes.  The tests skip only
when Chromium (or ``pdftotext``) is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from chinese import english_words

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
    zh = _scenario(tmp, "zh", "baseline_zh", "")  # the full horizon: 16 year columns
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QZFP_PDF", "1")
        assert main(["run", str(en), str(zh), "--out", str(out), "--quiet", "--jobs", "2"]) == 0
    assert main(["compare", str(en), str(_scenario(tmp, "en100", "allowance_100", "horizon: 2\n")),
                 "--out", str(out)]) == 0
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
              out / "plan-zh-2012" / "index.html"]
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
    assert len(measured) == 2 * 14  # top index; 2 x (index + 4 pages); compare; sweep; plan
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


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
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
    for year, v in by_year.items():
        assert f"{round(v):,}" in text, year


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
    return {p.name for p in out.iterdir()} | {"zh", "en"}


def test_every_word_of_the_chinese_workbook_is_chinese_or_allowed(site):
    # Every text cell of every sheet: sheet names, headers, line names, units, descriptions
    # and the references of the line items and of the assumptions (rule paths are codes).
    from openpyxl import load_workbook

    _, out, _ = site
    wb = load_workbook(out / "zh" / "budget.xlsx")
    codes = _codes(out)
    found, references = [], 0
    for ws in wb.worksheets:
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
    for folder in ("compare-en-en100", "sweep-zh", "plan-zh-2012"):
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
