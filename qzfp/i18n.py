"""Chinese and English labels, number formatting and CJK font set-up.

Every human-facing text of qzfp (notebook headings and commentary, chart titles, axes and
legends, table headers, workbook sheet names, index pages, command-line messages) is a
*key* in one catalogue with an English and a Chinese template.  Templates use named
``str.format`` fields (``"{year}"``); both languages of a key have the same fields.
Chinese terms follow the source document 衢委办[2006]101号 (计生协, 专职副会长,
岗位津贴, 奖励扶助 ...).

Key families
------------
``col.<column>``
    Table column headers of the tidy tables (see :func:`label_columns`).
``post.<post_id>``, ``budget.<line_id>``, ``funder.<level>``, ``wisn.<term>``
    Association posts, budget line items, funders and WISN terms (see :func:`post_label`,
    :func:`budget_line_label`).
``param.<rulebook path>``
    Short names of the planner's levers (see :func:`param_label`).
``chart.<chart>.<part>``
    Chart titles, axes and legends used by :mod:`qzfp.reporting.charts`.
``nb.<notebook>.<part>``
    Notebook headings and commentary templates.
``sheet.<name>``, ``index.<part>``, ``cli.<message>``
    Workbook sheet names (at most 31 characters), index pages, command-line messages.
``sex.*``, ``variant.*``, ``kind.*``, ``level.*``, ``yesno.*``
    Small vocabularies.

Examples
--------
>>> t("budget.village_vp_allowance", "zh")
'村专职副会长岗位津贴'
>>> t("cli.file_not_found", "en", path="params/x.yaml")
'params/x.yaml: file not found'
"""

from __future__ import annotations

import difflib
import math
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from .errors import Problem, ScenarioError

LANGS: tuple[str, ...] = ("en", "zh")
"""Supported languages (``lang`` scenario key and ``--lang`` option)."""

# Each entry: key -> (English, Chinese).
_ENTRIES: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- languages
    "lang.en": ("English", "英文"),
    "lang.zh": ("Chinese", "中文"),
    "app.name": (
        "qzfp — Quzhou Family Planning Association planning model",
        "衢州市计划生育协会规划测算模型（qzfp）",
    ),
    "app.city": ("Quzhou", "衢州市"),
    "app.association": ("Family Planning Association (FPA)", "计划生育协会（计生协）"),
    "app.source_document": (
        "Quzhou Party Committee Office document 衢委办[2006]101号 (22 August 2006)",
        "衢委办[2006]101号（2006年8月22日）",
    ),
    # ---------------------------------------------------------------- vocabularies
    "sex.male": ("Male", "男"),
    "sex.female": ("Female", "女"),
    "sex.total": ("Total", "合计"),
    "variant.medium": ("Medium", "中方案"),
    "variant.low": ("Low", "低方案"),
    "variant.high": ("High", "高方案"),
    "variant.constant": ("Constant rates", "不变方案"),
    "variant.median": ("Median of simulated paths", "模拟路径中位数"),
    "kind.subdistrict": ("Subdistrict", "街道"),
    "kind.town": ("Town", "镇"),
    "kind.xiang": ("Township (xiang)", "乡"),
    "kind.village": ("Administrative village", "行政村"),
    "kind.community": ("Urban community", "社区"),
    "level.city": ("City", "市"),
    "level.county": ("County", "县（市、区）"),
    "level.township": ("Township", "乡镇（街道）"),
    "level.village": ("Village", "村（社区）"),
    "yesno.yes": ("Yes", "是"),
    "yesno.no": ("No", "否"),
    "total": ("Total", "合计"),
    "other": ("Other", "其他"),
    "baseline": ("Baseline", "基准方案"),
    "scenario": ("Scenario", "方案"),
    # ---------------------------------------------------------------- table columns
    "col.year": ("Year", "年份"),
    "col.scenario": ("Scenario", "方案"),
    "col.county_code": ("County code", "县（市、区）代码"),
    "col.county": ("County", "县（市、区）"),
    "col.township_code": ("Township code", "乡镇（街道）代码"),
    "col.township": ("Township", "乡镇（街道）"),
    "col.village_code": ("Village code", "村（社区）代码"),
    "col.village": ("Village", "村（社区）"),
    "col.name": ("Name", "名称"),
    "col.name_zh": ("Name (Chinese)", "中文名称"),
    "col.name_en": ("Name (pinyin)", "拼音名称"),
    "col.kind": ("Type", "类型"),
    "col.urban": ("Urban", "城镇"),
    "col.synthetic": ("Synthetic", "合成数据"),
    "col.sex": ("Sex", "性别"),
    "col.age": ("Age [years]", "年龄（岁）"),
    "col.persons": ("Persons", "人数"),
    "col.population": ("Population [persons]", "人口（人）"),
    "col.aged_60plus": ("Aged 60+ [persons]", "60岁及以上（人）"),
    "col.women_15_49": ("Women 15–49 [persons]", "15—49岁妇女（人）"),
    "col.births": ("Births [persons]", "出生（人）"),
    "col.deaths": ("Deaths [persons]", "死亡（人）"),
    "col.net_migration": ("Net migration [persons]", "净迁移（人）"),
    "col.in_migrants": ("In-migrants [persons]", "流入人口（人）"),
    "col.population_counted": ("Population counted by the threshold rule [persons]", "按标准计数的人口（人）"),
    "col.at_or_above_threshold": ("At or above threshold", "达到人口标准"),
    "col.post": ("Post", "岗位"),
    "col.posts": ("Posts", "岗位数"),
    "col.level": ("Level", "层级"),
    "col.extra_posts": ("Additional posts", "增配岗位数"),
    "col.total_posts": ("Total posts", "岗位总数"),
    "col.county_posts": ("County posts", "县级岗位数"),
    "col.quantity_unit": ("Quantity unit", "数量单位"),
    "col.unit_cost_unit": ("Unit-cost unit", "单价单位"),
    "col.per_capita_yuan": ("Per person [yuan]", "人均（元）"),
    "col.line": ("Budget line", "预算项目"),
    "col.rule_path": ("Rule", "规则参数"),
    "col.reference": ("Reference", "依据"),
    "col.quantity": ("Quantity", "数量"),
    "col.unit": ("Unit", "单位"),
    "col.unit_cost_yuan": ("Unit cost [yuan]", "单价（元）"),
    "col.months": ("Months", "月数"),
    "col.assumption": ("Assumption", "假设"),
    "col.total": ("Total", "合计"),
    "col.year_total": ("Total of the year", "本年合计"),
    "col.amount_yuan": ("Amount [yuan]", "金额（元）"),
    "col.share_city": ("City share", "市级承担比例"),
    "col.share_county": ("County share", "县级承担比例"),
    "col.share_township": ("Township share", "乡镇承担比例"),
    "col.city_yuan": ("City [yuan]", "市级（元）"),
    "col.county_yuan": ("County [yuan]", "县级（元）"),
    "col.township_yuan": ("Township [yuan]", "乡镇（元）"),
    "col.hours": ("Workload [hours/year]", "工作量（小时/年）"),
    "col.available_hours": ("Available working time [hours/year]", "可用工作时间（小时/年）"),
    "col.required_staff": ("Required staff [persons]", "需要人数（人）"),
    "col.staff_in_post": ("Staff in post [persons]", "现有人数（人）"),
    "col.wisn_difference": ("WISN difference [persons]", "WISN差值（人）"),
    "col.wisn_ratio": ("WISN ratio", "WISN比值"),
    "col.path": ("Parameter", "参数"),
    "col.parameter": ("Parameter", "参数"),
    "col.description": ("Description", "说明"),
    "col.since": ("In force since", "生效日期"),
    "col.value": ("Value", "取值"),
    "col.low": ("Low", "下调"),
    "col.high": ("High", "上调"),
    "col.effect_yuan": ("Effect [yuan]", "影响（元）"),
    "col.variant": ("Variant", "方案"),
    "col.draw": ("Simulated path", "模拟路径"),
    "col.delta_yuan": ("Change [yuan]", "变化（元）"),
    "col.baseline_yuan": ("Baseline [yuan]", "基准方案（元）"),
    "col.scenario_yuan": ("Scenario [yuan]", "比较方案（元）"),
    # columns of Results.summary(), comparison and notebook tables
    "col.villages": ("Villages", "村（社区）数"),
    "col.villages_at_or_above_threshold": (
        "Villages at or above the threshold",
        "达到人口标准的行政村数",
    ),
    "col.village_vice_presidents": ("Village vice-presidents", "村专职副会长数"),
    "col.township_vice_presidents": ("Township vice-presidents", "乡镇专职副会长数"),
    "col.posts_per_10000": ("Posts per 10,000 persons", "每万人岗位数"),
    "col.people_without_village_vp": (
        "People in villages without a vice-president [persons]",
        "未配村专职副会长的村人口（人）",
    ),
    "col.villages_without_village_vp": (
        "Villages without a vice-president",
        "未配专职副会长的村数",
    ),
    "col.people_per_township_vp": (
        "Persons per township vice-president",
        "每名乡镇专职副会长服务人口（人）",
    ),
    "col.wisn_required_staff": ("Staff required (WISN) [persons]", "WISN需要人数（人）"),
    "col.townships_short_of_staff": ("Townships with WISN ratio < 1", "WISN比值小于1的乡镇数"),
    "col.budget_yuan": ("Budget [yuan]", "预算（元）"),
    "col.budget_per_capita_yuan": ("Budget per person [yuan]", "人均预算（元）"),
    "col.age_group": ("Age group", "年龄组"),
    "col.census": ("Census [persons]", "普查（人）"),
    "col.model": ("Model [persons]", "模型（人）"),
    "col.difference_pct": ("Difference [%]", "差异（%）"),
    "col.census_row": ("Census row used", "所用普查行"),
    "col.tfr_registered": ("TFR, registered", "总和生育率（户籍）"),
    "col.tfr_resident": ("TFR, resident", "总和生育率（常住）"),
    "col.ceb_census": ("Children ever born per woman 15-64, census", "15-64岁妇女平均活产子女数（普查）"),
    "col.e0_male": ("e0 male [years]", "男性预期寿命（岁）"),
    "col.e0_female": ("e0 female [years]", "女性预期寿命（岁）"),
    "col.e0_bounded": ("e0 at the band edge", "预期寿命取边界值"),
    "col.cbr_census_permille": ("Birth rate, census [‰]", "出生率，普查（‰）"),
    "col.cbr_fitted_permille": ("Birth rate, fitted [‰]", "出生率，拟合（‰）"),
    "col.cbr_projected_permille": ("Birth rate, projected [‰]", "出生率，预测（‰）"),
    "col.cdr_census_permille": ("Death rate, census [‰]", "死亡率，普查（‰）"),
    "col.cdr_fitted_permille": ("Death rate, fitted [‰]", "死亡率，拟合（‰）"),
    "col.cdr_projected_permille": ("Death rate, projected [‰]", "死亡率，预测（‰）"),
    "col.resident_migration_permille": ("Resident net migration [‰/year]", "常住人口净迁移率（‰/年）"),
    "col.migration_source": ("Source of the migration rate", "迁移率来源"),
    "col.census_resident": ("Census resident [persons]", "普查常住人口（人）"),
    "col.census_registered": ("Census registered [persons]", "普查户籍人口（人）"),
    "col.register_factor": ("Register ÷ census", "登记册÷普查"),
    "col.total_projected": ("Projected [persons]", "预测（人）"),
    "col.total_census": ("Census [persons]", "普查（人）"),
    "col.total_difference_pct": ("Difference [%]", "差异（%）"),
    "col.share_60plus_projected": ("60+ projected [%]", "60岁及以上，预测（%）"),
    "col.share_60plus_census": ("60+ census [%]", "60岁及以上，普查（%）"),
    "col.share_60plus_difference_pp": ("60+ difference [points]", "60岁及以上差异（百分点）"),
    "col.share_65plus_projected": ("65+ projected [%]", "65岁及以上，预测（%）"),
    "col.share_65plus_census": ("65+ census [%]", "65岁及以上，普查（%）"),
    "col.share_65plus_difference_pp": ("65+ difference [points]", "65岁及以上差异（百分点）"),
    "col.dissimilarity_pct": ("Dissimilarity index [%]", "相异指数（%）"),
    "col.resident_population": ("Resident population [persons]", "常住人口（人）"),
    "col.resident_aged_60plus": ("Resident aged 60+ [persons]", "常住60岁及以上（人）"),
    "col.change_pct": ("Change [%]", "变化（%）"),
    "col.townships": ("Townships", "乡镇（街道）数"),
    "col.mean_population": ("Mean population [persons]", "平均人口（人）"),
    "col.largest_population": ("Largest [persons]", "最大人口（人）"),
    "col.smallest_population": ("Smallest [persons]", "最小人口（人）"),
    "col.townships_absorbed": ("Townships merged in (2006)", "2006年并入乡镇数"),
    "col.component": ("Workload component", "工作量构成"),
    "col.volume": ("Annual volume", "年工作量"),
    "col.volume_unit": ("Volume unit", "工作量单位"),
    "col.standard_hours": ("Activity standard [hours/unit]", "活动标准（小时/单位）"),
    "col.share_pct": ("Share of workload [%]", "占工作量比例（%）"),
    "col.fte": ("Full-time equivalents", "全时当量"),
    "col.share_city_pct": ("City [%]", "市级（%）"),
    "col.share_county_pct": ("County [%]", "县级（%）"),
    "col.share_township_pct": ("Township [%]", "乡镇（%）"),
    "col.view": ("Township division", "区划"),
    "col.metric": ("Indicator", "指标"),
    "col.rank": ("Rank", "排序"),
    "col.budget_effect_low_yuan": ("Budget effect, lower [yuan]", "下调时预算变化（元）"),
    "col.budget_effect_high_yuan": ("Budget effect, higher [yuan]", "上调时预算变化（元）"),
    "col.staff_effect_low": ("Staff effect, lower [persons]", "下调时需要人数变化（人）"),
    "col.staff_effect_high": ("Staff effect, higher [persons]", "上调时需要人数变化（人）"),
    "col.variant_low": ("Low variant [persons]", "低方案（人）"),
    "col.variant_medium": ("Medium variant [persons]", "中方案（人）"),
    "col.variant_high": ("High variant [persons]", "高方案（人）"),
    "col.variant_constant": ("Constant rates [persons]", "不变方案（人）"),
    "col.q10": ("10th percentile [persons]", "第10百分位数（人）"),
    "col.q50": ("Median [persons]", "中位数（人）"),
    "col.q90": ("90th percentile [persons]", "第90百分位数（人）"),
    # ---------------------------------------------------------------- posts
    "post.county_president": ("County FPA president", "县计生协会长"),
    "post.county_vice_president": ("County full-time vice-president", "县计生协专职副会长"),
    "post.secretary_general": ("Secretary-general", "秘书长"),
    "post.secretariat_staff": ("Secretariat staff", "秘书处工作人员"),
    "post.township_vice_president": (
        "Township full-time vice-president",
        "乡镇计生协专职副会长",
    ),
    "post.village_vice_president": ("Village full-time vice-president", "村计生协专职副会长"),
    "post.migrant_association": ("Migrant FPA", "流动人口计生协"),
    "post.members": ("Members", "会员"),
    "post.volunteers": ("Volunteers", "志愿者"),
    # ---------------------------------------------------------------- budget lines
    "post.president": ("President", "会长"),
    "post.vice_president": ("Full-time vice-president", "专职副会长"),
    "budget.village_vp_allowance": ("Village vice-president allowances", "村专职副会长岗位津贴"),
    "budget.township_vp_allowance": ("Township FP post allowances", "乡镇计生岗位津贴"),
    "budget.county_posts": ("County FPA posts", "县计生协岗位"),
    "budget.county_vp_allowance": ("County vice-president allowances", "县计生协专职副会长津贴"),
    "budget.county_secretariat": ("County secretariat", "县计生协秘书处"),
    "budget.training": ("Training", "培训"),
    "budget.training_trainee_days": (
        "Training: trainees' board and materials",
        "培训：学员食宿资料费",
    ),
    "budget.training_batches": ("Training: venues and teachers", "培训：场地师资费"),
    "budget.activity_members_day": ("5.29 members' day", "“5.29”会员活动日"),
    "budget.activity_world_population_day": ("7.11 World Population Day", "“7.11”世界人口日"),
    "budget.activity_spring_festival": ("Spring Festival activities", "春节活动"),
    "budget.activity_slack_season": ("Slack farming season activities", "农闲时节活动"),
    "budget.members_day_village_events": ("5.29 members' day: villages", "“5.29”会员活动日（村）"),
    "budget.members_day_township_events": (
        "5.29 members' day: townships",
        "“5.29”会员活动日（乡镇）",
    ),
    "budget.world_population_day_village_events": (
        "7.11 World Population Day: villages",
        "“7.11”世界人口日（村）",
    ),
    "budget.world_population_day_township_events": (
        "7.11 World Population Day: townships",
        "“7.11”世界人口日（乡镇）",
    ),
    "budget.spring_festival_village_events": (
        "Spring Festival activities: villages",
        "春节活动（村）",
    ),
    "budget.spring_festival_township_events": (
        "Spring Festival activities: townships",
        "春节活动（乡镇）",
    ),
    "budget.slack_season_village_events": (
        "Slack season activities: villages",
        "农闲时节活动（村）",
    ),
    "budget.slack_season_township_events": (
        "Slack season activities: townships",
        "农闲时节活动（乡镇）",
    ),
    "budget.members_homes": ("Members' homes", "会员之家"),
    "budget.population_schools": ("Population schools", "人口学校"),
    "budget.harmonious_family": ("Harmonious family model households", "和谐家庭示范户评选"),
    "budget.harmonious_family_awards": ("Harmonious family awards", "和谐家庭示范户奖励"),
    "budget.re_elections": ("Re-elections", "换届"),
    "budget.reelection_county": ("Re-elections: county", "换届（县级）"),
    "budget.reelection_township": ("Re-elections: townships", "换届（乡镇）"),
    "budget.reelection_village": ("Re-elections: villages", "换届（村）"),
    "budget.reward_assistance": (
        "Reward and assistance for rural FP families",
        "农村部分计划生育家庭奖励扶助",
    ),
    "budget.shaoshengkuaifu": (
        "'Fewer births, faster prosperity' project",
        "“少生快富”项目",
    ),
    "budget.insurance": ("Family-planning insurance", "计划生育保险"),
    "budget.fp_insurance": ("Family-planning insurance premiums", "计划生育保险保费"),
    "budget.migrant_associations": ("Migrant FPAs", "流动人口计生协"),
    "budget.operating_costs": ("Operating costs", "工作经费"),
    # ---------------------------------------------------------------- funders
    "budget.county_association_operating": ("County FPA operating costs", "县计生协工作经费"),
    "budget.township_association_operating": ("Township FPA operating costs", "乡镇计生协工作经费"),
    "funder.city": ("City", "市级"),
    "funder.county": ("County", "县级"),
    "funder.township": ("Township", "乡镇"),
    "funder.split": ("Funding split", "经费分担"),
    # ---------------------------------------------------------------- WISN
    "wisn.title": ("Workload Indicators of Staffing Need (WISN)", "人员配置工作量指标（WISN）"),
    "wisn.available_working_time": ("Available working time", "可用工作时间"),
    "wisn.workload_component": ("Workload component", "工作量构成"),
    "wisn.activity_standard": ("Activity standard", "活动标准"),
    "wisn.standard_workload": ("Standard workload", "标准工作量"),
    "wisn.category_allowance": ("Category allowance", "类别补偿"),
    "wisn.individual_allowance": ("Individual allowance", "个人补偿"),
    "wisn.required_staff": ("Required staff", "需要人数"),
    "wisn.staff_in_post": ("Staff in post", "现有人数"),
    "wisn.wisn_difference": ("WISN difference", "WISN差值"),
    "wisn.wisn_ratio": ("WISN ratio", "WISN比值"),
    "wisn.shortfall": ("Shortfall (ratio below 1)", "人员不足（比值小于1）"),
    "wisn.adequate": ("Adequate (ratio 1 or more)", "人员充足（比值不小于1）"),
    "wisn.fte": ("Full-time equivalents", "全时当量"),
    # ---------------------------------------------------------------- levers
    # levers: every key assumption of the sensitivity ranking (compare.key_assumptions),
    # grouped by rulebook file; units as in the rulebook, en [..], zh （..）.
    # -- activities.yaml
    "param.activities.harmonious_family.households_per_village": (
        "Harmonious families per village [households/year]",
        "每村和谐家庭示范户（户/年）",
    ),
    "param.activities.members_home.share_of_villages": (
        "Share of villages with a members' home",
        "建有会员之家的村比例",
    ),
    "param.activities.population_school.share_of_villages": (
        "Share of villages with a population school",
        "建有人口学校的村比例",
    ),
    "param.activities.slack_season.events_per_year": (
        "Slack-season events per village [events/year]",
        "每村农闲时节活动（次/年）",
    ),
    # -- costs.yaml
    "param.costs.activities.harmonious_family.award_per_household": (
        "Harmonious family award [yuan/household]",
        "和谐家庭示范户奖励（元/户）",
    ),
    "param.costs.activities.members_day.township_event": (
        "Township 5.29 members' day cost [yuan/event]",
        "乡镇“5.29”会员活动日经费（元/次）",
    ),
    "param.costs.activities.members_day.village_event": (
        "Village 5.29 members' day cost [yuan/event]",
        "村“5.29”会员活动日经费（元/次）",
    ),
    "param.costs.activities.members_home.running_cost": (
        "Members' home running cost [yuan/year]",
        "会员之家运行经费（元/年）",
    ),
    "param.costs.activities.population_school.running_cost": (
        "Population school running cost [yuan/year]",
        "人口学校运行经费（元/年）",
    ),
    "param.costs.activities.slack_season.township_event": (
        "Township slack-season event cost [yuan/event]",
        "乡镇农闲时节活动经费（元/次）",
    ),
    "param.costs.activities.slack_season.village_event": (
        "Village slack-season event cost [yuan/event]",
        "村农闲时节活动经费（元/次）",
    ),
    "param.costs.activities.spring_festival.township_event": (
        "Township Spring Festival event cost [yuan/event]",
        "乡镇春节活动经费（元/次）",
    ),
    "param.costs.activities.spring_festival.village_event": (
        "Village Spring Festival event cost [yuan/event]",
        "村春节活动经费（元/次）",
    ),
    "param.costs.activities.world_population_day.township_event": (
        "Township 7.11 World Population Day cost [yuan/event]",
        "乡镇“7.11”世界人口日活动经费（元/次）",
    ),
    "param.costs.activities.world_population_day.village_event": (
        "Village 7.11 World Population Day cost [yuan/event]",
        "村“7.11”世界人口日活动经费（元/次）",
    ),
    "param.costs.county.secretariat_cost_per_staff": (
        "County secretariat cost per post [yuan/post/year]",
        "县计生协秘书处人员经费（元/人/年）",
    ),
    "param.costs.operating.county_association": (
        "County FPA operating costs [yuan/year]",
        "县计生协工作经费（元/年）",
    ),
    "param.costs.operating.migrant_association": (
        "Migrant FPA operating costs [yuan/year]",
        "流动人口计生协工作经费（元/年）",
    ),
    "param.costs.operating.township_association": (
        "Township FPA operating costs [yuan/year]",
        "乡镇计生协工作经费（元/年）",
    ),
    "param.costs.reelection.county": (
        "County FPA re-election cost [yuan/re-election]",
        "县计生协换届经费（元/次）",
    ),
    "param.costs.reelection.township": (
        "Township FPA re-election cost [yuan/re-election]",
        "乡镇计生协换届经费（元/次）",
    ),
    "param.costs.reelection.village": (
        "Village FPA re-election cost [yuan/re-election]",
        "村计生协换届经费（元/次）",
    ),
    "param.costs.training.per_batch": (
        "Training venue and teachers [yuan/batch]",
        "培训场地师资费（元/期）",
    ),
    "param.costs.training.per_trainee_day": (
        "Trainees' board and materials [yuan/trainee-day]",
        "培训学员食宿资料费（元/人·天）",
    ),
    # -- county.yaml
    "param.county.secretariat.staff": (
        "County secretariat full-time staff [posts]",
        "县计生协秘书处专职工作人员（名）",
    ),
    "param.county.vice_president.allowance": (
        "County vice-president allowance [yuan/month]",
        "县计生协专职副会长津贴（元/月）",
    ),
    # -- demography.yaml
    "param.demography.allocation.remote_differential": (
        "Extra growth of remote villages [1/year]",
        "偏远村附加增长率（1/年）",
    ),
    "param.demography.allocation.urban_differential": (
        "Extra growth of urban villages [1/year]",
        "城镇村、社区附加增长率（1/年）",
    ),
    "param.demography.allocation.rural_factor_60plus": (
        "Rural/urban ratio of the share aged 60+",
        "农村与城镇60岁及以上人口比例之比",
    ),
    "param.demography.allocation.rural_factor_births": (
        "Rural/urban ratio of the birth rate",
        "农村与城镇出生率之比",
    ),
    "param.demography.allocation.rural_factor_deaths": (
        "Rural/urban ratio of the death rate",
        "农村与城镇死亡率之比",
    ),
    "param.demography.allocation.rural_factor_women_15_49": (
        "Rural/urban ratio of the share of women 15–49",
        "农村与城镇15—49岁妇女比例之比",
    ),
    "param.demography.fertility.tfr": (
        "Total fertility rate [children/woman]",
        "总和生育率（个/妇女）",
    ),
    "param.demography.fertility.mean_age": (
        "Mean age at childbearing [years]",
        "平均生育年龄（岁）",
    ),
    "param.demography.fertility.sd_age": (
        "Spread of the age at childbearing [years]",
        "生育年龄标准差（岁）",
    ),
    "param.demography.mortality.e0_female": (
        "Female life expectancy at birth [years]",
        "女性出生预期寿命（岁）",
    ),
    "param.demography.mortality.e0_male": (
        "Male life expectancy at birth [years]",
        "男性出生预期寿命（岁）",
    ),
    "param.demography.mortality.e0_gain": (
        "Annual gain in life expectancy [years/year]",
        "出生预期寿命年增幅（岁/年）",
    ),
    "param.demography.fertility.policy.response": (
        "Response of fertility to the policy changes",
        "生育政策调整的生育响应系数",
    ),
    "param.demography.fertility.policy.selective_two_child_effect": (
        "TFR effect of the selective two-child policy [children/woman]",
        "单独两孩政策对总和生育率的影响（个/妇女）",
    ),
    "param.demography.fertility.policy.universal_two_child_effect": (
        "TFR effect of the universal two-child policy [children/woman]",
        "全面两孩政策对总和生育率的影响（个/妇女）",
    ),
    "param.demography.fertility.policy.three_child_effect": (
        "TFR effect of the three-child policy [children/woman]",
        "三孩政策对总和生育率的影响（个/妇女）",
    ),
    "param.demography.migration.resident_adjustment": (
        "Change of the resident net migration rate [‰/year]",
        "常住人口净迁移率调整（‰/年）",
    ),
    "param.demography.migration.net_rate": (
        "Net migration rate, registered [‰/year]",
        "户籍人口净迁移率（‰/年）",
    ),
    "param.demography.migration.male_share": (
        "Share of males among net migrants",
        "净迁移人口中男性比例",
    ),
    "param.demography.in_migrants.inflow_rate": (
        "In-migrant inflow rate [1/year]",
        "外来人口流入率（1/年）",
    ),
    "param.demography.in_migrants.outflow_rate": (
        "In-migrant outflow rate [1/year]",
        "外来人口流出率（1/年）",
    ),
    # -- insurance.yaml
    "param.insurance.insured_share_women_15_49": (
        "Share of women 15–49 with FP insurance",
        "15—49岁妇女计划生育保险参保率",
    ),
    "param.insurance.premium": (
        "FP insurance premium [yuan/person/year]",
        "计划生育保险保费（元/人/年）",
    ),
    # -- members.yaml
    "param.members.per_1000_population": (
        "FPA membership [members/1,000 persons]",
        "计生协会员数（人/千人）",
    ),
    "param.members.volunteers_per_village": (
        "Volunteers per village [persons]",
        "每村志愿者（人）",
    ),
    # -- migrants.yaml
    "param.migrants.association.in_migrants_per_association": (
        "In-migrants per migrant FPA [persons/association]",
        "每个流动人口计生协联系的外来人口（人/个）",
    ),
    "param.migrants.association.min_in_migrants": (
        "In-migrants needed for a migrant FPA [persons]",
        "建立流动人口计生协的外来人口下限（人）",
    ),
    "param.migrants.out_association.per_county": (
        "Out-migrant FPAs per county [associations]",
        "每县外出人口计生协（个）",
    ),
    # -- reward_assistance.yaml
    "param.reward_assistance.amount": (
        "Reward and assistance [yuan/person/year]",
        "奖励扶助金（元/人/年）",
    ),
    "param.reward_assistance.eligible_share": (
        "Reward and assistance eligibility, rural 60+",
        "农村60岁及以上人口中奖励扶助对象比例",
    ),
    # -- shaoshengkuaifu.yaml
    "param.shaoshengkuaifu.households_per_10000_rural": (
        "'Fewer births' households per 10,000 rural [households/year]",
        "每万农村人口“少生快富”扶助户（户/年）",
    ),
    "param.shaoshengkuaifu.support_per_household": (
        "'Fewer births' support [yuan/household]",
        "“少生快富”户均扶持资金（元/户）",
    ),
    # -- township.yaml
    "param.township.vice_president.post_allowance": (
        "Township post allowance [yuan/month]",
        "乡镇计生岗位津贴（元/月）",
    ),
    "param.township.vice_president.extra_post_above_population": (
        "Township size for an extra vice-president [persons]",
        "乡镇增配专职副会长的人口标准（人）",
    ),
    # -- training.yaml
    "param.training.batch_size": (
        "Trainees per training batch [persons/batch]",
        "每期培训人数（人/期）",
    ),
    "param.training.course_days": (
        "Length of a training course [days]",
        "每期培训天数（天）",
    ),
    # -- village.yaml
    "param.village.vice_president.allowance": (
        "Village vice-president allowance [yuan/month]",
        "村专职副会长岗位津贴（元/月）",
    ),
    "param.village.vice_president.population_threshold": (
        "Village population threshold [persons]",
        "行政村人口标准（人）",
    ),
    # -- workload.yaml (WISN; VP = full-time vice-president)
    "param.workload.county_secretariat.category_allowance.meetings_and_coordination": (
        "County FPA: meetings and coordination [%]",
        "县计生协会议协调类别补偿（%）",
    ),
    "param.workload.county_secretariat.category_allowance.reports_and_statistics": (
        "County FPA: statistics and reports [%]",
        "县计生协统计报表类别补偿（%）",
    ),
    "param.workload.county_secretariat.individual_allowance.accounts": (
        "County FPA: accounts [hours/year]",
        "县计生协财务记账（小时/年）",
    ),
    "param.workload.county_secretariat.individual_allowance.city_association_liaison": (
        "County FPA: city FPA liaison [hours/year]",
        "县计生协联系市计生协（小时/年）",
    ),
    "param.workload.county_secretariat.standards.health_education_session": (
        "County FPA: health education session [hours/session]",
        "县计生协生殖健康教育活动工时（小时/场）",
    ),
    "param.workload.county_secretariat.standards.members_day_event": (
        "County FPA: 5.29 members' day [hours/event]",
        "县计生协“5.29”会员活动日工时（小时/次）",
    ),
    "param.workload.county_secretariat.standards.migrant_association_support": (
        "County FPA: migrant FPA support [hours/association]",
        "县计生协指导流动人口计生协工时（小时/个）",
    ),
    "param.workload.county_secretariat.standards.reelection": (
        "County FPA: FPA re-election [hours/re-election]",
        "县计生协换届工时（小时/次）",
    ),
    "param.workload.county_secretariat.standards.reward_assistance_audit": (
        "County FPA: reward and assistance audit [hours/person]",
        "县计生协奖励扶助对象审核工时（小时/人）",
    ),
    "param.workload.county_secretariat.standards.shaoshengkuaifu_household": (
        "County FPA: 'fewer births' household [hours/household]",
        "县计生协“少生快富”项目户工时（小时/户）",
    ),
    "param.workload.county_secretariat.standards.slack_season_event": (
        "County FPA: slack-season event [hours/event]",
        "县计生协农闲时节活动工时（小时/次）",
    ),
    "param.workload.county_secretariat.standards.spring_festival_event": (
        "County FPA: Spring Festival event [hours/event]",
        "县计生协春节活动工时（小时/次）",
    ),
    "param.workload.county_secretariat.standards.township_reelection_supervision": (
        "County FPA: township re-elections [hours/re-election]",
        "县计生协指导乡镇计生协换届工时（小时/次）",
    ),
    "param.workload.county_secretariat.standards.township_supervision": (
        "County FPA: guiding a township FPA [hours/township]",
        "县计生协指导检查乡镇计生协工时（小时/个）",
    ),
    "param.workload.county_secretariat.standards.training_delivery": (
        "County FPA: running county training [hours/day]",
        "县计生协举办县级培训工时（小时/天）",
    ),
    "param.workload.county_secretariat.standards.world_population_day_event": (
        "County FPA: 7.11 World Population Day [hours/event]",
        "县计生协“7.11”世界人口日活动工时（小时/次）",
    ),
    "param.workload.county_secretariat.working_time.annual_leave": (
        "County FPA staff annual leave [days/year]",
        "县计生协秘书处人员年休假（天/年）",
    ),
    "param.workload.county_secretariat.working_time.other_leave": (
        "County FPA staff other leave [days/year]",
        "县计生协秘书处人员其他假期（天/年）",
    ),
    "param.workload.county_secretariat.working_time.sick_leave": (
        "County FPA staff sick leave [days/year]",
        "县计生协秘书处人员病假（天/年）",
    ),
    "param.workload.township_vice_president.category_allowance.meetings_and_coordination": (
        "Township VP: meetings and coordination [%]",
        "乡镇专职副会长会议协调类别补偿（%）",
    ),
    "param.workload.township_vice_president.category_allowance.reports_and_statistics": (
        "Township VP: statistics and reports [%]",
        "乡镇专职副会长统计报表类别补偿（%）",
    ),
    "param.workload.township_vice_president.individual_allowance.township_leadership_meetings": (
        "Township VP: leadership meetings [hours/year]",
        "乡镇专职副会长参加乡镇领导班子会（小时/年）",
    ),
    "param.workload.township_vice_president.standards.harmonious_family_selection": (
        "Township VP: harmonious family review [hours/household]",
        "乡镇专职副会长和谐家庭示范户评选工时（小时/户）",
    ),
    "param.workload.township_vice_president.standards.members_day_event": (
        "Township VP: 5.29 members' day [hours/event]",
        "乡镇专职副会长“5.29”会员活动日工时（小时/次）",
    ),
    "param.workload.township_vice_president.standards.members_home_and_school_supervision": (
        "Township VP: members' home/school guidance [hours/unit]",
        "乡镇专职副会长指导会员之家和人口学校工时（小时/个）",
    ),
    "param.workload.township_vice_president.standards.migrant_association_support": (
        "Township VP: migrant FPA support [hours/association]",
        "乡镇专职副会长指导流动人口计生协工时（小时/个）",
    ),
    "param.workload.township_vice_president.standards.migrant_service": (
        "Township VP: service per in-migrant [hours/person]",
        "乡镇专职副会长外来人口服务工时（小时/人）",
    ),
    "param.workload.township_vice_president.standards.reelection": (
        "Township VP: FPA re-election [hours/re-election]",
        "乡镇专职副会长换届工时（小时/次）",
    ),
    "param.workload.township_vice_president.standards.reward_assistance_review": (
        "Township VP: reward and assistance check [hours/person]",
        "乡镇专职副会长奖励扶助对象核实工时（小时/人）",
    ),
    "param.workload.township_vice_president.standards.shaoshengkuaifu_household": (
        "Township VP: 'fewer births' household [hours/household]",
        "乡镇专职副会长“少生快富”项目户工时（小时/户）",
    ),
    "param.workload.township_vice_president.standards.slack_season_event": (
        "Township VP: slack-season event [hours/event]",
        "乡镇专职副会长农闲时节活动工时（小时/次）",
    ),
    "param.workload.township_vice_president.standards.spring_festival_event": (
        "Township VP: Spring Festival event [hours/event]",
        "乡镇专职副会长春节活动工时（小时/次）",
    ),
    "param.workload.township_vice_president.standards.training_attendance": (
        "Township VP: attending county training [hours/day]",
        "乡镇专职副会长参加县级培训工时（小时/天）",
    ),
    "param.workload.township_vice_president.standards.training_delivery": (
        "Township VP: training village cadres [hours/day]",
        "乡镇专职副会长培训村级干部工时（小时/天）",
    ),
    "param.workload.township_vice_president.standards.village_reelection_supervision": (
        "Township VP: village re-elections [hours/re-election]",
        "乡镇专职副会长指导村计生协换届工时（小时/次）",
    ),
    "param.workload.township_vice_president.standards.village_supervision": (
        "Township VP: guiding a village FPA [hours/village]",
        "乡镇专职副会长指导检查村计生协工时（小时/个）",
    ),
    "param.workload.township_vice_president.standards.world_population_day_event": (
        "Township VP: 7.11 World Population Day [hours/event]",
        "乡镇专职副会长“7.11”世界人口日活动工时（小时/次）",
    ),
    "param.workload.township_vice_president.working_time.annual_leave": (
        "Township VP annual leave [days/year]",
        "乡镇专职副会长年休假（天/年）",
    ),
    "param.workload.township_vice_president.working_time.other_leave": (
        "Township VP other leave [days/year]",
        "乡镇专职副会长其他假期（天/年）",
    ),
    "param.workload.township_vice_president.working_time.sick_leave": (
        "Township VP sick leave [days/year]",
        "乡镇专职副会长病假（天/年）",
    ),
    "param.workload.village_vice_president.category_allowance.records_and_reports": (
        "Village VP: records and reports [%]",
        "村专职副会长台账报表类别补偿（%）",
    ),
    "param.workload.village_vice_president.category_allowance.township_meetings": (
        "Village VP: township meetings [%]",
        "村专职副会长参加乡镇会议类别补偿（%）",
    ),
    "param.workload.village_vice_president.individual_allowance.village_committee_liaison": (
        "Village VP: two-committee meetings [hours/year]",
        "村专职副会长参加村两委会议（小时/年）",
    ),
    "param.workload.village_vice_president.standards.harmonious_family_nomination": (
        "Village VP: harmonious family nomination [hours/household]",
        "村专职副会长和谐家庭示范户推荐工时（小时/户）",
    ),
    "param.workload.village_vice_president.standards.home_visit": (
        "Village VP: home visit [hours/visit]",
        "村专职副会长入户走访工时（小时/次）",
    ),
    "param.workload.village_vice_president.standards.members_day_event": (
        "Village VP: 5.29 members' day [hours/event]",
        "村专职副会长“5.29”会员活动日工时（小时/次）",
    ),
    "param.workload.village_vice_president.standards.members_home": (
        "Village VP: members' home [hours/home]",
        "村专职副会长会员之家工时（小时/个）",
    ),
    "param.workload.village_vice_president.standards.migrant_service": (
        "Village VP: service per in-migrant [hours/person]",
        "村专职副会长外来人口服务工时（小时/人）",
    ),
    "param.workload.village_vice_president.standards.population_school": (
        "Village VP: population school [hours/school]",
        "村专职副会长人口学校工时（小时/所）",
    ),
    "param.workload.village_vice_president.standards.reelection": (
        "Village VP: FPA re-election [hours/re-election]",
        "村专职副会长换届工时（小时/次）",
    ),
    "param.workload.village_vice_president.standards.reward_assistance_review": (
        "Village VP: reward and assistance review [hours/person]",
        "村专职副会长奖励扶助资格审查工时（小时/人）",
    ),
    "param.workload.village_vice_president.standards.self_governance_meeting": (
        "Village VP: self-governance meeting [hours/meeting]",
        "村专职副会长村民自治会议工时（小时/次）",
    ),
    "param.workload.village_vice_president.standards.slack_season_event": (
        "Village VP: slack-season event [hours/event]",
        "村专职副会长农闲时节活动工时（小时/次）",
    ),
    "param.workload.village_vice_president.standards.spring_festival_event": (
        "Village VP: Spring Festival event [hours/event]",
        "村专职副会长春节活动工时（小时/次）",
    ),
    "param.workload.village_vice_president.standards.training_attendance": (
        "Village VP: attending training [hours/day]",
        "村专职副会长参加培训工时（小时/天）",
    ),
    "param.workload.village_vice_president.standards.world_population_day_event": (
        "Village VP: 7.11 World Population Day [hours/event]",
        "村专职副会长“7.11”世界人口日活动工时（小时/次）",
    ),
    "param.workload.village_vice_president.working_time.hours_per_day": (
        "Village VP: FPA hours per working day [hours/day]",
        "村专职副会长每日从事协会工作时间（小时/天）",
    ),
    "param.workload.village_vice_president.working_time.other_leave": (
        "Village VP other leave [days/year]",
        "村专职副会长其他假期（天/年）",
    ),
    "param.workload.village_vice_president.working_time.sick_leave": (
        "Village VP sick leave [days/year]",
        "村专职副会长病假（天/年）",
    ),
    "param.workload.volumes.health_education_sessions_per_10000": (
        "Health education per 10,000 persons [sessions/year]",
        "每万人生殖健康教育活动（场/年）",
    ),
    "param.workload.volumes.home_visits_per_birth": (
        "Home visits per birth [visits/birth]",
        "每例出生入户走访（次/例）",
    ),
    "param.workload.volumes.home_visits_per_woman_15_49": (
        "Home visits per woman 15–49 [visits/person/year]",
        "每名15—49岁妇女入户走访（次/人/年）",
    ),
    "param.workload.volumes.self_governance_meetings_per_village": (
        "Self-governance meetings per village [meetings/year]",
        "每村计划生育村民自治会议（次/年）",
    ),
    # -- scenario keys
    "param.merge_target": ("Township merger target [persons]", "乡镇合并目标规模（人）"),
    "param.variant": ("Projection variant", "预测方案"),
    # ---------------------------------------------------------------- charts
    "chart.pyramid.title": (
        "Population by age and sex, {place}, {year}",
        "{place}{year}年人口金字塔",
    ),
    "chart.pyramid.x": ("Persons", "人数"),
    "chart.pyramid.y": ("Age [years]", "年龄（岁）"),
    "chart.pyramid.compare": ("Outline: {year}", "轮廓：{year}年"),
    "chart.fan.title": ("Projected population, {place}", "{place}人口预测"),
    "chart.fan.x": ("Year", "年份"),
    "chart.fan.y": ("Population [persons]", "人口（人）"),
    "chart.fan.band_10_90": ("10–90 % of simulated paths", "10%—90%模拟区间"),
    "chart.fan.band_25_75": ("25–75 % of simulated paths", "25%—75%模拟区间"),
    "chart.fan.median": ("Median", "中位数"),
    "chart.townships.title": (
        "Township populations before and after the 2006 adjustment",
        "2006年乡镇（街道）区划调整前后的乡镇人口",
    ),
    "chart.townships.before": ("Before ({n} townships)", "调整前（{n}个乡镇）"),
    "chart.townships.after": ("After ({n} townships)", "调整后（{n}个乡镇）"),
    "chart.townships.mean": ("Mean {value}", "平均{value}"),
    "chart.townships.x_rank": ("Townships, largest first", "乡镇（按人口从大到小）"),
    "chart.townships.x_hist": ("Township population [persons]", "乡镇人口（人）"),
    "chart.townships.y_hist": ("Number of townships", "乡镇个数"),
    "chart.townships.y": ("Population [persons]", "人口（人）"),
    "chart.budget.title": (
        "Budget by line item, {start_year}–{end_year}",
        "{start_year}—{end_year}年分项预算",
    ),
    "chart.budget.x": ("Year", "年份"),
    "chart.budget.y": ("Amount [thousand yuan]", "金额（万元）"),
    "chart.waterfall.title": (
        "From {baseline} to {scenario}, {year}",
        "{year}年预算：从{baseline}到{scenario}",
    ),
    "chart.waterfall.y": ("Amount [thousand yuan]", "金额（万元）"),
    "chart.waterfall.increase": ("Increase", "增加"),
    "chart.waterfall.decrease": ("Decrease", "减少"),
    "chart.tornado.title": ("Sensitivity of {outcome}", "{outcome}的敏感性分析"),
    "chart.tornado.x": ("Change in {outcome}", "{outcome}的变化"),
    "chart.tornado.low": ("Assumption −{pct} %", "假设下调{pct}%"),
    "chart.tornado.high": ("Assumption +{pct} %", "假设上调{pct}%"),
    "chart.heatmap.title": ("{value} by {x} and {y}", "{value}（按{x}和{y}）"),
    "chart.sweep_line.title": ("{value} by {x}", "{value}随{x}的变化"),
    "chart.wisn.title": ("WISN ratio by township, {year}", "{year}年各乡镇WISN比值"),
    "chart.wisn.x": ("Township", "乡镇（街道）"),
    "chart.wisn.y": ("WISN ratio (staff in post / required)", "WISN比值（现有人数/需要人数）"),
    "chart.wisn.line": ("Ratio 1: staff match the workload", "比值为1：人员与工作量相当"),
    "outcome.total_budget": ("total budget [yuan]", "预算总额（元）"),
    "outcome.posts": ("posts required", "所需岗位数"),
    "outcome.population": ("population", "人口"),
    # ---------------------------------------------------------------- notebooks: common
    "nb.common.parameters": ("Parameters used", "所用参数"),
    "nb.common.parameters_note": (
        "Every value in force in the years modelled, with its reference.",
        "模型年份内生效的全部参数及其依据。",
    ),
    "nb.common.scenario": ("Scenario: {title}", "方案：{title}"),
    "nb.common.generated": ("Generated {date} by qzfp {version}.", "qzfp {version}生成于{date}。"),
    "nb.common.register": (
        "Register: {source} ({n_villages} villages, reference year {year}).",
        "底册：{source}（{n_villages}个村（社区），基准年{year}年）。",
    ),
    "nb.common.synthetic_note": (
        "{n_synthetic} of {n_villages} villages are synthetic (no published village data); "
        "treat village-level results as illustrative.",
        "{n_villages}个村（社区）中有{n_synthetic}个为合成数据（无公开的村级数据），"
        "村级结果仅供示意。",
    ),
    # ---------------------------------------------------------------- notebook: explorer
    "nb.explore.title": ("Explore the levers", "参数探索"),
    "nb.explore.intro": (
        "Move a control: key figures, the chart and the budget table update at once.",
        "调整任一控件，关键指标、图表和预算表即时更新。",
    ),
    "nb.explore.county_filter": ("County", "县（市、区）"),
    "nb.explore.all_counties": ("Whole city", "全市"),
    "nb.explore.year": ("Year", "年份"),
    "nb.explore.save": ("Save as scenario", "另存为方案"),
    "nb.explore.saved": ("Saved scenario to {path}.", "方案已保存至{path}。"),
    "nb.explore.key_figures": (
        "{year}: {posts} posts, {required_staff} staff required, budget {budget}.",
        "{year}年：岗位{posts}个，需要人员{required_staff}人，预算{budget}。",
    ),
    # ---------------------------------------------------------------- notebook: population
    "nb.population.title": (
        "Population projection, {start_year}–{end_year}",
        "人口预测（{start_year}—{end_year}年）",
    ),
    "nb.population.intro": (
        "Projection of {n_counties} counties, {n_townships} townships and {n_villages} villages "
        "from {start_year} to {end_year}, {variant} variant.",
        "按{variant}预测{start_year}—{end_year}年全市{n_counties}个县（市、区）、"
        "{n_townships}个乡镇（街道）、{n_villages}个村（社区）的人口。",
    ),
    "nb.population.h_city": ("The city", "全市"),
    "nb.population.h_counties": ("Counties", "各县（市、区）"),
    "nb.population.h_townships": ("Townships", "各乡镇（街道）"),
    "nb.population.h_pyramid": ("Age structure", "年龄结构"),
    "nb.population.h_uncertainty": ("Uncertainty", "不确定性"),
    "nb.population.summary": (
        "The population changes from {pop_start} in {start_year} to {pop_end} in {end_year} "
        "({change_pct}).",
        "全市人口由{start_year}年的{pop_start}变为{end_year}年的{pop_end}（{change_pct}）。",
    ),
    "nb.population.aged": (
        "People aged 60 and over: {aged_start} in {start_year}, {aged_end} in {end_year}.",
        "60岁及以上人口：{start_year}年{aged_start}，{end_year}年{aged_end}。",
    ),
    "nb.population.uncertainty": (
        "In 80 % of {n_paths} simulated paths the {year} population lies between {p10} and {p90}.",
        "{n_paths}条模拟路径中，80%的路径显示{year}年人口在{p10}至{p90}之间。",
    ),
    "nb.population.threshold": (
        "{n_above} villages have {threshold} or more people in {year} "
        "({change} compared with {start_year}).",
        "{year}年人口在{threshold}人以上（含）的行政村有{n_above}个（比{start_year}年{change}）。",
    ),
    "nb.population.example_register": (
        "the example register of Quzhou packaged with qzfp",
        "qzfp内置的衢州市示例底册",
    ),
    "nb.population.counties_note": (
        "Population of each county on 1 January, {start_year}–{end_year}, and the change over "
        "the period.",
        "各县（市、区）{start_year}—{end_year}年1月1日人口及期间变化。",
    ),
    "nb.population.pyramid_note": (
        "Bars: {start_year}; dashed outline: {end_year}. The share of people aged 60 and over in "
        "the city goes from {share_start} to {share_end}.",
        "柱形为{start_year}年，虚线轮廓为{end_year}年。全市60岁及以上人口比重由{share_start}"
        "变为{share_end}。",
    ),
    "nb.population.variants_note": (
        "The lines show the deterministic variants (low, medium, high fertility and constant "
        "rates); the bands show the spread of the simulated paths around the scenario's variant.",
        "折线为确定性方案（低、中、高生育率方案和不变方案）；阴影为围绕本方案的模拟路径分布区间。",
    ),
    "nb.population.no_paths": (
        "No simulated paths (mc_paths = 0): only the variants are shown.",
        "未做随机模拟（mc_paths = 0），仅显示各预测方案。",
    ),
    "nb.population.townships_note": (
        "In {year} the {n_townships} townships have {mean} on average; the largest has {largest}. "
        "{n_big} townships have {big} or more.",
        "{year}年{n_townships}个乡镇（街道）平均人口{mean}，最大的{largest}；"
        "人口在{big}以上（含）的有{n_big}个。",
    ),
    "nb.population.largest_townships": (
        "The {n} largest townships in {year}",
        "{year}年人口最多的{n}个乡镇（街道）",
    ),
    "nb.population.h_threshold": (
        "Villages crossing the staffing threshold",
        "跨越配备标准的行政村",
    ),
    "nb.population.crossing": (
        "From {start_year} to {end_year}, {n_down} villages fall below the threshold and {n_up} "
        "rise above it.",
        "{start_year}—{end_year}年，有{n_down}个村人口降至标准以下，{n_up}个村升至标准以上。",
    ),
    "nb.population.threshold_caption": (
        "Villages at or above the threshold, by county and year",
        "各县（市、区）逐年达到人口标准的行政村数",
    ),
    "nb.population.h_adjustment": (
        "The 2006 township adjustment",
        "2006年乡镇（街道）区划调整",
    ),
    "nb.population.adjustment": (
        "The 2006 adjustment reduced the number of townships from {n_before} to {n_after}; the "
        "mean township population rose from {mean_before} to {mean_after} and the largest "
        "township from {max_before} to {max_after}.",
        "2006年区划调整后，乡镇（街道）由{n_before}个减为{n_after}个；乡镇平均人口由"
        "{mean_before}增至{mean_after}，最大乡镇人口由{max_before}增至{max_after}。",
    ),
    "nb.population.adjustment_unavailable": (
        "The before/after comparison needs the packaged example register, which holds the "
        "townships before and after 2006; this scenario uses its own register.",
        "调整前后的比较需要内置示例底册（含2006年调整前后的乡镇）；本方案使用自定义底册。",
    ),
    "nb.population.h_quality": ("How good is this projection", "预测的可靠性"),
    "nb.population.quality_intro": (
        "The base population is the census ({census_date}, {census_rows}) moved to 1 January "
        "{start_year} by the model's own births, deaths and migration. Below: that base "
        "projected forward again to the census moment against the census, by sex and age "
        "group (city); the rates fitted to each county's census row; and, when the scenario "
        "names a later census (census_check), the projection against it.",
        "基础人口取自人口普查（{census_date}，{census_rows}），以模型自身的出生、死亡和迁移推算到"
        "{start_year}年1月1日。下表依次为：该基础人口再向前推算到普查时点与普查的比较（全市，"
        "按性别和年龄组）；各县按普查拟合的生育、死亡和迁移；以及方案指定后一次普查"
        "（census_check）时预测与普查的比较。",
    ),
    "nb.population.quality_base": (
        "Model against the census at the census moment, city",
        "普查时点模型与普查对比（全市）",
    ),
    "nb.population.quality_base_na": (
        "The census moment ({census_date}) is outside the projected years; the base cannot "
        "be compared with it here.",
        "普查时点（{census_date}）不在预测年份内，此处无法比较。",
    ),
    "nb.population.quality_rates": (
        "Fitted rates by county. Births are estimated by reverse survival of the children "
        "aged 1–4 (the census under-counts infants and census-year births); life expectancy "
        "is fitted to the census death rate within {e0_min:g}–{e0_max:g} years.",
        "各县拟合结果。出生数按普查1–4岁儿童反推（普查对婴儿和普查年度出生存在漏报）；"
        "预期寿命按普查死亡率拟合，限定在{e0_min:g}–{e0_max:g}岁之间。",
    ),
    "nb.population.quality_check": (
        "Resident projection against the later census of {check_date}.",
        "常住人口预测与{check_date}人口普查的比较。",
    ),
    "nb.population.quality_nocheck": (
        "No later census is named (scenario key census_check).",
        "方案未指定后一次人口普查（census_check）。",
    ),
    "nb.population.note_no_province_rows": (
        "The census table has no province rows: the national age structure that places the "
        "registered people living elsewhere is taken from the shipped 2010 census.",
        "普查表没有省级行：用于估计外出户籍人口年龄结构的全国年龄结构取自随附的2010年人口普查。",
    ),
    "nb.population.note_no_earlier_census": (
        "No earlier census goes with this census table: the resident net migration is 0 plus "
        "the scenario's adjustment.",
        "此普查表没有前一次普查数据：常住人口净迁移率取0加方案的调整值。",
    ),
    "nb.population.note_far_from_census": (
        "The projection starts more than ten years from the census: its base population is "
        "mostly the model's projection of the census, not the census itself.",
        "预测起点距人口普查超过十年：基础人口主要是模型对普查人口的推算，而非普查本身。",
    ),
    "nb.population.quality_notes": (
        "Census table notes: {notes}",
        "普查表说明：{notes}",
    ),
    "nb.population.view_pre2006": ("Before 2006", "2006年调整前"),
    "nb.population.view_2006": ("After the 2006 adjustment", "2006年调整后"),
    "nb.population.view_scenario": ("This scenario", "本方案"),
    # ---------------------------------------------------------------- notebook: staffing
    "nb.staffing.title": ("Association posts required by the rules", "按规定应配备的计生协岗位"),
    "nb.staffing.intro": (
        "Every village of {threshold} or more people has one full-time vice-president, every "
        "township one, every county a president, a full-time vice-president and a secretariat.",
        "{threshold}人口以上的行政村选配一名专职副会长；每个乡镇（街道）明确一名专职副会长；"
        "各县（市、区）配好会长、专职副会长和秘书处工作人员。",
    ),
    "nb.staffing.h_posts": ("Posts by level", "各级岗位"),
    "nb.staffing.h_villages": ("Villages at or above the threshold", "达到人口标准的行政村"),
    "nb.staffing.summary": (
        "In {year} the rules require {total} posts: {village} village vice-presidents, "
        "{township} township vice-presidents and {county} county posts.",
        "{year}年按规定共需{total}个岗位：村专职副会长{village}个，"
        "乡镇专职副会长{township}个，县级岗位{county}个。",
    ),
    "nb.staffing.h_ratios": ("Staffing ratios", "配备比例"),
    "nb.staffing.ratios": (
        "In {year} there are {per_10000} association posts per 10,000 people; a township "
        "vice-president serves {people_per_tvp} on average. {villages_without} villages under "
        "{threshold} people, with {people_without} in all, have no village vice-president.",
        "{year}年每万人有计生协岗位{per_10000}个；每名乡镇专职副会长平均服务{people_per_tvp}。"
        "人口不足{threshold}人的{villages_without}个村（共{people_without}）未配村专职副会长。",
    ),
    "nb.staffing.ratios_city_caption": ("The city, by year", "全市逐年情况"),
    "nb.staffing.ratios_county_caption": ("Counties in {year}", "{year}年各县（市、区）情况"),
    # ---------------------------------------------------------------- notebook: workload
    "nb.workload.title": ("Workload and staffing need (WISN)", "工作量与人员需求（WISN）"),
    "nb.workload.intro": (
        "The WISN ratio is staff in post divided by staff required; below 1 the posts cannot "
        "carry the workload.",
        "WISN比值为现有人数除以需要人数；比值小于1表示现有人员难以承担工作量。",
    ),
    "nb.workload.h_townships": ("Townships", "各乡镇（街道）"),
    "nb.workload.h_components": ("Workload components", "工作量构成"),
    "nb.workload.summary": (
        "In {year}, {n_short} of {n_townships} townships fall short; together they need "
        "{gap} more full-time equivalents.",
        "{year}年，{n_townships}个乡镇（街道）中有{n_short}个人员不足，合计还需{gap}个全时当量。",
    ),
    "nb.workload.cadres_caption": (
        "Staff required and in post by cadre, {year}",
        "{year}年各类人员需要人数与现有人数",
    ),
    "nb.workload.h_short": ("Where staff are short", "人员不足的乡镇"),
    "nb.workload.short_note": (
        "{n_short} townships have a WISN ratio below 1 in {year}, the largest first; "
        "{n_merged} of them absorbed other townships in the 2006 adjustment.",
        "{year}年WISN比值小于1的乡镇（街道）有{n_short}个（按人口从大到小排列），"
        "其中{n_merged}个在2006年区划调整中并入了其他乡镇。",
    ),
    "nb.workload.villages_short": (
        "In {year}, the workload of {n_short} of the {n_villages} village vice-presidents exceeds "
        "the time their post provides.",
        "{year}年{n_villages}名村专职副会长中，有{n_short}名的工作量超过岗位可用时间。",
    ),
    "nb.workload.components_note": (
        "The largest workload component of the {post} in {year} is {component} ({share} of "
        "the hours).",
        "{year}年{post}工作量中占比最大的是{component}（占{share}）。",
    ),
    "nb.workload.component.members_day_event": ("5.29 members' day events", "“5.29”会员活动日活动"),
    "nb.workload.component.world_population_day_event": ("7.11 World Population Day events", "“7.11”世界人口日活动"),
    "nb.workload.component.spring_festival_event": ("Spring Festival activities", "春节活动"),
    "nb.workload.component.slack_season_event": ("Slack season activities", "农闲时节活动"),
    "nb.workload.component.members_home": ("Members' homes", "会员之家"),
    "nb.workload.component.population_school": ("Population schools", "人口学校"),
    "nb.workload.component.harmonious_family_nomination": ("Nominating harmonious families", "推荐和谐家庭示范户"),
    "nb.workload.component.home_visit": ("Home visits", "入户走访"),
    "nb.workload.component.reward_assistance_review": ("Reviewing reward and assistance cases", "审核奖励扶助对象"),
    "nb.workload.component.migrant_service": ("Services to migrants", "流动人口服务"),
    "nb.workload.component.self_governance_meeting": ("Villagers' self-governance meetings", "村民自治会议"),
    "nb.workload.component.reelection": ("Re-elections", "换届选举"),
    "nb.workload.component.training_attendance": ("Attending training", "参加培训"),
    "nb.workload.component.village_supervision": ("Guiding villages", "指导村级工作"),
    "nb.workload.component.members_home_and_school_supervision": ("Guiding members' homes and population schools", "指导会员之家和人口学校"),
    "nb.workload.component.harmonious_family_selection": ("Selecting harmonious families", "评选和谐家庭示范户"),
    "nb.workload.component.migrant_association_support": ("Supporting migrant FPAs", "指导流动人口计生协"),
    "nb.workload.component.shaoshengkuaifu_household": ("'Fewer births, faster prosperity' households", "“少生快富”户帮扶"),
    "nb.workload.component.village_reelection_supervision": ("Guiding village re-elections", "指导村级换届"),
    "nb.workload.component.training_delivery": ("Delivering training", "组织培训"),
    "nb.workload.component.township_supervision": ("Guiding townships", "指导乡镇工作"),
    "nb.workload.component.reward_assistance_audit": ("Auditing reward and assistance", "核查奖励扶助"),
    "nb.workload.component.township_reelection_supervision": ("Guiding township re-elections", "指导乡镇换届"),
    "nb.workload.component.health_education_session": ("Health education sessions", "健康教育活动"),
    # ---------------------------------------------------------------- notebook: budget
    "nb.budget.title": ("Budget", "经费预算"),
    "nb.budget.intro": (
        "Each line of the budget carries the rule and the reference it comes from.",
        "预算的每一项都注明所依据的规则和文件。",
    ),
    "nb.budget.h_lines": ("Budget by line item", "分项预算"),
    "nb.budget.h_funders": ("Who pays", "经费分担"),
    "nb.budget.h_table": ("Budget table", "预算明细表"),
    "nb.budget.summary": (
        "The budget for {year} totals {total}; the largest line is {top_line} ({top_share} of "
        "the total).",
        "{year}年预算合计{total}，其中最大一项为{top_line}（占{top_share}）。",
    ),
    "nb.budget.period": (
        "Over {start_year}–{end_year} the budget totals {total}.",
        "{start_year}—{end_year}年预算累计{total}。",
    ),
    "nb.budget.funders": (
        "Funding split in {year}: city {city}, counties {county}, townships {township}.",
        "{year}年经费分担：市级{city}，县级{county}，乡镇{township}。",
    ),
    "nb.budget.lines_caption": (
        "Budget by line item and year [yuan]",
        "分项逐年预算（元）",
    ),
    "nb.budget.h_counties": ("Budget by county", "各县（市、区）预算"),
    "nb.budget.counties_note": (
        "In {year} the largest county budget is {county}'s: {amount}.",
        "{year}年预算最多的是{county}：{amount}。",
    ),
    "nb.budget.counties_caption": (
        "Budget by county and year [yuan]",
        "各县（市、区）逐年预算（元）",
    ),
    "nb.budget.h_per_capita": ("Budget per person", "人均预算"),
    "nb.budget.per_capita_note": (
        "Per resident, the budget goes from {first} in {start_year} to {last} in {end_year}.",
        "按常住人口计，人均预算由{start_year}年的{first}变为{end_year}年的{last}。",
    ),
    "nb.budget.per_capita_caption": (
        "Budget per person by county and year [yuan]",
        "各县（市、区）逐年人均预算（元）",
    ),
    "nb.budget.funders_caption": (
        "Funding by level of government and year [yuan]",
        "各级财政逐年分担（元）",
    ),
    "nb.budget.split_caption": (
        "Funding split of each line item, {year}",
        "{year}年各预算项目经费分担比例",
    ),
    "nb.budget.basis_note": (
        "Line items of {year} for the whole city: quantity × unit cost = amount, with the rule "
        "and the document each comes from. The budget workbook (budget.xlsx) gives every year "
        "and every county.",
        "{year}年全市各预算项目：数量×单价=金额，并注明所依据的规则和文件。"
        "预算工作簿（budget.xlsx）列出各年度、各县（市、区）的明细。",
    ),
    # ---------------------------------------------------------------- notebook: comparison
    "nb.compare.title": ("Comparison of scenarios", "方案比较"),
    "nb.compare.intro": (
        "Scenarios compared with {baseline}.",
        "各方案与{baseline}的比较。",
    ),
    "nb.compare.h_waterfall": ("What changes the budget", "预算变化的来源"),
    "nb.compare.h_sensitivity": ("Sensitivity", "敏感性分析"),
    "nb.compare.h_sweep": ("Sweep of two levers", "双参数扫描"),
    "nb.compare.h_sweep_n": ("Sweep of {n} lever(s) ({names})", "{n}个参数扫描（{names}）"),
    "nb.compare.delta": (
        "Compared with {baseline}, {scenario} changes the {year} budget by {delta} ({delta_pct}).",
        "与{baseline}相比，{scenario}使{year}年预算变化{delta}（{delta_pct}）。",
    ),
    "nb.compare.sensitivity": (
        "A change of ±{pct} % in {top_param} moves the {year} budget the most: {low} / {high}.",
        "{top_param}变动±{pct}%对{year}年预算影响最大：{low}／{high}。",
    ),
    "nb.compare.default_choice": (
        "No scenarios were named in compare_with, so this page compares {names}: the baseline "
        "{baseline} (the base of every difference), this scenario and the other scenario files "
        "of params/, all over {start_year}–{end_year}. Files that model the same as one already "
        "listed are left out.",
        "compare_with未指定比较方案，本页比较{names}：以基准方案{baseline}为比较基础，"
        "包括本方案和params/中的其他方案文件，比较期均为{start_year}—{end_year}年。"
        "与已列方案测算内容相同的文件不重复列出。",
    ),
    "nb.compare.chosen": (
        "This page compares {names}; differences are taken against {scenario}, over "
        "{start_year}–{end_year}.",
        "本页比较{names}，以{scenario}为比较基础，比较期为{start_year}—{end_year}年。",
    ),
    "nb.compare.h_side": ("Key figures side by side", "关键指标对比"),
    "nb.compare.side_caption": ("Key figures in {year}", "{year}年关键指标"),
    "nb.compare.h_differences": ("Differences", "差异"),
    "nb.compare.diff_caption": (
        "Differences against {baseline} in {year}",
        "{year}年与{baseline}的差异",
    ),
    "nb.compare.lines_caption": (
        "Budget {start_year}–{end_year} by line: {baseline} and the difference of each scenario "
        "[yuan]",
        "{start_year}—{end_year}年分项预算：{baseline}及各方案的差额（元）",
    ),
    "nb.compare.no_budget_change": (
        "{scenario} leaves the {year} budget of {baseline} unchanged.",
        "{scenario}与{baseline}的{year}年预算相同。",
    ),
    "nb.compare.single": (
        "Only one scenario: name others in compare_with to compare them.",
        "仅有一个方案：请在compare_with中指定要比较的方案。",
    ),
    "nb.compare.no_sensitivity": (
        "No sensitivity ranking (sensitivity_pct must be between 0 and 100).",
        "未做敏感性分析（sensitivity_pct应在0到100之间）。",
    ),
    "nb.compare.sensitivity_note": (
        "Each of {n} assumptions and rules is moved alone, the others kept; the chart shows "
        "the change of the total budget {start_year}–{end_year} for the largest effects.",
        "每次只调整{n}项假设和规则中的一项，其余不变；图中列出对{start_year}—{end_year}年"
        "预算总额影响最大的各项。",
    ),
    "nb.compare.sweep_note": (
        "{n} combinations of {x} and {y}, each applied in every year {start_year}–{end_year}, "
        "other rules as in this scenario.",
        "{x}与{y}的{n}种组合，各自适用于{start_year}—{end_year}年的每一年，其余规则同本方案。",
    ),
    "nb.compare.sweep_budget": (
        "Budget {start_year}–{end_year}, {unit}",
        "{start_year}—{end_year}年预算，{unit}",
    ),
    "nb.compare.sweep_posts": (
        "Village vice-presidents in {year}",
        "{year}年村专职副会长数",
    ),
    # ---------------------------------------------------------------- workbook sheets
    # ---------------------------------------------------------------- units (rulebook and budget)
    "unit.1/year": ("1/year", "1/年"),
    "unit.association": ("association", "个协会"),
    "unit.bool": ("bool", "是/否"),
    "unit.boys/100 girls": ("boys/100 girls", "男婴/100女婴"),
    "unit.child/woman": ("child/woman", "孩子/妇女"),
    "unit.day": ("day", "天"),
    "unit.day/year": ("day/year", "天/年"),
    "unit.event/year": ("event/year", "次活动/年"),
    "unit.hour/association": ("hour/association", "小时/协会"),
    "unit.hour/day": ("hour/day", "小时/天"),
    "unit.hour/event": ("hour/event", "小时/次活动"),
    "unit.hour/home": ("hour/home", "小时/会员之家"),
    "unit.hour/household": ("hour/household", "小时/户"),
    "unit.hour/meeting": ("hour/meeting", "小时/次会议"),
    "unit.hour/person": ("hour/person", "小时/人"),
    "unit.hour/re-election": ("hour/re-election", "小时/次换届"),
    "unit.hour/school": ("hour/school", "小时/人口学校"),
    "unit.hour/session": ("hour/session", "小时/次"),
    "unit.hour/township": ("hour/township", "小时/乡镇"),
    "unit.hour/unit": ("hour/unit", "小时/单位"),
    "unit.hour/village": ("hour/village", "小时/村"),
    "unit.hour/visit": ("hour/visit", "小时/次走访"),
    "unit.hour/year": ("hour/year", "小时/年"),
    "unit.household/year": ("household/year", "户/年"),
    "unit.meeting/year": ("meeting/year", "次会议/年"),
    "unit.member/1000 person": ("member/1000 person", "会员/千人"),
    "unit.per mille/year": ("per mille/year", "‰/年"),
    "unit.percent": ("percent", "百分比"),
    "unit.person": ("person", "人"),
    "unit.person/association": ("person/association", "人/协会"),
    "unit.person/batch": ("person/batch", "人/期"),
    "unit.post": ("post", "岗位"),
    "unit.ratio": ("ratio", "比值"),
    "unit.session/year": ("session/year", "次/年"),
    "unit.share": ("share", "比例"),
    "unit.visit/birth": ("visit/birth", "次走访/出生"),
    "unit.visit/person/year": ("visit/person/year", "次走访/人/年"),
    "unit.year": ("year", "年"),
    "unit.year/year": ("year/year", "年/年"),
    "unit.yuan/batch": ("yuan/batch", "元/期"),
    "unit.yuan/event": ("yuan/event", "元/次活动"),
    "unit.yuan/household": ("yuan/household", "元/户"),
    "unit.yuan/month": ("yuan/month", "元/月"),
    "unit.yuan/person/year": ("yuan/person/year", "元/人/年"),
    "unit.yuan/post/year": ("yuan/post/year", "元/岗位/年"),
    "unit.yuan/re-election": ("yuan/re-election", "元/次换届"),
    "unit.yuan/trainee-day": ("yuan/trainee-day", "元/人天"),
    "unit.yuan/year": ("yuan/year", "元/年"),
    "unit.event": ("event", "次活动"),
    "unit.household": ("household", "户"),
    "unit.home": ("home", "个会员之家"),
    "unit.school": ("school", "所人口学校"),
    "unit.re-election": ("re-election", "次换届"),
    "unit.batch": ("batch", "期"),
    "unit.trainee-day": ("trainee-day", "人天"),
    "unit.course day": ("course day", "培训日"),
    "unit.eligible person": ("eligible person", "符合条件者"),
    "unit.home or school": ("home or school", "会员之家或人口学校"),
    "unit.in-migrant": ("in-migrant", "流入人口"),
    "unit.meeting": ("meeting", "次会议"),
    "unit.session": ("session", "次"),
    "unit.township": ("township", "乡镇"),
    "unit.township re-election": ("township re-election", "次乡镇换届"),
    "unit.village": ("village", "村"),
    "unit.village re-election": ("village re-election", "次村换届"),
    "unit.visit": ("visit", "次走访"),
    "sheet.summary": ("Summary", "汇总"),
    "sheet.line_items": ("Line items", "预算项目明细"),
    "sheet.assumptions": ("Rules and assumptions", "规则与假设"),
    "sheet.by_year": ("Budget by year", "分年度预算"),
    "sheet.budget": ("Budget", "预算明细"),
    "sheet.budget_by_line": ("Budget by line", "分项预算"),
    "sheet.funders": ("Funding split", "经费分担"),
    "sheet.posts": ("Posts", "岗位"),
    "sheet.workload": ("Workload (WISN)", "工作量（WISN）"),
    "sheet.population": ("Population", "人口"),
    "sheet.counties": ("Counties", "县（市、区）"),
    "sheet.townships": ("Townships", "乡镇（街道）"),
    "sheet.villages": ("Villages", "村（社区）"),
    "sheet.parameters": ("Parameters", "参数"),
    "sheet.sensitivity": ("Sensitivity", "敏感性"),
    "sheet.comparison": ("Comparison", "方案比较"),
    "sheet.run": ("Run", "运行信息"),
    "sheet.title": ("{title} — budget workbook", "{title}——预算工作簿"),
    # ---------------------------------------------------------------- index pages
    "index.title": ("qzfp reports", "衢州市计生协规划测算报告"),
    "index.scenario_title": ("Scenario {name}", "方案：{name}"),
    "index.scenarios": ("Scenarios", "方案列表"),
    "index.key_figures": ("Key figures", "关键指标"),
    "index.pages": ("Pages", "报告页面"),
    "index.downloads": ("Downloads", "下载"),
    "index.workbook": ("Budget workbook (Excel)", "预算工作簿（Excel）"),
    "index.tables": ("Result tables (CSV)", "结果数据表（CSV）"),
    "index.run_record": ("Run record (run.json)", "运行记录（run.json）"),
    "index.generated": ("Generated {date} by qzfp {version}", "qzfp {version}生成于{date}"),
    "index.no_reports": (
        "No reports yet. Run `qzfp run params/baseline.yaml`.",
        "尚无报告。请运行 `qzfp run params/baseline.yaml`。",
    ),
    "index.description": ("Description", "说明"),
    "index.files": ("Data files", "数据文件"),
    "index.run": ("Run", "运行信息"),
    "index.scenario": ("Scenario", "方案"),
    "index.generated_at": ("Generated", "生成时间"),
    "index.version": ("qzfp version", "qzfp 版本"),
    "index.scenario_sha256": ("Scenario SHA-256", "方案 SHA-256"),
    "index.register_sha256": ("Register SHA-256", "底册 SHA-256"),
    "index.duration": ("Duration", "用时"),
    "index.report": ("report", "报告"),
    "index.none": ("none", "无"),
    "index.back": ("All scenarios", "返回方案列表"),
    "index.scenario_home": ("Scenario overview", "方案概览"),
    "index.contents": ("Contents", "目录"),
    "index.pdf": ("Printable report (PDF)", "可打印报告（PDF）"),
    "index.pdf_missing": (
        "note: report.pdf not written: {reason}; the rest of the report is complete",
        "提示：未生成 report.pdf（{reason}）；报告其余部分已完整生成",
    ),
    "index.no_chromium": (
        "Chromium is not installed (Debian: apt-get install chromium; or set QZFP_CHROMIUM)",
        "未安装 Chromium（Debian：apt-get install chromium；或设置 QZFP_CHROMIUM）",
    ),
    "index.page.explore": ("Explorer", "参数探索"),
    "index.page.population": ("Population", "人口预测"),
    "index.page.staffing": ("Posts", "岗位配置"),
    "index.page.workload": ("Workload (WISN)", "工作量（WISN）"),
    "index.page.budget": ("Budget", "经费预算"),
    "index.page.compare": ("Comparison", "方案比较"),
    # ---------------------------------------------------------------- explorer
    "nb.explore.controls_note": ("Controls start at the values in force in {start_year}. A moved control applies its value from {start_year} over the whole horizon (replacing later dated changes of that rule); a control at its starting value keeps the scenario's dated values.", "控件初始值为{start_year}年执行的标准。调整后的取值自{start_year}年起适用于整个预测期（取代该规则此后按日期调整的取值）；保持初始值的控件沿用方案原有的分年取值。"),
    "nb.explore.township_extra_step": ("Township: one more vice-president per [persons] (0 = off)", "乡镇：每增加多少人增配一名专职副会长（人；0＝不增配）"),
    "nb.explore.township_extra_above": ("Township: extra vice-presidents above [persons]", "乡镇：人口超过此数后增配（人）"),
    "nb.explore.merge_note": ("0 = no merger", "0＝不合并"),
    "nb.explore.save_name": ("Scenario name", "方案名称"),
    "nb.explore.overwrite": ("Overwrite an existing file", "覆盖已有文件"),
    "nb.explore.not_saved": ("Not saved: {reason}", "未保存：{reason}"),
    "nb.explore.chart_posts": ("Posts and WISN required staff, {place}", "{place}岗位数与WISN需要人数"),
    "nb.explore.chart_budget": ("Budget by line item, {place}, {start_year}–{end_year}", "{place}{start_year}—{end_year}年分项预算"),
    "nb.explore.chart_posts_y": ("Posts [posts]", "岗位数（个）"),
    "nb.explore.table_title": ("Budget, {place}, {year}", "{place}{year}年预算"),
    "nb.explore.figures_title": ("Key figures, {place}, {year}", "{place}{year}年关键指标"),
    "nb.explore.total": ("Total", "合计"),
    "nb.explore.updated_in": ("updated in {ms} ms", "更新用时{ms}毫秒"),
    "col.budget_horizon_yuan": ("Budget over the horizon [yuan]", "预测期预算合计（元）"),
    "col.budget_first_year_yuan": ("Budget, first year [yuan]", "首年预算（元）"),
    "col.budget_last_year_yuan": ("Budget, last year [yuan]", "末年预算（元）"),
    "col.village_vice_presidents_last": ("Village vice-presidents, last year", "末年村专职副会长数"),
    "col.total_posts_last": ("Total posts, last year", "末年岗位总数"),
    "col.wisn_required_staff_last": (
        "Staff required (WISN), last year [persons]", "末年WISN需要人数（人）"),
    "col.townships_short_of_staff_last": (
        "Townships with WISN ratio < 1, last year", "末年WISN比值小于1的乡镇数"),
    "col.difference": ("Difference to the base", "与基准方案之差"),
    "col.base_value": ("Base value", "基准方案取值"),
    "col.base_amount_yuan": ("Base amount [yuan]", "基准方案金额（元）"),
    "col.difference_yuan": ("Difference [yuan]", "差额（元）"),
    "cli.difference_to": ("{name} − {base}", "{name}减{base}"),
    "cli.folder_written": ("Folder: {path}", "文件夹：{path}"),
    "nb.explore.budget_horizon": ("Budget {start_year}–{end_year} [yuan]", "{start_year}—{end_year}年预算合计（元）"),
    # ---------------------------------------------------------------- key figures
    "kf.population": ("Population {year}", "{year}年人口"),
    "kf.village_vice_presidents": ("Village vice-presidents {year}", "{year}年村专职副会长"),
    "kf.total_posts": ("Association posts {year}", "{year}年计生协岗位合计"),
    "kf.townships_short": (
        "Townships with WISN ratio < 1 in {year}",
        "{year}年WISN比值低于1的乡镇（街道）",
    ),
    "kf.budget_year": ("Budget {year}", "{year}年经费预算"),
    "kf.budget_horizon": ("Budget {first}–{last}", "{first}—{last}年经费预算合计"),
    # ---------------------------------------------------------------- command line
    "cli.error": ("error", "错误"),
    "cli.file_not_found": ("{path}: file not found", "{path}：文件不存在"),
    "cli.invalid_scenario": (
        "{path}: invalid scenario ({count} problems)",
        "{path}：方案文件有误（{count}处问题）",
    ),
    "cli.invalid_register": (
        "{path}: invalid register ({count} problems)",
        "{path}：底册有误（{count}处问题）",
    ),
    "cli.invalid_parameter": (
        "{path}: invalid rulebook parameter ({count} problems)",
        "{path}：规则参数有误（{count}处问题）",
    ),
    "cli.run_failed": (
        "{notebook}: run failed; the previous report in {output} was kept (log: {log})",
        "{notebook}：运行失败，已保留{output}中原有的报告（日志：{log}）",
    ),
    "cli.did_you_mean": ("did you mean '{suggestion}'?", "是否应为“{suggestion}”？"),
    "cli.unknown_name": ("unknown {what} '{name}'", "未知的{what}“{name}”"),
    "cli.unknown_lang": (
        "unknown language '{value}'; expected one of {choices}",
        "未知语言“{value}”，应为{choices}之一",
    ),
    "cli.running": (
        "Running {notebook} for scenario {scenario} …",
        "正在为方案{scenario}运行{notebook}……",
    ),
    "cli.report_written": ("Report written to {path}", "报告已生成：{path}"),
    "cli.done": ("Done in {seconds} s.", "完成，用时{seconds}秒。"),
}

_HUMAN_LANG = {"en": "English", "zh": "Chinese"}

CATALOGUE: dict[str, dict[str, str]] = {
    "en": {key: en for key, (en, _) in _ENTRIES.items()},
    "zh": {key: zh for key, (_, zh) in _ENTRIES.items()},
}
"""``CATALOGUE[lang][key]`` → template."""

BUDGET_LINES: tuple[str, ...] = tuple(
    k.split(".", 1)[1] for k in _ENTRIES if k.startswith("budget.")
)
"""Stable budget line ids in report order."""

POSTS: tuple[str, ...] = tuple(k.split(".", 1)[1] for k in _ENTRIES if k.startswith("post."))
"""Post ids in report order."""


class UnknownLabelError(KeyError):
    """A label key is not in the catalogue (a programming error, not a user error)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def check_lang(lang: str, location: str = "lang") -> str:
    """Return ``lang`` if supported, else raise :class:`~qzfp.errors.ScenarioError`.

    Parameters
    ----------
    lang : str
        Language code (``"en"`` or ``"zh"``).
    location : str
        Where the value came from, for the error message (``"params/x.yaml:lang"``).
    """
    if lang in LANGS:
        return lang
    hint = difflib.get_close_matches(str(lang).lower(), LANGS, n=1)
    msg = f"unknown language {lang!r}; expected one of {', '.join(LANGS)}"
    if hint:
        msg += f" (did you mean {hint[0]!r}?)"
    raise ScenarioError(Problem(location, msg))


def template_fields(template: str) -> set[str]:
    """Names of the ``str.format`` fields of a template."""
    return {
        name.split(".")[0].split("[")[0]
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    }


def has(key: str) -> bool:
    """Whether ``key`` is in the catalogue."""
    return key in _ENTRIES


def keys(prefix: str = "") -> list[str]:
    """Catalogue keys starting with ``prefix``, in catalogue order."""
    return [k for k in _ENTRIES if k.startswith(prefix)]


def t(key: str, lang: str, /, **fields: Any) -> str:
    """Return the label ``key`` in ``lang`` with its named fields filled in.

    Parameters
    ----------
    key : str
        Catalogue key, e.g. ``"chart.fan.title"``.
    lang : str
        ``"en"`` or ``"zh"``.
    **fields
        Values of the template's named fields (all are required).

    Raises
    ------
    UnknownLabelError
        If ``key`` is not in the catalogue (the message suggests close keys).
    KeyError
        If a template field is not given.
    ScenarioError
        If ``lang`` is not supported.
    """
    check_lang(lang)
    try:
        template = CATALOGUE[lang][key]
    except KeyError:
        close = difflib.get_close_matches(key, list(_ENTRIES), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownLabelError(f"no label {key!r} in qzfp.i18n{hint}") from None
    missing = template_fields(template) - set(fields)
    if missing:
        raise KeyError(
            f"label {key!r} needs field(s) {', '.join(sorted(missing))}; "
            f"got {', '.join(sorted(fields)) or 'none'}"
        )
    return template.format(**fields)


# Chinese forms of the problem messages a planner meets most often (validation of scenario
# files and registers).  Each pattern matches the whole English message; unmatched
# messages are shown in English.
_MESSAGE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), zh)
    for p, zh in (
        (r"unknown key '(?P<a>[^']+)' \(did you mean '(?P<b>[^']+)'\?\)", "未知的键“{a}”（是否应为“{b}”？）"),
        (r"unknown key '(?P<a>[^']+)'(?P<rest>.*)", "未知的键“{a}”{rest}"),
        (r"unknown rulebook path \(did you mean '(?P<b>[^']+)'\?\)", "未知的规则参数路径（是否应为“{b}”？）"),
        (r"unknown rulebook path(?P<rest>.*)", "未知的规则参数路径{rest}"),
        (r"unknown parameter \(did you mean '(?P<b>[^']+)'\?\)", "未知的参数（是否应为“{b}”？）"),
        (r"unknown parameter(?P<rest>.*)", "未知的参数{rest}"),
        (r"(?:file not found|no such file or folder)", "文件不存在"),
        (r"scenario file '(?P<a>[^']+)' not found(?P<rest>.*)", "找不到方案文件“{a}”{rest}"),
        (r"missing column\(s\): (?P<a>.+)", "缺少列：{a}"),
        (r"(?P<a>\w+) is empty \(expected a whole number of people\)", "{a}为空（应为人数，整数）"),
        (r'(?P<a>\w+) "(?P<b>.*)" is not a whole number', "{a}“{b}”不是整数"),
        (r"(?P<a>\w+) (?P<b>\S+) is negative \(expected a whole number ≥ 0\)", "{a}为负数{b}（应为不小于0的整数）"),
        (r'duplicate (?P<a>\w+) "(?P<b>[^"]*)"(?P<rest>.*)', "重复的{a}“{b}”{rest}"),
        (r'village "(?P<a>[^"]+)": township_code "(?P<b>[^"]+)" does not exist(?P<rest>.*)',
         "村“{a}”：乡镇代码“{b}”不存在{rest}"),
        (r'township "(?P<a>[^"]+)" is in no county: (?P<rest>.*)', "乡镇“{a}”不属于任何县：{rest}"),
        (r"extends cycle: (?P<a>.+)", "extends 循环引用：{a}"),
        (r"the file is empty(?P<rest>.*)", "文件为空{rest}"),
        (r"expected (?P<a>an integer|a number|a text|a list|a mapping), got (?P<b>.+)",
         "应为{a}，实际为{b}"),
        (r"must be at least (?P<a>\S+), got (?P<b>.+)", "不得小于{a}，实际为{b}"),
        (r"must be at most (?P<a>\S+), got (?P<b>.+)", "不得大于{a}，实际为{b}"),
        (r"unparseable date (?P<a>.+); expected YYYY-MM-DD", "无法识别的日期{a}，应为YYYY-MM-DD"),
    )
)
_KIND_ZH = {"an integer": "整数", "a number": "数字", "a text": "文本", "a list": "列表", "a mapping": "映射"}


def translate_message(message: str, lang: str) -> str:
    """A problem message in ``lang``: English as given, Chinese for the common messages.

    Parameters
    ----------
    message : str
        English message of a :class:`qzfp.errors.Problem`.
    lang : str
        ``"en"`` or ``"zh"``.
    """
    check_lang(lang)
    if lang == "en":
        return message
    for pattern, zh in _MESSAGE_PATTERNS:
        m = pattern.fullmatch(message)
        if m:
            fields = {k: _KIND_ZH.get(v, v) if v is not None else "" for k, v in m.groupdict().items()}
            return zh.format(**fields)
    return message


def humanise(identifier: str) -> str:
    """Readable fallback for an id without a label: ``"new_line_item"`` → ``"New line item"``."""
    text = str(identifier).replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:] if text else text


def _label_or_fallback(prefix: str, identifier: str, lang: str) -> str:
    key = f"{prefix}.{identifier}"
    check_lang(lang)
    return t(key, lang) if key in _ENTRIES else humanise(identifier)


def budget_line_label(line: str, lang: str) -> str:
    """Label of a budget line id; an id not in the catalogue gives its humanised form."""
    return _label_or_fallback("budget", line, lang)


def post_label(post: str, lang: str, level: str | None = None) -> str:
    """Label of a post id; an id not in the catalogue gives its humanised form.

    With ``level`` (``county``, ``township``, ``village``) the level-specific label
    ``post.<level>_<post>`` is preferred: ``post_label("vice_president", "zh", "village")``
    → ``"村计生协专职副会长"``.
    """
    if level and f"post.{level}_{post}" in _ENTRIES:
        return t(f"post.{level}_{post}", lang)
    return _label_or_fallback("post", post, lang)


def param_label(path: str, lang: str) -> str:
    """Short label of a rulebook path or scenario key; unknown paths are returned as given."""
    key = f"param.{path}"
    check_lang(lang)
    return t(key, lang) if key in _ENTRIES else str(path)


def unit_label(unit: str, lang: str) -> str:
    """A unit of the rulebook or of a budget quantity in ``lang`` (``yuan/month`` → ``元/月``);
    an unknown unit is returned as given."""
    key = f"unit.{unit}"
    check_lang(lang)
    return t(key, lang) if key in _ENTRIES else str(unit)


_ASSUMPTION_PREFIX = re.compile(r"^\s*assumption\s*:\s*", re.IGNORECASE)


def reference_label(reference: str, lang: str) -> str:
    """A rulebook reference as shown in ``lang``: the ``assumption:`` label becomes 假设：."""
    check_lang(lang)
    text = str(reference)
    if lang == "zh":
        return _ASSUMPTION_PREFIX.sub("假设：", text, count=1)
    return text


def localise_parameters(used: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``Scenario.used_parameters()`` for a reader of ``lang``.

    In Chinese: the Chinese description where the rulebook has one, units in Chinese
    (:func:`unit_label`), the ``assumption:`` label as 假设：.  The ``description_zh`` column
    is dropped in both languages.
    """
    check_lang(lang)
    out = used.copy()
    if lang == "zh":
        if "description_zh" in out:
            zh = out["description_zh"].fillna("").astype(str)
            out["description"] = zh.where(zh.str.strip() != "", out["description"])
        out["unit"] = [unit_label(u, lang) for u in out["unit"]]
        out["reference"] = [reference_label(r, lang) for r in out["reference"]]
    return out.drop(columns=["description_zh"], errors="ignore")


def column_label(column: str, lang: str) -> str:
    """Header of a tidy-table column; unknown columns are returned unchanged."""
    key = f"col.{column}"
    check_lang(lang)
    return t(key, lang) if key in _ENTRIES else str(column)


def label_columns(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Return a copy of ``df`` with known column names replaced by their headers in ``lang``.

    Unknown columns keep their names.  Values are not translated (use
    :func:`budget_line_label`, :func:`post_label` or :func:`place_names` for those).
    """
    check_lang(lang)
    return df.rename(columns={c: column_label(c, lang) for c in df.columns if isinstance(c, str)})


# ---------------------------------------------------------------------- place names
_CODE_COLUMNS = ("village_code", "township_code", "county_code", "code")


def _name_column(lang: str) -> str:
    return "name_zh" if check_lang(lang) == "zh" else "name_en"


def _name_table(register: Any) -> pd.DataFrame:
    """A ``code → name_zh, name_en`` table from a Register, a DataFrame or a list of them."""
    if isinstance(register, pd.DataFrame):
        frames = [register]
    elif isinstance(register, (list, tuple)):
        frames = [_name_table(r) for r in register]
    else:
        frames = [
            getattr(register, attr)
            for attr in ("counties", "townships", "villages")
            if isinstance(getattr(register, attr, None), pd.DataFrame)
        ]
        if not frames:
            raise TypeError("place names need a Register or a DataFrame with name_zh/name_en")
    out = []
    for frame in frames:
        if "code" in frame.columns and "name_zh" in frame.columns:
            out.append(frame[["code", "name_zh", "name_en"]])
            continue
        # the most specific code column of the table is its own id
        for col in _CODE_COLUMNS:
            if col in frame.columns:
                out.append(frame[[col, "name_zh", "name_en"]].rename(columns={col: "code"}))
                break
    table = (
        pd.concat(out, ignore_index=True)
        if out
        else pd.DataFrame(columns=["code", "name_zh", "name_en"])
    )
    table["code"] = table["code"].astype(str)
    return table.drop_duplicates("code").set_index("code")


def place_name(
    row_or_code: Mapping[str, Any] | pd.Series | str, lang: str, register: Any = None
) -> str:
    """Name of a county, township or village in ``lang`` (zh: Chinese, en: pinyin).

    Parameters
    ----------
    row_or_code : mapping, Series or str
        A register row with ``name_zh`` and ``name_en``, or a code looked up in ``register``.
    lang : str
        ``"zh"`` gives ``name_zh``, ``"en"`` gives ``name_en``.
    register : Register, DataFrame or list of DataFrames, optional
        Needed when ``row_or_code`` is a code.

    Raises
    ------
    KeyError
        If the code is not in the register.
    """
    col = _name_column(lang)
    if isinstance(row_or_code, (Mapping, pd.Series)):
        return str(row_or_code[col])
    if register is None:
        raise TypeError("place_name(code, lang) needs the register to look the code up in")
    table = _name_table(register)
    code = str(row_or_code)
    if code not in table.index:
        raise KeyError(f"no county, township or village with code {code!r} in the register")
    return str(table.at[code, col])


def place_names(codes: Iterable[Any], lang: str, register: Any) -> list[str]:
    """Names of many codes at once (vectorised :func:`place_name`); unknown codes stay codes."""
    table = _name_table(register)[_name_column(lang)]
    codes = [str(c) for c in codes]
    return table.reindex(codes).fillna(pd.Series(codes, index=codes)).astype(str).tolist()


# ---------------------------------------------------------------------- numbers
_DASH = "—"


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def format_number(x: Any, lang: str, decimals: int = 0) -> str:
    """``12345.6`` → ``"12,346"`` (both languages); missing or non-finite → ``"—"``."""
    check_lang(lang)
    v = _finite(x)
    if v is None:
        return _DASH
    if round(v, decimals) == 0:
        v = 0.0  # never print "-0"
    return f"{v:,.{decimals}f}"


def _compact(v: float, lang: str, unit_en: str, unit_zh: str) -> str:
    a = abs(v)
    if lang == "zh":
        if a >= 1e8:
            return f"{v / 1e8:,.2f}亿{unit_zh}"
        if a >= 1e4:
            return f"{v / 1e4:,.2f}万{unit_zh}"
        return f"{v:,.0f}{unit_zh}"
    if a >= 1e6:
        return f"{v / 1e6:,.2f} million {unit_en}"
    return f"{v:,.0f} {unit_en}"


def format_yuan(x: Any, lang: str, *, decimals: int = 0, compact: bool = False) -> str:
    """Format an amount of money.

    Parameters
    ----------
    x : float
        Amount [yuan].
    lang : str
        ``"en"`` → ``"1,234,567 yuan"``; ``"zh"`` → ``"1,234,567元"``.
    decimals : int
        Decimals of the exact form.
    compact : bool
        Large amounts rounded to 2 decimals: zh ``"123.46万元"`` (≥ 10 000) or ``"1.23亿元"``
        (≥ 10⁸); en ``"1.23 million yuan"`` (≥ 10⁶).  Smaller amounts stay exact.
    """
    check_lang(lang)
    v = _finite(x)
    if v is None:
        return _DASH
    if compact:
        return _compact(v, lang, "yuan", "元")
    num = format_number(v, lang, decimals)
    return f"{num}元" if lang == "zh" else f"{num} yuan"


def format_persons(x: Any, lang: str, *, compact: bool = False) -> str:
    """Format a number of people: en ``"12,345 persons"`` (``"1 person"``), zh ``"12,345人"``.

    With ``compact=True`` large numbers are rounded: zh ``"2.32万人"`` (≥ 10 000),
    en ``"2.46 million persons"`` (≥ 10⁶).
    """
    check_lang(lang)
    v = _finite(x)
    if v is None:
        return _DASH
    if compact:
        return _compact(v, lang, "persons", "人")
    num = format_number(v, lang, 0)
    if lang == "zh":
        return f"{num}人"
    return f"{num} person" if num in ("1", "-1") else f"{num} persons"


def format_pct(share: Any, lang: str, decimals: int = 1, *, signed: bool = False) -> str:
    """Format a share (0..1) as a percentage: ``0.1234`` → ``"12.3%"`` (``"+12.3%"`` if signed)."""
    check_lang(lang)
    v = _finite(share)
    if v is None:
        return _DASH
    return f"{v * 100:{'+' if signed else ''},.{decimals}f}%"


# ---------------------------------------------------------------------- CJK fonts
CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
)
"""System CJK fonts tried in order by :func:`setup_fonts`."""

SHIPPED_FONT_FAMILY = "Noto Sans CJK SC qzfp"
"""Family name of the subset of Noto Sans CJK SC (SIL OFL 1.1) shipped in ``qzfp/fonts/``."""


def shipped_font_path() -> str:
    """Path of the font file shipped with qzfp (see ``qzfp/fonts/README.md``)."""
    from importlib import resources

    return str(resources.files("qzfp") / "fonts" / "NotoSansCJKsc-qzfp-subset.otf")


_FONT_STATE: dict[str, Any] = {}


def _register_shipped_font() -> str:
    from matplotlib import font_manager

    path = shipped_font_path()
    if not any(f.fname == path for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(path)  # in-memory only: the cache is not rebuilt
    return SHIPPED_FONT_FAMILY


def cjk_font(*, prefer_system: bool = True) -> str:
    """Family name of the CJK font qzfp uses here (first system candidate, else the shipped one)."""
    from matplotlib import font_manager

    if prefer_system:
        available = {f.name for f in font_manager.fontManager.ttflist}
        for name in CJK_FONT_CANDIDATES:
            if name in available:
                return name
    return _register_shipped_font()


def setup_fonts(lang: str, *, prefer_system: bool = True) -> str:
    """Configure matplotlib so that labels in ``lang`` render with no missing glyphs.

    Picks the first available of :data:`CJK_FONT_CANDIDATES`, else registers the font shipped
    in ``qzfp/fonts`` (``font_manager.addfont``, no cache rebuild), and sets
    ``font.sans-serif`` to put it first for ``zh`` (DejaVu Sans next, as glyph fallback) and
    second for ``en`` (so Chinese names in English output still render).  Also sets
    ``axes.unicode_minus = False``.  Idempotent and cheap after the first call.

    Parameters
    ----------
    lang : str
        ``"en"`` or ``"zh"``.
    prefer_system : bool
        False forces the shipped font (used by the tests).

    Returns
    -------
    str
        Family name of the CJK font in use.
    """
    import matplotlib as mpl

    check_lang(lang)
    cache_key = f"cjk:{prefer_system}"
    if cache_key not in _FONT_STATE:
        _FONT_STATE[cache_key] = cjk_font(prefer_system=prefer_system)
    cjk = _FONT_STATE[cache_key]
    first = [cjk, "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", cjk]
    rest = [f for f in mpl.rcParams["font.sans-serif"] if f not in first]
    # The two fonts by name, not the generic "sans-serif": matplotlib falls back glyph by
    # glyph only along a list of named families (a generic family resolves to one font).
    mpl.rcParams["font.family"] = [*first, "sans-serif"]
    mpl.rcParams["font.sans-serif"] = first + rest
    mpl.rcParams["axes.unicode_minus"] = False
    return cjk


def missing_glyphs(text: str, lang: str = "zh") -> set[str]:
    """Characters of ``text`` that no font of the configured chain can draw.

    Useful to warn about rare characters in a user's register before charting it.
    """
    import matplotlib as mpl
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    setup_fonts(lang)
    chars = {c for c in text if not c.isspace()}
    for family in mpl.rcParams["font.sans-serif"][:2]:
        path = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
        cmap = FT2Font(path).get_charmap()
        chars = {c for c in chars if ord(c) not in cmap}
    return chars
