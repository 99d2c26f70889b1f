"""Labels, number formatting, place names and the CJK font of qzfp.i18n."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from fontTools.ttLib import TTFont

from qzfp import i18n
from qzfp.errors import QzfpError, ScenarioError
from qzfp.i18n import (
    BUDGET_LINES,
    CATALOGUE,
    LANGS,
    budget_line_label,
    format_pct,
    format_persons,
    format_yuan,
    label_columns,
    place_name,
    place_names,
    post_label,
    t,
    template_fields,
)

REQUIRED_BUDGET_LINES = [
    "village_vp_allowance", "township_vp_allowance", "county_posts", "county_secretariat",
    "training", "activity_members_day", "activity_world_population_day",
    "activity_spring_festival", "activity_slack_season", "members_homes", "population_schools",
    "harmonious_family", "re_elections", "reward_assistance", "shaoshengkuaifu", "insurance",
    "migrant_associations", "operating_costs",
]  # fmt: skip


def test_english_and_chinese_have_exactly_the_same_keys():
    assert set(CATALOGUE["en"]) == set(CATALOGUE["zh"])
    assert set(LANGS) == set(CATALOGUE)


def test_every_label_has_the_same_template_fields_in_both_languages():
    mismatched = {
        key: (sorted(template_fields(en)), sorted(template_fields(CATALOGUE["zh"][key])))
        for key, en in CATALOGUE["en"].items()
        if template_fields(en) != template_fields(CATALOGUE["zh"][key])
    }
    assert mismatched == {}, "labels whose fields differ (en, zh): " + "; ".join(
        f"{k}: {en} vs {zh}" for k, (en, zh) in mismatched.items())


def test_no_label_is_empty_and_every_chinese_label_is_not_a_copy_of_the_english_one():
    for key in CATALOGUE["en"]:
        assert CATALOGUE["en"][key].strip() and CATALOGUE["zh"][key].strip()
    same = [k for k in CATALOGUE["en"] if CATALOGUE["en"][k] == CATALOGUE["zh"][k]]
    assert same == []


def test_every_chinese_label_uses_chinese_characters_except_pure_codes():
    # Chinese characters, or Chinese punctuation for separators and quotes ("；", “”)
    for key, text in CATALOGUE["zh"].items():
        assert re.search(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u201c\u201d]", text), key


def test_every_required_budget_line_has_a_label_from_the_source_document():
    assert set(REQUIRED_BUDGET_LINES) <= set(BUDGET_LINES)
    assert budget_line_label("village_vp_allowance", "zh") == "村专职副会长岗位津贴"
    assert budget_line_label("township_vp_allowance", "zh") == "乡镇计生岗位津贴"
    assert "奖励扶助" in budget_line_label("reward_assistance", "zh")
    assert "少生快富" in budget_line_label("shaoshengkuaifu", "zh")
    assert "5.29" in budget_line_label("activity_members_day", "zh")
    assert "7.11" in budget_line_label("activity_world_population_day", "en")


def test_posts_use_the_terms_of_the_source_document():
    assert post_label("village_vice_president", "zh") == "村计生协专职副会长"
    assert post_label("township_vice_president", "zh") == "乡镇计生协专职副会长"
    assert post_label("secretary_general", "zh") == "秘书长"
    assert post_label("volunteers", "zh") == "志愿者"
    assert post_label("members", "en") == "Members"


def test_an_unknown_budget_line_falls_back_to_its_humanised_id():
    assert budget_line_label("new_line_item", "en") == "New line item"
    assert budget_line_label("new_line_item", "zh") == "New line item"
    assert post_label("county_driver", "en") == "County driver"


def test_t_fills_named_fields():
    assert t("cli.file_not_found", "en", path="a.yaml") == "a.yaml: file not found"
    assert t("cli.file_not_found", "zh", path="a.yaml") == "a.yaml：文件不存在"
    assert t("chart.wisn.title", "zh", year=2010) == "2010年各乡镇WISN比值"


def test_an_unknown_key_raises_a_clear_error_with_a_suggestion():
    with pytest.raises(i18n.UnknownLabelError, match="did you mean 'cli.file_not_found'"):
        t("cli.file_not_fund", "en")
    with pytest.raises(KeyError):  # still a KeyError for callers that catch those
        t("no.such.key", "zh")


def test_a_missing_template_field_names_the_field():
    with pytest.raises(KeyError, match="needs field\\(s\\) path"):
        t("cli.file_not_found", "en")


def test_an_unknown_language_is_a_scenario_error_naming_the_choices():
    with pytest.raises(ScenarioError, match="expected one of en, zh") as info:
        t("total", "fr")
    assert isinstance(info.value, QzfpError)
    with pytest.raises(ScenarioError, match="did you mean 'zh'"):
        i18n.check_lang("ZH", "params/x.yaml:lang")


def test_cli_messages_for_the_common_errors_exist_in_both_languages():
    fields = {"path": "p", "count": 2, "notebook": "n", "output": "o", "log": "l",
              "suggestion": "s", "what": "w", "name": "x", "value": "fr", "choices": "en, zh"}  # fmt: skip
    for key in ("cli.file_not_found", "cli.invalid_scenario", "cli.invalid_register",
                "cli.run_failed", "cli.did_you_mean", "cli.unknown_lang"):  # fmt: skip
        for lang in LANGS:
            text = t(key, lang, **{f: fields[f] for f in template_fields(CATALOGUE[lang][key])})
            assert text


def test_workbook_sheet_names_are_valid_excel_sheet_names():
    for lang in LANGS:
        names = [t(k, lang) for k in i18n.keys("sheet.") if not template_fields(CATALOGUE[lang][k])]
        assert len(names) == len(set(names))
        for name in names:
            assert 0 < len(name) <= 31 and not set(name) & set("[]:*?/\\"), name


def test_label_columns_renames_known_columns_and_keeps_unknown_ones():
    df = pd.DataFrame({"year": [2006], "county_code": ["330802"], "amount_yuan": [1.0], "x": [0]})
    zh = label_columns(df, "zh")
    assert list(zh.columns) == ["年份", "县（市、区）代码", "金额（元）", "x"]
    assert list(label_columns(df, "en").columns) == ["Year", "County code", "Amount [yuan]", "x"]
    assert list(df.columns) == ["year", "county_code", "amount_yuan", "x"]  # input untouched


def test_every_tidy_indicator_column_has_a_header():
    for col in ("year", "county", "township", "village", "population", "aged_60plus",
                "women_15_49", "births", "deaths", "net_migration", "in_migrants", "posts",
                "required_staff", "wisn_ratio", "wisn_difference", "available_hours"):  # fmt: skip
        assert i18n.has(f"col.{col}"), col


class _Register:
    counties = pd.DataFrame(
        {"county_code": ["330802"], "name_zh": ["柯城区"], "name_en": ["Kecheng"]}
    )
    townships = pd.DataFrame(
        {
            "township_code": ["330802005"],
            "county_code": ["330802"],
            "name_zh": ["新新街道"],
            "name_en": ["Xinxin Jiedao"],
        }
    )
    villages = pd.DataFrame(
        {
            "village_code": ["330802005001"],
            "township_code": ["330802005"],
            "county_code": ["330802"],
            "name_zh": ["甲村"],
            "name_en": ["Jia Cun"],
        }
    )


def test_place_name_is_chinese_in_zh_and_pinyin_in_en():
    reg = _Register()
    assert place_name("330802", "zh", reg) == "柯城区"
    assert place_name("330802", "en", reg) == "Kecheng"
    assert place_name("330802005", "zh", reg) == "新新街道"
    assert place_name("330802005001", "en", reg) == "Jia Cun"
    row = reg.townships.iloc[0]
    assert place_name(row, "en") == "Xinxin Jiedao"
    assert place_name({"name_zh": "衢州市", "name_en": "Quzhou"}, "zh") == "衢州市"


def test_place_name_of_an_unknown_code_raises_and_place_names_keeps_the_code():
    reg = _Register()
    with pytest.raises(KeyError, match="999"):
        place_name("999", "zh", reg)
    assert place_names(["330802", "999"], "zh", reg) == ["柯城区", "999"]
    assert place_names(["330802005"], "en", reg.townships) == ["Xinxin Jiedao"]


def test_format_yuan_uses_thousand_separators_and_the_language_unit():
    assert format_yuan(1234567, "en") == "1,234,567 yuan"
    assert format_yuan(1234567, "zh") == "1,234,567元"
    assert format_yuan(-0.4, "en") == "0 yuan"
    assert format_yuan(12.345, "zh", decimals=2) == "12.35元"
    assert format_yuan(float("nan"), "zh") == "—"


def test_compact_yuan_in_chinese_uses_wan_and_yi_from_the_exact_division():
    x = 1_234_567
    assert format_yuan(x, "zh", compact=True) == f"{x / 1e4:.2f}万元"
    assert format_yuan(3.2e8, "zh", compact=True) == f"{3.2e8 / 1e8:.2f}亿元"
    assert format_yuan(9999, "zh", compact=True) == "9,999元"
    assert format_yuan(x, "en", compact=True) == f"{x / 1e6:.2f} million yuan"


def test_format_persons_handles_singular_and_wan():
    assert format_persons(1, "en") == "1 person"
    assert format_persons(23200, "en") == "23,200 persons"
    assert format_persons(23200, "zh") == "23,200人"
    assert format_persons(23200, "zh", compact=True) == f"{23200 / 1e4:.2f}万人"


def test_format_pct_of_a_share():
    assert format_pct(0.1234, "en") == "12.3%"
    assert format_pct(-0.05, "zh", signed=True) == "-5.0%"
    assert format_pct(0.05, "zh", signed=True) == "+5.0%"


def test_shipped_font_draws_every_character_of_the_chinese_catalogue_and_packaged_names():
    cmap = TTFont(i18n.shipped_font_path(), lazy=True).getBestCmap()
    text = "".join(CATALOGUE["zh"].values()) + "".join(CATALOGUE["en"].values())
    from importlib import resources

    ref = resources.files("qzfp") / "data" / "reference"
    for name in ("quzhou_counties.csv", "quzhou_townships_nbs2022.csv"):
        if (ref / name).is_file():
            text += (ref / name).read_text(encoding="utf-8")
    from qzfp.rules.rulebook import load_rulebook
    from qzfp.rules.scenario import load_scenario

    rb = load_rulebook()  # the Chinese descriptions and references shown in Chinese reports
    for p in (rb.get(path) for path in rb.paths()):
        text += p.description_zh + "".join(dv.reference + dv.reference_zh for dv in p.values)
    for name in ("baseline", "allowance_100", "low_fertility", "threshold_300", "township_by_population",
                 "township_merger"):
        s = load_scenario(name)
        text += str(s.params["title_zh"]) + str(s.params["description_zh"])
    missing = {c for c in text if not c.isspace() and ord(c) > 0x7F and ord(c) not in cmap}
    assert missing == set()


def test_shipped_font_has_its_licence_next_to_it():
    from pathlib import Path

    folder = Path(i18n.shipped_font_path()).parent
    assert "SIL OPEN FONT LICENSE Version 1.1" in (folder / "LICENSE-OFL.txt").read_text()


def test_setup_fonts_puts_the_cjk_font_first_for_chinese_and_disables_unicode_minus():
    import matplotlib as mpl

    family = i18n.setup_fonts("zh", prefer_system=False)
    assert family == i18n.SHIPPED_FONT_FAMILY
    assert mpl.rcParams["font.sans-serif"][0] == family
    assert mpl.rcParams["axes.unicode_minus"] is False
    i18n.setup_fonts("en", prefer_system=False)
    assert mpl.rcParams["font.sans-serif"][:2] == ["DejaVu Sans", family]


def test_registering_the_shipped_font_twice_adds_it_once():
    from matplotlib import font_manager

    i18n.register_shipped_font()
    i18n.register_shipped_font()
    path = i18n.shipped_font_path()
    assert sum(f.fname == path for f in font_manager.fontManager.ttflist) == 1


def test_missing_glyphs_reports_only_characters_no_font_can_draw():
    i18n.setup_fonts("zh", prefer_system=False)
    assert i18n.missing_glyphs("衢州市柯城区 Kecheng 2006") == set()


def test_post_label_prefers_the_level_specific_label():
    assert post_label("vice_president", "zh", "village") == "村计生协专职副会长"
    assert post_label("vice_president", "zh", "township") == "乡镇计生协专职副会长"
    assert post_label("president", "zh", "county") == "县计生协会长"
    assert post_label("secretary_general", "en", "county") == "Secretary-general"


def test_every_line_of_the_budget_engine_has_a_label_when_the_engine_is_present():
    budget = pytest.importorskip("qzfp.model.budget")
    unlabelled = [line for line in getattr(budget, "LINE_IDS", ()) if line not in BUDGET_LINES]
    assert unlabelled == []


def test_column_labels_have_no_template_fields_so_any_table_can_use_them():
    for key in i18n.keys("col."):
        assert not i18n.template_fields(i18n.CATALOGUE["en"][key]), key


# ---------------------------------------------------------------------- lever labels
# How a rulebook unit is written at the end of a lever label: English "[..]", Chinese "（..）".
# "share" (a fraction 0..1) and "ratio" (rural/urban factor) are dimensionless: their labels
# say "Share of ..." / "... ratio" and carry no unit bracket.
UNITLESS_UNITS = {"share", "ratio"}
LEVER_UNITS = {
    "person": ("persons", "人"), "post": ("posts", "名"), "association": ("associations", "个"),
    "day": ("days", "天"), "year": ("years", "岁"), "years": ("years", "年"), "percent": ("%", "%"),
    "yuan/month": ("yuan/month", "元/月"), "yuan/year": ("yuan/year", "元/年"),
    "yuan/person/year": ("yuan/person/year", "元/人/年"),
    "yuan/post/year": ("yuan/post/year", "元/人/年"),
    "yuan/event": ("yuan/event", "元/次"), "yuan/household": ("yuan/household", "元/户"),
    "yuan/re-election": ("yuan/re-election", "元/次"), "yuan/batch": ("yuan/batch", "元/期"),
    "yuan/trainee-day": ("yuan/trainee-day", "元/人·天"),
    "household/year": ("households/year", "户/年"), "event/year": ("events/year", "次/年"),
    "session/year": ("sessions/year", "场/年"), "meeting/year": ("meetings/year", "次/年"),
    "visit/birth": ("visits/birth", "次/例"), "visit/person/year": ("visits/person/year", "次/人/年"),
    "1/year": ("1/year", "1/年"), "per mille/year": ("‰/year", "‰/年"),
    "year/year": ("years/year", "岁/年"), "child/woman": ("children/woman", "个/妇女"),
    "member/1000 person": ("members/1,000 persons", "人/千人"),
    "person/association": ("persons/association", "人/个"), "person/batch": ("persons/batch", "人/期"),
    "day/year": ("days/year", "天/年"), "hour/day": ("hours/day", "小时/天"),
    "hour/year": ("hours/year", "小时/年"), "hour/event": ("hours/event", "小时/次"),
    "hour/session": ("hours/session", "小时/场"), "hour/meeting": ("hours/meeting", "小时/次"),
    "hour/re-election": ("hours/re-election", "小时/次"), "hour/visit": ("hours/visit", "小时/次"),
    "hour/person": ("hours/person", "小时/人"), "hour/household": ("hours/household", "小时/户"),
    "hour/association": ("hours/association", "小时/个"), "hour/unit": ("hours/unit", "小时/个"),
    "hour/township": ("hours/township", "小时/个"), "hour/village": ("hours/village", "小时/个"),
    "hour/home": ("hours/home", "小时/个"), "hour/school": ("hours/school", "小时/所"),
}  # fmt: skip
MAX_EN_CHARS = 65  # whole English label, unit included (y-axis of the tornado chart)
MAX_ZH_HANZI = 20  # Chinese characters before the unit


@pytest.fixture(scope="module")
def key_assumptions_and_units():
    from qzfp.model.comparison import key_assumptions
    from qzfp.rules.scenario import load_scenario

    scenario = load_scenario("baseline")
    return [(p, scenario.parameter(p).unit) for p in key_assumptions(scenario)]


def test_every_key_assumption_has_a_label_in_both_languages_and_none_is_its_raw_path(
    key_assumptions_and_units,
):
    assert len(key_assumptions_and_units) > 100  # the ranking really is the whole rulebook
    for path, _ in key_assumptions_and_units:
        assert i18n.has(f"param.{path}"), f"no label param.{path}"
        for lang in LANGS:
            label = i18n.param_label(path, lang)
            assert label != path, (path, lang)
            assert not re.search(r"[a-z0-9]_[a-z0-9]", label), (path, lang, label)  # no ids
        assert not re.search(r"[A-Za-z]", i18n.param_label(path, "zh")), path  # no English


def test_every_key_assumption_label_ends_with_its_rulebook_unit_in_both_languages(
    key_assumptions_and_units,
):
    for path, unit in key_assumptions_and_units:
        en, zh = i18n.param_label(path, "en"), i18n.param_label(path, "zh")
        if unit in UNITLESS_UNITS:
            assert not en.endswith("]") and not zh.endswith("）"), (path, en, zh)
            continue
        assert unit in LEVER_UNITS, f"{path}: say how unit {unit!r} is written in LEVER_UNITS"
        unit_en, unit_zh = LEVER_UNITS[unit]
        assert en.endswith(f" [{unit_en}]"), (path, en)
        assert zh.endswith(f"（{unit_zh}）"), (path, zh)


def test_key_assumption_labels_are_short_enough_for_a_chart_axis_and_all_different(
    key_assumptions_and_units,
):
    paths = [p for p, _ in key_assumptions_and_units]
    for path in paths:
        en, zh = i18n.param_label(path, "en"), i18n.param_label(path, "zh")
        assert len(en) <= MAX_EN_CHARS, (path, en)
        before_unit = re.sub(r"（[^（]*）$", "", zh)
        assert len(re.findall(r"[\u4e00-\u9fff]", before_unit)) <= MAX_ZH_HANZI, (path, zh)
    for lang in LANGS:
        labels = [i18n.param_label(p, lang) for p in paths]
        assert len(set(labels)) == len(labels), lang  # two bars never share a name


SOURCE_TERMS = {  # part of a rulebook path -> term of 衢委办[2006]101号 its Chinese label uses
    "_vice_president.": "专职副会长", "vice_president.allowance": "专职副会长",
    "vice_president.extra_post": "增配专职副会长", "post_allowance": "计生岗位津贴",
    "reward_assistance": "奖励扶助",
    "shaoshengkuaifu": "少生快富", "members_home": "会员之家", "population_school": "人口学校",
    "harmonious_family": "和谐家庭示范户", "reelection": "换届", "members_day": "“5.29”",
    "world_population_day": "“7.11”世界人口日", "spring_festival": "春节",
    "slack_season": "农闲时节", "village_committee": "两委", "out_association": "外出人口计生协",
}  # fmt: skip


def test_key_assumption_labels_use_the_terms_of_the_source_document(key_assumptions_and_units):
    used = set()
    for path, _ in key_assumptions_and_units:
        for word, term in SOURCE_TERMS.items():
            if word in path:
                assert term in i18n.param_label(path, "zh"), (path, term)
                used.add(word)
        if "members_day" in path:
            assert "5.29" in i18n.param_label(path, "en"), path
        if "world_population_day" in path:
            assert "7.11 World Population Day" in i18n.param_label(path, "en"), path
    assert used == set(SOURCE_TERMS)  # every term is exercised by at least one path


def test_a_lever_label_has_the_unit_of_the_existing_headline_levers():
    assert i18n.param_label("village.vice_president.allowance", "en") == (
        "Village vice-president allowance [yuan/month]"
    )
    zh = i18n.param_label("village.vice_president.allowance", "zh")
    assert zh == "村专职副会长岗位津贴（元/月）"


def test_a_path_without_a_label_falls_back_to_the_path_itself():
    assert i18n.param_label("costs.no_such.thing", "en") == "costs.no_such.thing"
    assert i18n.param_label("costs.no_such.thing", "zh") == "costs.no_such.thing"
    with pytest.raises(ScenarioError):
        i18n.param_label("village.vice_president.allowance", "fr")


def test_the_rulebook_has_a_chinese_description_for_every_parameter():
    from qzfp.rules.scenario import load_scenario

    rb = load_scenario("baseline").rulebook
    missing = [p for p in rb.paths() if not rb.get(p).description_zh]
    assert missing == []


def test_a_chinese_reader_gets_the_chinese_description_unit_and_the_assumption_label():
    used = pd.DataFrame({"path": ["a", "b"], "description": ["Monthly allowance", "Share"],
                         "description_zh": ["每月津贴", ""], "unit": ["yuan/month", "share"],
                         "reference": ["assumption: no document gives it", "衢委办[2004]38号"]})
    zh = i18n.localise_parameters(used, "zh")
    assert zh["description"].tolist() == ["每月津贴", "Share"]  # English where no Chinese is given
    assert zh["unit"].tolist() == ["元/月", "比例"]
    assert zh["reference"].tolist() == ["假设：no document gives it", "衢委办[2004]38号"]
    assert "description_zh" not in zh
    en = i18n.localise_parameters(used, "en")
    assert en["description"].tolist() == ["Monthly allowance", "Share"] and en["unit"].tolist() == ["yuan/month", "share"]


def test_the_reference_in_chinese_is_reference_zh_else_the_reference_with_the_assumption_label():
    import datetime as dt

    from qzfp.rules.rulebook import DatedValue

    translated = DatedValue(dt.date(2006, 1, 1), 2, "assumption: one visit a year", reference_zh="假设：每年走访一次")
    document = DatedValue(dt.date(2006, 1, 1), 60, "衢委办[2004]38号")
    untranslated = {"reference": "assumption: a planner's guess", "reference_zh": ""}
    assert i18n.reference_text(translated, "zh") == "假设：每年走访一次"
    assert i18n.reference_text(translated, "en") == "assumption: one visit a year"
    assert i18n.reference_text(document, "zh") == "衢委办[2004]38号"
    assert i18n.reference_text(untranslated, "zh") == "假设：a planner's guess"
    row = pd.DataFrame([{"reference": "x", "reference_zh": "某文件"}])
    assert i18n.reference_text(row.iloc[0], "zh") == "某文件"
    assert i18n.reference_text(next(row.itertuples()), "zh") == "某文件"
    assert i18n.reference_text(next(row.itertuples()), "en") == "x"


def test_chinese_parameters_and_budget_lines_show_the_chinese_reference_and_drop_the_column():
    used = pd.DataFrame({"path": ["a", "b"], "description": ["d", "e"], "description_zh": ["", ""],
                         "unit": ["post", "post"], "reference": ["assumption: why", "衢委办[2004]38号"],
                         "reference_zh": ["假设：原因", ""]})
    zh = i18n.localise_parameters(used, "zh")
    assert zh["reference"].tolist() == ["假设：原因", "衢委办[2004]38号"]
    assert "reference_zh" not in zh and "reference_zh" not in i18n.localise_parameters(used, "en")
    assert i18n.localise_parameters(used, "en")["reference"].tolist() == ["assumption: why", "衢委办[2004]38号"]
    budget = pd.DataFrame({"line": ["training", "training"], "reference": ["assumption: why", "r"],
                           "reference_zh": ["假设：原因", ""], "amount_yuan": [1.0, 2.0]})
    zb = i18n.localise_budget(budget, "zh")
    assert zb["reference"].tolist() == ["假设：原因", "r"] and list(zb.columns) == ["line", "reference", "amount_yuan"]
    assert i18n.localise_budget(budget, "en")["reference"].tolist() == ["assumption: why", "r"]


def test_every_budget_line_of_the_baseline_has_a_chinese_reference_in_a_chinese_report():
    from chinese import english_words

    from qzfp.model.run import simulate
    from qzfp.rules.scenario import Scenario, load_scenario

    params = {**load_scenario("baseline_zh").to_papermill(), "horizon": 1, "mc_paths": 5}
    b = simulate(Scenario.from_parameters(**params)).budget
    assert "reference_zh" in b.columns
    shown = i18n.localise_budget(b, "zh")["reference"]
    assert [r for r in shown.unique() if english_words(r, set())] == []
    # the English references stay as they were for an English reader
    assert (i18n.localise_budget(b, "en")["reference"] == b["reference"]).all()


def test_census_fit_values_and_bool_values_read_in_chinese():
    assert i18n.census_source_label("county", "zh") == "县级"
    assert i18n.census_source_label("county", "en") == "county"
    for row in ("prefecture", "province", "national"):
        assert not re.search(r"[A-Za-z]", i18n.census_source_label(row, "zh")), row
    assert i18n.value_text(True, "zh") == "是" and i18n.value_text(False, "en") == "No"
    assert i18n.value_text("code", "zh") == "code"


@pytest.mark.parametrize(("text", "public"), [
    ("give 1.145 (qzfp.model.base, the test suite recomputes it).  The census", "give 1.145. The census"),
    ("得1.145（qzfp.model.base，测试套件复核此数）。普查年度", "得1.145。普查年度"),
    ("the mean of 2010-2015 (NBS; a unit test checks it)", "the mean of 2010-2015 (NBS)"),
    ("taken from the census, recomputed by the test suite", "taken from the census"),
])
def test_a_public_text_drops_the_remarks_about_the_projects_tests(text, public):
    from qzfp.i18n.labels import public_text

    assert public_text(text) == public


@pytest.mark.parametrize("items, lang, conjunction, expected", [
    (["--number", "--signer", "--date"], "en", True, "--number, --signer and --date"),
    (["--number"], "en", True, "--number"),
    (["发文字号", "签发人", "成文日期"], "zh", True, "发文字号、签发人、成文日期"),
    (["allowance", "threshold"], "en", False, "allowance, threshold"),
])
def test_a_list_reads_as_a_reader_of_the_language_writes_one(items, lang, conjunction, expected):
    from qzfp.i18n import listing

    assert listing(items, lang, conjunction=conjunction) == expected
