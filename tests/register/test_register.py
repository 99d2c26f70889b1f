"""Tests of qzfp.register: the packaged example, loading user registers, validation."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from qzfp.errors import RegisterError
from qzfp.register import DATA_DIR, load_register, validate_register_file

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "registers" / "small"
REFERENCE = DATA_DIR / "reference"


def hamilton(total: int, weights: np.ndarray) -> np.ndarray:
    exact = total * weights / weights.sum()
    base = np.floor(exact).astype(np.int64)
    base[np.argsort(-(exact - base), kind="stable")[: total - base.sum()]] += 1
    return base


@pytest.fixture(scope="module")
def reference_counties() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "quzhou_counties.csv", dtype={"county_code": str})


@pytest.fixture(scope="module")
def example() -> dict:
    return {view: load_register(view=view) for view in ("pre2006", "2006", "2022")}


def copy_small(tmp_path: Path) -> Path:
    folder = tmp_path / "reg"
    shutil.copytree(SMALL, folder)
    return folder


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(path: Path) -> list[str]:
    return [str(p) for p in validate_register_file(path)]


FLAT_ZH = (
    "村代码,村名,乡镇代码,乡镇名称,县代码,县名称,户籍人口,流入人口\n"
    "330802100201,东山村,330802100,石梁镇,330802,柯城区,450,5\n"
    "330802100202,西溪村,330802100,石梁镇,330802,柯城区,620,0\n"
    "330802005001,新新社区,330802005,新新街道,330802,柯城区,3200,400\n"
)


# --- the packaged example ----------------------------------------------------------------


def test_example_county_totals_follow_the_documented_2006_derivation(example, reference_counties):
    reg2010 = reference_counties["registered_2010"].to_numpy(dtype=np.int64)
    city_2006 = round(2_456_100 + (reg2010.sum() - 2_456_100) * (2006 - 2004) / (2010 - 2004))
    expected = hamilton(city_2006, reg2010.astype(float))
    for view, reg in example.items():
        assert list(reg.counties["county_code"]) == list(reference_counties["county_code"])
        np.testing.assert_array_equal(reg.county_population(), expected, err_msg=view)


def test_example_2006_view_has_mean_23200_and_largest_60000(example):
    pop = example["2006"].township_population()
    assert abs(pop.mean() / 23_200 - 1) <= 0.03
    assert abs(pop.max() / 60_000 - 1) <= 0.05
    assert 100 < len(pop) <= 110


def test_example_pre2006_view_has_mean_17700_and_smaller_largest_unit(example):
    pop = example["pre2006"].township_population()
    assert abs(pop.mean() / 17_700 - 1) <= 0.03
    assert pop.max() < example["2006"].township_population().max()


def test_example_2022_view_is_exactly_the_100_real_nbs_units(example):
    ref = pd.read_csv(REFERENCE / "quzhou_townships_nbs2022.csv", dtype=str)
    t = example["2022"].townships
    assert len(t) == 100
    assert set(t["township_code"]) == set(ref["code"])
    assert dict(zip(t["township_code"], t["name_zh"], strict=True)) == dict(
        zip(ref["code"], ref["name"], strict=True))
    assert not t["synthetic"].any()


def test_example_synthetic_townships_are_flagged_and_cannot_pass_for_nbs_codes(example):
    ref_codes = set(pd.read_csv(REFERENCE / "quzhou_townships_nbs2022.csv", dtype=str)["code"])
    for reg in example.values():
        t = reg.townships
        invented = ~t["township_code"].isin(ref_codes)
        assert (t["synthetic"] == invented).all()
        assert t.loc[invented, "township_code"].str.contains("[A-Z]").all()
        assert t.loc[invented, "name_en"].str.contains("synthetic").all()


def test_example_kind_and_urban_follow_the_township_name_suffix(example):
    t = example["2022"].townships
    suffix = t["name_zh"].str.extract("(街道|镇|乡)$")[0].map(
        {"街道": "subdistrict", "镇": "town", "乡": "xiang"})
    assert (t["kind"] == suffix).all()
    assert (t["urban"] == (t["kind"] == "subdistrict")).all()


def test_example_villages_are_the_same_set_in_every_view_with_realistic_sizes(example):
    v06 = example["2006"].villages
    for reg in example.values():
        assert list(reg.villages["village_code"]) == list(v06["village_code"])
        np.testing.assert_array_equal(reg.village_population, example["2006"].village_population)
    assert 2_500 <= len(v06) <= 3_000
    assert 0.15 <= (v06["population"] < 500).mean() <= 0.30
    assert v06["synthetic"].all()
    assert (v06["village_code"].str.len() == 12).all()
    assert (v06["village_code"].str[:9] == v06["township_code"]).all()


def test_example_in_migrants_total_the_2002_temporary_residents_and_favour_towns(example):
    reg = example["2006"]
    assert reg.villages["in_migrants"].sum() == 50_500
    t = reg.townships_summary()
    rate = t.groupby("kind")["in_migrants"].sum() / t.groupby("kind")["population"].sum()
    assert rate["subdistrict"] > rate["town"] > rate["xiang"]


def test_example_index_arrays_link_villages_townships_and_counties(example):
    reg = example["2006"]
    t, v = reg.townships, reg.villages
    assert (t["township_code"].to_numpy()[reg.village_township] == v["township_code"]).all()
    assert (reg.counties["county_code"].to_numpy()[reg.village_county] == v["county_code"]).all()
    assert (reg.counties["county_code"].to_numpy()[reg.township_county] == t["county_code"]).all()
    assert reg.year == 2006


def test_example_sha256_hashes_the_packaged_files(example):
    digest = hashlib.sha256()
    for name in ("counties.csv", "townships_2006.csv", "villages.csv"):
        digest.update((DATA_DIR / name).read_bytes())
    assert example["2006"].sha256 == digest.hexdigest()


def test_townships_summary_counts_villages_and_sums_population(example):
    reg = example["2006"]
    s = reg.townships_summary()
    assert (s["villages"] + s["communities"]).sum() == reg.n_villages
    assert s["population"].sum() == reg.village_population.sum()
    assert (s["smallest_village"] <= s["largest_village"]).all()
    c = reg.counties_summary()
    np.testing.assert_allclose(c["mean_township"], c["population"] / c["townships"])


def test_generator_is_deterministic_and_matches_the_committed_data(tmp_path):
    spec = importlib.util.spec_from_file_location("gen", ROOT / "tools" /
                                                  "make_example_register.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    first = gen.generate(tmp_path / "a")
    second = gen.generate(tmp_path / "b")
    for key, path in first.items():
        assert path.read_bytes() == second[key].read_bytes(), key
        assert path.read_bytes() == (DATA_DIR / path.name).read_bytes(), path.name


# --- loading user registers ----------------------------------------------------------------


def test_folder_register_loads_with_defaults_derived_from_names():
    reg = load_register(SMALL)
    assert reg.n_counties == 2 and reg.n_townships == 5 and reg.n_villages == 11
    t = reg.townships.set_index("township_code")
    assert t.loc["330802005", "kind"] == "subdistrict" and t.loc["330802005", "urban"]
    assert t.loc["330802205", "kind"] == "xiang"
    v = reg.villages.set_index("village_code")
    assert v.loc["330802005001", "kind"] == "community"
    assert v.loc["330802100201", "county_code"] == "330802"
    assert reg.township_population().sum() == 3200 + 800 + 1500 + 450 + 620 + 300 + 700 + 380 \
        + 950 + 510 + 420


def test_unknown_view_is_rejected():
    with pytest.raises(RegisterError, match="unknown register view '2010'"):
        load_register(view="2010")


def test_view_other_than_2006_with_a_user_file_is_rejected():
    with pytest.raises(RegisterError, match="applies only to the packaged example"):
        load_register(SMALL, view="2022")


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_flat_csv_with_chinese_headers_loads_in_every_excel_encoding(tmp_path, encoding):
    path = tmp_path / "flat.csv"
    path.write_bytes(FLAT_ZH.encode(encoding))
    reg = load_register(path)
    assert list(reg.townships["name_zh"]) == ["新新街道", "石梁镇"]
    assert list(reg.counties["name_zh"]) == ["柯城区"]
    assert reg.villages["population"].sum() == 450 + 620 + 3200
    assert reg.villages["in_migrants"].sum() == 5 + 0 + 400
    assert reg.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_codes_keep_leading_zeros(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text("village_code,name_zh,township_code,township_name,county_code,population\n"
                    "0001001,甲村,0001,甲乡,01,100\n", encoding="utf-8")
    reg = load_register(path)
    assert reg.villages["village_code"].iat[0] == "0001001"
    assert reg.townships["township_code"].iat[0] == "0001"
    assert reg.counties["county_code"].iat[0] == "01"


def test_flat_csv_without_county_name_takes_known_quzhou_names(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text("村代码,村名,乡镇代码,乡镇名称,县代码,人口\n1,甲村,11,石梁镇,330802,10\n",
                    encoding="utf-8")
    assert load_register(path).counties["name_zh"].iat[0] == "柯城区"


def test_xlsx_with_title_rows_and_chinese_sheet_names_loads(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "县"
    ws.append(["衢州市计生协 示例登记表"])
    ws.append([])
    ws.append(["县代码", "县名称"])
    ws.append([330802, "柯城区"])
    ws2 = wb.create_sheet("乡镇")
    ws2.append(["乡镇一览"])
    ws2.append(["乡镇代码", "县代码", "乡镇名称"])
    ws2.append(["330802100", "330802", "石梁镇"])
    ws3 = wb.create_sheet("村")
    ws3.append(["村级人口 (2006年)"])
    ws3.append(["村代码", "乡镇代码", "村名", "人口（人）"])
    ws3.append(["330802100201", "330802100", "东山村", 450.0])
    ws3.append(["330802100202", "330802100", "西溪村", 620])
    path = tmp_path / "register.xlsx"
    wb.save(path)
    reg = load_register(path)
    assert list(reg.villages["population"]) == [450, 620]
    assert reg.counties["county_code"].iat[0] == "330802"


def test_flat_xlsx_sheet_loads_and_locates_problems_by_spreadsheet_row(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["title"])
    for line in FLAT_ZH.strip().split("\n"):
        ws.append(line.split(","))
    ws.cell(row=4, column=7, value="abc")
    path = tmp_path / "flat.xlsx"
    wb.save(path)
    assert problems_of(path) == [f'{path}[Sheet1]:4: population "abc" is not a whole number']


# --- validation messages -----------------------------------------------------------------------


def test_valid_register_has_no_problems():
    assert validate_register_file(SMALL) == []


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("东山村,450", "东山村,abc", 'villages.csv:5: population "abc" is not a whole number'),
        ("东山村,450", "东山村,4.5", 'villages.csv:5: population "4.5" is not a whole number'),
        ("东山村,450", "东山村,-3", "villages.csv:5: population -3 is negative (expected a number ≥ 0)"),
        ("东山村,450", "东山村,", "villages.csv:5: population is empty (expected a whole number "
                               "of people)"),
        ("330802100202,330802100", "330802100201,330802100",
         'villages.csv:6: duplicate village_code "330802100201" (first on row 5)'),
        ("330802100201,330802100", "330802100201,330802999",
         'villages.csv:5: village "330802100201": township_code "330802999" does not exist in '
         "townships.csv"),
    ],
)
def test_bad_village_rows_are_reported_with_their_row(tmp_path, old, new, message):
    folder = copy_small(tmp_path)
    replace_in(folder / "villages.csv", old, new)
    problems = problems_of(folder)
    assert len(problems) == 1
    assert problems[0].endswith(message)


def test_township_in_no_county_is_reported(tmp_path):
    folder = copy_small(tmp_path)
    replace_in(folder / "townships.csv", "330803200,330803,", "330803200,330899,")
    assert [p.split("townships.csv")[1] for p in problems_of(folder)] == [
        ':6: township "330803200" is in no county: county_code "330899" does not exist in '
        "counties.csv"]


def test_duplicate_township_codes_are_reported(tmp_path):
    folder = copy_small(tmp_path)
    replace_in(folder / "townships.csv", "330802205,", "330802100,")
    assert any(p.endswith('townships.csv:4: duplicate township_code "330802100" (first on row 3)')
               for p in problems_of(folder))


def test_missing_and_extra_columns_are_reported(tmp_path):
    folder = copy_small(tmp_path)
    text = (folder / "villages.csv").read_text(encoding="utf-8")
    text = text.replace("population,in_migrants", "备注,in_migrants", 1)
    (folder / "villages.csv").write_text(text, encoding="utf-8")
    problems = problems_of(folder)
    assert any(p.endswith('villages.csv:1: unexpected column "备注" (expected columns: '
                          "village_code, township_code, county_code, name_zh, name_en, kind, "
                          "urban, population, in_migrants, synthetic, merged_from)")
               for p in problems)
    assert any(p.endswith("villages.csv:1: missing column(s): population") for p in problems)


@pytest.mark.parametrize("old, new", [("330802005201,330802005,新新村,800,50", "330802005201,330802005,800,50"),
                                      ("330802005201,330802005,新新村,800,50", "330802005201,330802005,新新村,800")])
def test_a_csv_row_with_a_field_left_out_is_refused_at_its_row_not_shifted(tmp_path, old, new):
    # a left-out name would make the population the name and the in-migrants the population
    folder = copy_small(tmp_path)
    replace_in(folder / "villages.csv", old, new)
    assert problems_of(folder) == [
        f"{folder / 'villages.csv'}:3: 4 fields, but the header has 5: a field is missing, and every value "
        "after it would land in its neighbour's column"]


def test_a_csv_row_with_empty_fields_after_the_last_column_is_read_as_it_stands(tmp_path):
    folder = copy_small(tmp_path)
    replace_in(folder / "villages.csv", "330802005201,330802005,新新村,800,50", "330802005201,330802005,新新村,800,50,,")
    assert problems_of(folder) == []


def test_empty_file_and_header_only_file_are_reported(tmp_path):
    folder = copy_small(tmp_path)
    (folder / "villages.csv").write_bytes(b"")
    assert problems_of(folder) == [
        f"{folder / 'villages.csv'}: the file is empty (expected a header row and data rows)"]
    (folder / "villages.csv").write_text("village_code,township_code,name_zh,population\n")
    assert problems_of(folder) == [
        f"{folder / 'villages.csv'}: the file is empty: a header row but no data rows"]


def test_all_problems_are_collected_before_raising(tmp_path):
    folder = copy_small(tmp_path)
    replace_in(folder / "villages.csv", "东山村,450", "东山村,abc")
    replace_in(folder / "villages.csv", "西溪村,620", "西溪村,-1")
    with pytest.raises(RegisterError) as info:
        load_register(folder)
    assert len(info.value.problems) == 2


def test_flat_file_with_conflicting_township_names_is_reported(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text(FLAT_ZH.replace("330802100,石梁镇,330802,柯城区,620",
                                    "330802100,航埠镇,330802,柯城区,620"), encoding="utf-8")
    assert problems_of(path) == [f'{path}:3: township "330802100" has township_name "航埠镇" '
                                 'here but "石梁镇" on row 2']


def test_township_whose_kind_cannot_be_told_is_reported(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text(FLAT_ZH.replace("新新街道", "高新园区"), encoding="utf-8")
    assert problems_of(path) == [f'{path}:4: cannot tell the kind of township "高新园区" '
                                 "(expected a name ending in 街道, 镇 or 乡, or a kind column)"]


def test_unreadable_inputs_become_problems_not_exceptions(tmp_path):
    assert problems_of(tmp_path / "nope.csv") == [f"{tmp_path / 'nope.csv'}: no such file or "
                                                  "folder"]
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    assert problems_of(bad)[0].startswith(f"{bad}: cannot read the workbook")
    odd = tmp_path / "reg.json"
    odd.write_text("{}")
    assert problems_of(odd) == [f'{odd}: unsupported file type ".json" (expected .csv, .xlsx '
                                "or a folder)"]
    assert problems_of(tmp_path) == [f"{tmp_path}: missing {n}.csv (a register folder holds "
                                     "counties.csv, townships.csv and villages.csv)"
                                     for n in ("counties", "townships", "villages")]
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\xff\xfe\x00\x01 nothing here")
    assert problems_of(garbage)


# --- hostile and implausible input -----------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("counties.csv", "柯城区", "柯城\x00区",
         "counties.csv:2: name_zh '柯城\\x00区' contains the control character U+0000"),
        ("townships.csv", "石梁镇", "石梁\x07镇",
         "townships.csv:3: name_zh '石梁\\x07镇' contains the control character U+0007"),
        ("villages.csv", "东山村", "东山\x1b村",
         "villages.csv:5: name_zh '东山\\x1b村' contains the control character U+001B"),
        ("townships.csv", "Shiliang Town", "Shiliang\x85Town",
         "townships.csv:3: name_en 'Shiliang\\x85Town' contains the control character U+0085"),
    ],
)
def test_control_characters_in_names_are_refused_with_file_and_row(tmp_path, file, old, new, message):
    folder = copy_small(tmp_path)
    replace_in(folder / file, old, new)
    problems = problems_of(folder)
    assert any(p.endswith(message + " (names and codes must be plain text)") for p in problems), problems


def test_a_nul_in_a_flat_register_is_refused_on_its_row(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text(FLAT_ZH.replace("西溪村", "西溪\x00村"), encoding="utf-8")
    assert any(p.startswith(f"{path}:3: name_zh") and "U+0000" in p for p in problems_of(path))


def test_codes_that_excel_wrote_in_scientific_notation_are_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text(FLAT_ZH.replace("330802100202,西溪村", "3.30802E+11,西溪村"), encoding="utf-8")
    problems = problems_of(path)
    assert any(p.startswith(f"{path}:3: village_code \"3.30802E+11\" is a number in scientific notation")
               and "format the column as text" in p for p in problems), problems


@pytest.mark.parametrize(("population", "ok"), [("200000", True), ("200001", False),
                                                ("1000000000000", False)])
def test_village_populations_above_200000_people_are_implausible(tmp_path, population, ok):
    folder = copy_small(tmp_path)
    replace_in(folder / "villages.csv", "东山村,450", f"东山村,{population}")
    problems = problems_of(folder)
    if ok:
        assert problems == []
    else:
        assert problems == [f"{folder / 'villages.csv'}:5: population {population} is implausible for one "
                            "village (a township or county total, or digits run together?): at most 200,000"]


def _xlsx_with_a_stray_cell(path: Path) -> Path:
    """The small register as a workbook whose villages sheet has one value in XFD1048576,
    the last cell of a sheet: its declared used range is 16,384 × 1,048,576 cells."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name in ("counties", "townships", "villages"):
        ws = wb.create_sheet(name)
        table = pd.read_csv(SMALL / f"{name}.csv", dtype=str)
        ws.append(list(table.columns))
        for row in table.itertuples(index=False):
            ws.append(list(row))
    wb["villages"]["XFD1048576"] = "stray"
    wb.save(path)
    return path


def _validate_within_address_space(path: Path, limit: int) -> str:
    """``validate_register_file(path)`` in a subprocess whose address space is ``limit`` bytes;
    its problems, one per line (the subprocess must not fail)."""
    import subprocess
    import sys

    code = ("import resource, sys\n"
            f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
            "from qzfp.register import validate_register_file\n"
            "print('\\n'.join(str(p) for p in validate_register_file(sys.argv[1])))\n")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_an_xlsx_with_a_stray_far_cell_validates_within_400_mb_of_address_space(tmp_path):

    path = _xlsx_with_a_stray_cell(tmp_path / "stray.xlsx")
    assert openpyxl.load_workbook(path, read_only=True)["villages"].max_column == 16384
    out = _validate_within_address_space(path, 400 * 1024**2)  # about 2 x pandas and openpyxl
    assert out == f"{path}[villages]:1048576: data in column 16384, beyond the header's 5 columns"


def test_a_register_of_a_million_villages_is_refused_within_400_mb_of_address_space(tmp_path):

    from qzfp.register import MAX_VILLAGES

    path = tmp_path / "million.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write("村代码,村名,乡镇代码,乡镇名称,县代码,县名称,户籍人口\n")
        f.writelines(f"33{i:010d},村{i},33T{i // 1000:05d},乡{i // 1000}镇,330802,柯城区,500\n"
                     for i in range(1_000_000))
    out = _validate_within_address_space(path, 400 * 1024**2)
    assert out == (f"{path}: more than {MAX_VILLAGES:,} rows: a register table is limited to "
                   f"{MAX_VILLAGES:,} rows (MAX_VILLAGES)")


def test_a_register_read_from_csv_holds_the_files_text_with_one_object_per_repeated_value():
    reg = load_register(SMALL)
    v, t = reg.villages, reg.townships
    # the same text as the file (read here with plain pandas), sorted by code, as str columns
    raw = pd.read_csv(SMALL / "villages.csv", dtype=str).sort_values("village_code", ignore_index=True)
    assert list(v["village_code"]) == list(raw["village_code"])
    assert list(v["township_code"]) == list(raw["township_code"])
    for df, cols in ((v, ("township_code", "county_code", "kind", "merged_from")),
                     (t, ("county_code", "kind", "merged_from"))):
        for col in cols:
            assert df[col].dtype == v["village_code"].dtype  # text, as every code column
            assert len({id(x) for x in df[col]}) == df[col].nunique()  # shared, one per value
    # what reads the codes sees the same values: a township's villages by code
    assert v.groupby("township_code").size().to_dict() == raw.groupby("township_code").size().to_dict()


def test_the_synthetic_registers_codes_and_names_follow_their_documented_shape(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    synthetic = importlib.import_module("synthetic")
    counties, townships, villages = synthetic.synthetic_tables(synthetic.Size(3, 8, 60), seed=5)
    assert list(counties["county_code"]) == ["100001", "100002", "100003"]
    assert list(counties["name_zh"]) == ["合成县0001", "合成县0002", "合成县0003"]
    suffix = {"subdistrict": "街道", "town": "镇", "xiang": "乡"}
    for row in townships.itertuples():
        assert row.township_code[:6] == row.county_code and len(row.township_code) == 9
        assert row.name_zh == f"合成县{int(row.county_code) - 100000:04d}{row.township_code[6:]}{suffix[row.kind]}"
        assert row.name_en == f"Township {row.township_code}" and row.urban == (row.kind == "subdistrict")
    names = townships.set_index("township_code")["name_zh"]
    for row in villages.itertuples():
        assert row.village_code[:9] == row.township_code and row.township_code[:6] == row.county_code
        assert row.name_zh == names[row.township_code] + row.village_code[9:] + (
            "社区" if row.kind == "community" else "村")
        assert row.name_en == f"Village {row.village_code}" and row.urban == (row.kind == "community")
    assert villages["village_code"].is_unique and len(villages) == 60
