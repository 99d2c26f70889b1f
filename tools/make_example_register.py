"""Generate the example township/village register of Quzhou shipped in ``qzfp/data/``.

What is real and what is synthetic is described in ``qzfp/data/README.md``.  In short:
the six counties and the 100 township-level units (codes and names, NBS 2022 list) are
real; everything below the township, the populations per township and village, the six
extra 2006 units and the 33 pre-2006 units are synthetic, calibrated to the county totals
and to the figures of the 2006 Quzhou report (mean township 17,700 → 23,200, largest
60,000).

The generator is deterministic: a fixed seed, no clock, no environment.  Running it twice
gives byte-identical files::

    .venv/bin/python tools/make_example_register.py            # writes qzfp/data/
    .venv/bin/python tools/make_example_register.py --out DIR  # writes elsewhere

Everything here is a one-off data-preparation step, not model code: the numbers below are
calibration targets of the *example* data set (documented in the README), not planning
parameters, so they do not belong in the rulebook.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "qzfp" / "data" / "reference"
DEFAULT_OUT = ROOT / "qzfp" / "data"

SEED = 2006

# --- calibration targets (see qzfp/data/README.md) -----------------------------------
#: Registered (户籍) population of Quzhou at the end of 2004 [person] (SOURCES.md).
REGISTERED_2004 = 2_456_100
#: Reference year of the example register.
YEAR = 2006
#: Temporary residents (暂住人口) in 2002 [person] (SOURCES.md); held for 2006.
IN_MIGRANTS_TOTAL = 50_500
#: The largest township after the 2006 adjustment [person] (2006 report: "最大的达6万人").
LARGEST_TOWNSHIP = 60_000
LARGEST_TOWNSHIP_NAME = "贺村镇"
#: Number of township units before the adjustment: 2.46 M ÷ 17,700 ≈ 139 (SOURCES.md).
N_TOWNSHIPS_PRE2006 = 139
#: Villages and communities per county in 2006 (Kecheng ≈ 310 + 30 around 2010,
#: Longyou 430 villages in 1988; the others scaled by their rural population).
UNITS_PER_COUNTY = {
    "330802": 340,
    "330803": 520,
    "330822": 430,
    "330824": 470,
    "330825": 420,
    "330881": 620,
}
#: Relative township size by kind (synthetic units are small former xiang).
TOWNSHIP_WEIGHT = {"subdistrict": 1.25, "town": 1.0, "xiang": 0.5, "synthetic": 0.35}
TOWNSHIP_SIGMA = 0.3
#: Typical size of one village-level unit by township kind [person] (sets unit counts).
TYPICAL_UNIT = {"subdistrict": 2400.0, "town": 850.0, "xiang": 650.0}
MIN_UNITS = 3
#: Share of units in a subdistrict that are communities (the rest are suburban villages).
COMMUNITY_SHARE_SUBDISTRICT = 0.7
VILLAGE_SIGMA = 0.5
VILLAGE_FLOOR = 0.25
COMMUNITY_WEIGHT = 2.0
#: in-migrant attraction per person by unit type (× a lognormal noise).
MIGRANT_WEIGHT = {"community": 8.0, "subdistrict_village": 4.0, "xiang": 0.4}
MIGRANT_TOWN_SCALE = 20_000.0  # a town village's weight is 1 + town population / this
MIGRANT_SIGMA = 0.5

DIRECTIONS = [("北", "north"), ("南", "south"), ("东", "east"), ("西", "west")]

# --- pinyin -------------------------------------------------------------------------
#: Pinyin of the 100 real township names (stem without 街道/镇/乡).
TOWNSHIP_PINYIN = {
    "新新": "Xinxin", "府山": "Fushan", "荷花": "Hehua", "信安": "Xin'an", "白云": "Baiyun",
    "双港": "Shuanggang", "衢化": "Quhua", "花园": "Huayuan", "石梁": "Shiliang",
    "航埠": "Hangbu", "黄家": "Huangjia", "七里": "Qili", "九华": "Jiuhua", "沟溪": "Gouxi",
    "华墅": "Huashu", "姜家山": "Jiangjiashan", "万田": "Wantian", "石室": "Shishi",
    "樟潭": "Zhangtan", "浮石": "Fushi", "上方": "Shangfang", "峡川": "Xiachuan",
    "莲花": "Lianhua", "全旺": "Quanwang", "大洲": "Dazhou", "后溪": "Houxi", "廿里": "Nianli",
    "湖南": "Hunan", "高家": "Gaojia", "杜泽": "Duze", "灰坪": "Huiping", "太真": "Taizhen",
    "双桥": "Shuangqiao", "周家": "Zhoujia", "云溪": "Yunxi", "举村": "Jucun",
    "岭洋": "Lingyang", "黄坛口": "Huangtankou", "天马": "Tianma", "紫港": "Zigang",
    "金川": "Jinchuan", "白石": "Baishi", "招贤": "Zhaoxian", "青石": "Qingshi",
    "球川": "Qiuchuan", "辉埠": "Huibu", "芳村": "Fangcun", "何家": "Hejia", "同弓": "Tonggong",
    "大桥头": "Daqiaotou", "新昌": "Xinchang", "东案": "Dong'an", "桐村": "Tongcun",
    "杨林": "Yanglin", "苏庄": "Suzhuang", "齐溪": "Qixi", "村头": "Cuntou", "华埠": "Huabu",
    "马金": "Majin", "池淮": "Chihuai", "中村": "Zhongcun", "长虹": "Changhong",
    "何田": "Hetian", "林山": "Linshan", "音坑": "Yinkeng", "大溪边": "Daxibian",
    "龙洲": "Longzhou", "东华": "Donghua", "湖镇": "Huzhen", "小南海": "Xiaonanhai",
    "詹家": "Zhanjia", "溪口": "Xikou", "横山": "Hengshan", "塔石": "Tashi", "罗家": "Luojia",
    "庙下": "Miaoxia", "石佛": "Shifo", "社阳": "Sheyang", "大街": "Dajie",
    "沐尘畲族": "Muchen She Ethnic", "模环": "Mohuan", "双塔": "Shuangta", "虎山": "Hushan",
    "清湖": "Qinghu", "四都": "Sidu", "坛石": "Tanshi", "大桥": "Daqiao",
    "新塘边": "Xintangbian", "廿八都": "Nianbadu", "长台": "Changtai", "上余": "Shangyu",
    "凤林": "Fenglin", "峡口": "Xiakou", "石门": "Shimen", "贺村": "Hecun", "大陈": "Dachen",
    "碗窑": "Wanyao", "保安": "Bao'an", "塘源口": "Tangyuankou", "张村": "Zhangcun",
}
KIND_SUFFIX = {"街道": "subdistrict", "镇": "town", "乡": "xiang"}
KIND_EN = {"subdistrict": "Subdistrict", "town": "Town", "xiang": "Township"}
#: Characters of the synthetic village names and their pinyin.
VILLAGE_CHARS = {
    "东": "dong", "西": "xi", "南": "nan", "北": "bei", "上": "shang", "下": "xia",
    "新": "xin", "大": "da", "小": "xiao", "山": "shan", "溪": "xi", "塘": "tang", "坞": "wu",
    "坑": "keng", "源": "yuan", "口": "kou", "桥": "qiao", "岭": "ling", "田": "tian",
    "林": "lin", "石": "shi", "湖": "hu", "叶": "ye", "徐": "xu", "王": "wang", "李": "li",
    "周": "zhou", "吴": "wu", "郑": "zheng", "毛": "mao", "余": "yu", "姜": "jiang",
    "汪": "wang", "祝": "zhu", "柴": "chai", "杨": "yang", "黄": "huang", "龙": "long",
    "凤": "feng", "花": "hua", "桃": "tao", "竹": "zhu", "梅": "mei", "松": "song", "和": "he",
    "安": "an", "丰": "feng", "里": "li", "畈": "fan", "垄": "long", "坂": "ban", "埠": "bu",
    "洋": "yang", "前": "qian", "后": "hou", "章": "zhang",
}


def township_stem(name: str) -> tuple[str, str]:
    """Split a real township name into (stem, kind) by its suffix."""
    for suffix, kind in KIND_SUFFIX.items():
        if name.endswith(suffix):
            return name[: -len(suffix)], kind
    raise ValueError(f"township name {name!r} has no known suffix")


def pinyin_join(syllables: list[str]) -> str:
    """Join syllables as in standard pinyin spelling (apostrophe before a, e, o)."""
    out = syllables[0]
    for s in syllables[1:]:
        out += ("'" if s[0] in "aeo" else "") + s
    return out.capitalize()


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that sum to ``total`` exactly (Hamilton)."""
    w = np.asarray(weights, dtype=float)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    short = int(total - base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:short]] += 1
    return base


def county_totals(counties: pd.DataFrame) -> pd.Series:
    """Registered population per county in 2006 [person] (the documented derivation).

    The city total is interpolated linearly between the year-end 2004 registered figure
    (2,456,100) and the sum of the 2010 census registered populations, and split by the
    counties' 2010 shares with the largest-remainder method.
    """
    reg2010 = counties["registered_2010"].to_numpy(dtype=np.int64)
    city_2010 = int(reg2010.sum())
    city = round(REGISTERED_2004 + (city_2010 - REGISTERED_2004) * (YEAR - 2004) / (2010 - 2004))
    return pd.Series(largest_remainder(city, reg2010), index=counties["county_code"])


def generate(out: Path) -> dict[str, Path]:
    """Write the example register into ``out`` and return the written files."""
    rng = np.random.default_rng(SEED)
    ref_c = pd.read_csv(REFERENCE / "quzhou_counties.csv", dtype={"county_code": str})
    ref_t = pd.read_csv(REFERENCE / "quzhou_townships_nbs2022.csv", dtype=str)
    totals = county_totals(ref_c)

    # ---- 2006 townships: 100 real + one synthetic per county -------------------------
    rows = []
    for code, name, county in ref_t[["code", "name", "county_code"]].itertuples(index=False):
        stem, kind = township_stem(name)
        rows.append(dict(township_code=code, county_code=county, name_zh=name,
                         name_en=f"{TOWNSHIP_PINYIN[stem]} {KIND_EN[kind]}", kind=kind,
                         urban=kind == "subdistrict", synthetic=False, weight_kind=kind))
    real = pd.DataFrame(rows)
    absorb_2022 = {}
    for i, county in enumerate(ref_c["county_code"]):
        parent = real[(real.county_code == county) & (real.kind == "town")].iloc[0]
        stem, _ = township_stem(parent.name_zh)
        d_zh, d_en = DIRECTIONS[i % len(DIRECTIONS)]
        code = f"{county}S01"
        absorb_2022[code] = parent.township_code
        rows.append(dict(township_code=code, county_code=county,
                         name_zh=f"{parent.name_zh}(原{d_zh}片)",
                         name_en=f"{TOWNSHIP_PINYIN[stem]} (former {d_en} part, synthetic)",
                         kind="xiang", urban=False, synthetic=True, weight_kind="synthetic"))
    t06 = pd.DataFrame(rows).sort_values("township_code", ignore_index=True)

    # township populations: lognormal weights by kind, the largest town pinned
    w = np.array([TOWNSHIP_WEIGHT[k] for k in t06.weight_kind]) * np.exp(
        rng.normal(0.0, TOWNSHIP_SIGMA, len(t06)))
    pop = np.zeros(len(t06), dtype=np.int64)
    for county in ref_c["county_code"]:
        idx = np.flatnonzero(t06.county_code.to_numpy() == county)
        total = int(totals[county])
        pinned = idx[t06.name_zh.to_numpy()[idx] == LARGEST_TOWNSHIP_NAME]
        if len(pinned):
            pop[pinned] = LARGEST_TOWNSHIP
            rest = np.setdiff1d(idx, pinned)
            pop[rest] = largest_remainder(total - LARGEST_TOWNSHIP, w[rest])
        else:
            pop[idx] = largest_remainder(total, w[idx])
    t06["population"] = pop
    assert pop.max() == LARGEST_TOWNSHIP and np.sort(pop)[-2] < 0.95 * LARGEST_TOWNSHIP

    # ---- village-level units per township --------------------------------------------
    typical = np.array([TYPICAL_UNIT[k] for k in t06.kind])
    n_units = np.zeros(len(t06), dtype=np.int64)
    for county, n_c in UNITS_PER_COUNTY.items():
        idx = np.flatnonzero(t06.county_code.to_numpy() == county)
        n_units[idx] = MIN_UNITS + largest_remainder(n_c - MIN_UNITS * len(idx),
                                                     pop[idx] / typical[idx])
    village_rows = []
    syllables = list(VILLAGE_CHARS)
    n_syl = len(syllables)
    distinct_pairs = np.array([i for i in range(n_syl ** 2) if i // n_syl != i % n_syl])
    for t, n in zip(t06.itertuples(index=False), n_units, strict=True):
        if t.kind == "subdistrict":
            n_comm = int(round(COMMUNITY_SHARE_SUBDISTRICT * n))
        elif t.kind == "town":
            n_comm = 1
        else:
            n_comm = 0
        pairs = rng.choice(distinct_pairs, size=n, replace=False)
        weights = np.exp(rng.normal(0.0, VILLAGE_SIGMA, n)) + VILLAGE_FLOOR
        weights[:n_comm] *= COMMUNITY_WEIGHT
        vpop = largest_remainder(int(t.population), weights)
        for j in range(n):
            a, b = syllables[pairs[j] // n_syl], syllables[pairs[j] % n_syl]
            community = j < n_comm
            number = j + 1 if community else 200 + j - n_comm + 1
            stem_en = pinyin_join([VILLAGE_CHARS[a], VILLAGE_CHARS[b]])
            village_rows.append(dict(
                village_code=f"{t.township_code}{number:03d}",
                name_zh=a + b + ("社区" if community else "村"),
                name_en=stem_en + (" Community" if community else " Village"),
                kind="community" if community else "village",
                urban=community, population=int(vpop[j]), synthetic=True,
                township_2006=t.township_code, county_code=t.county_code,
                township_kind=t.kind, township_population=int(t.population)))
    v = pd.DataFrame(village_rows).sort_values("village_code", ignore_index=True)

    # in-migrants: concentrated in communities, subdistricts and large towns
    kind_t = v.township_kind.to_numpy()
    mw = np.where(v.kind.to_numpy() == "community", MIGRANT_WEIGHT["community"],
                  np.where(kind_t == "subdistrict", MIGRANT_WEIGHT["subdistrict_village"],
                           np.where(kind_t == "town",
                                    1.0 + v.township_population.to_numpy() / MIGRANT_TOWN_SCALE,
                                    MIGRANT_WEIGHT["xiang"])))
    mw = mw * v.population.to_numpy() * np.exp(rng.normal(0.0, MIGRANT_SIGMA, len(v)))
    v["in_migrants"] = largest_remainder(IN_MIGRANTS_TOTAL, mw)

    # ---- pre-2006: split the largest towns/xiang of each county --------------------------
    splittable = (~t06.synthetic) & t06.kind.isin(["town", "xiang"])
    n_extra = N_TOWNSHIPS_PRE2006 - len(t06)
    per_county = largest_remainder(
        n_extra, splittable.groupby(t06.county_code).sum().reindex(ref_c.county_code).to_numpy())
    v["township_pre2006"] = v["township_2006"]
    piece_rows, plan_pre = [], []
    for county, k in zip(ref_c["county_code"], per_county, strict=True):
        cand = t06[splittable & (t06.county_code == county)].sort_values(
            ["population", "township_code"], ascending=[False, True]).head(int(k))
        for i, parent in enumerate(cand.sort_values("township_code").itertuples(index=False)):
            code = f"{county}P{i + 1:02d}"
            stem, _ = township_stem(parent.name_zh)
            piece_rows.append(dict(
                township_code=code, county_code=county,
                name_zh=f"{parent.name_zh}(2006年前并入部分)",
                name_en=f"{TOWNSHIP_PINYIN[stem]} (part merged in 2006, synthetic)",
                kind="xiang", urban=False, synthetic=True))
            plan_pre.append(dict(old_code=code, new_code=parent.township_code))
            members = np.flatnonzero((v.township_2006 == parent.township_code).to_numpy()
                                     & (v.kind == "village").to_numpy())
            moved = members[len(members) - int(round(0.45 * len(members))):]
            v.loc[moved, "township_pre2006"] = code
    plan_pre = pd.DataFrame(plan_pre)
    plan_22 = pd.DataFrame(sorted(absorb_2022.items()), columns=["old_code", "new_code"])
    v["township_2022"] = v["township_2006"].replace(absorb_2022)

    cols = ["township_code", "county_code", "name_zh", "name_en", "kind", "urban", "synthetic"]

    def merged_from(plan: pd.DataFrame, codes: pd.Series, previous: pd.Series | None = None):
        absorbed = plan.groupby("new_code")["old_code"].apply(lambda s: sorted(s))
        out = []
        for c in codes:
            items = list(absorbed.get(c, []))
            if previous is not None and c in previous.index and previous[c]:
                items += previous[c].split(";")
            out.append(";".join(sorted(set(items))))
        return out

    t_pre = pd.concat([t06[cols], pd.DataFrame(piece_rows)[cols]]).sort_values(
        "township_code", ignore_index=True)
    t_pre["merged_from"] = ""
    t06 = t06[cols].copy()
    t06["merged_from"] = merged_from(plan_pre, t06.township_code)
    t22 = t06[~t06.synthetic].copy().reset_index(drop=True)
    t22["merged_from"] = merged_from(
        plan_22, t22.township_code, t06.set_index("township_code")["merged_from"])

    counties = pd.DataFrame({"county_code": ref_c.county_code, "name_zh": ref_c.county_zh,
                             "name_en": ref_c.county_en})
    villages = v[["village_code", "name_zh", "name_en", "kind", "urban", "population",
                  "in_migrants", "synthetic", "township_pre2006", "township_2006",
                  "township_2022"]]

    out.mkdir(parents=True, exist_ok=True)
    files = {
        "counties": (counties, "counties.csv"),
        "townships_pre2006": (t_pre, "townships_pre2006.csv"),
        "townships_2006": (t06, "townships_2006.csv"),
        "townships_2022": (t22, "townships_2022.csv"),
        "villages": (villages, "villages.csv"),
        "plan_pre2006_2006": (plan_pre.sort_values("old_code"), "merge_pre2006_to_2006.csv"),
        "plan_2006_2022": (plan_22, "merge_2006_to_2022.csv"),
    }
    written = {}
    for key, (df, fname) in files.items():
        df = df.copy()
        for col in df.columns:
            if df[col].dtype == bool:
                df[col] = df[col].astype(int)
        path = out / fname
        path.write_bytes(df.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        written[key] = path
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default: qzfp/data)")
    args = parser.parse_args(argv)
    for path in generate(args.out).values():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
