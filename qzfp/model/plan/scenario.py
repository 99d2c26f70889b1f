"""The chosen plan as a scenario file (``qzfp plan --out``), runnable with ``qzfp run``."""

from __future__ import annotations

from typing import Any

from .choice import Plan


def plan_scenario(p: Plan) -> dict[str, Any]:
    """The chosen plan as scenario parameters: a flattened copy of the scenario (``extends``
    resolved) with the levers as scalar overrides from its first year, each with a
    reference (English and Chinese) naming ``qzfp plan``, the ceiling and the year, and a
    title and description of its own in both languages (``title``/``description`` and
    ``title_zh``/``description_zh``), whatever the language of the run."""
    from ...i18n import format_number, format_yuan, t

    s = p.grid.scenario
    params = s.to_papermill()
    overrides = dict(params.get("overrides") or {})
    ref = {lg: t("plan.override_reference", lg, objective=t(f"plan.objective.{p.objective}", lg),
                 ceiling=format_yuan(p.ceiling, lg, decimals=2), year=p.grid.year, name=s.name)
           for lg in ("en", "zh")}
    for path, v in p.levers.items():
        overrides[path] = {"value": v, "reference": ref["en"], "reference_zh": ref["zh"]}

    def texts(lg: str) -> tuple[str, str]:
        ceiling = format_yuan(p.ceiling, lg)
        return (t("plan.scenario_title", lg, title=s.title_in(lg), year=p.grid.year, ceiling=ceiling),
                t("plan.scenario_description", lg, name=s.name, plans=format_number(len(p.grid.table), lg),
                  objective=t(f"plan.objective.{p.objective}", lg), year=p.grid.year, ceiling=ceiling))

    (title, description), (title_zh, description_zh) = texts("en"), texts("zh")
    head = {"scenario_name": f"{s.name}_plan_{p.grid.year}", "title": title, "description": description,
            "title_zh": title_zh, "description_zh": description_zh}
    rest = {k: v for k, v in params.items() if k not in head and k != "overrides"}
    return {**head, **rest, "overrides": overrides}


def plan_scenario_text(p: Plan) -> str:
    """:func:`plan_scenario` as a YAML scenario file with a header saying where it came from."""
    import yaml

    s = p.grid.scenario
    head = [
        f"# Written by `qzfp plan` from scenario {s.name} ({s.path or 'packaged'}).",
        f"# Budget year {p.grid.year}, ceiling {p.ceiling:,.2f} yuan, objective {p.objective};",
        f"# the plan's {p.grid.year} budget: {p.figures['budget_yuan']:,.2f} yuan.",
        "# Run it with `qzfp run` (every top-level key is a notebook parameter).",
    ]
    body = yaml.safe_dump(plan_scenario(p), allow_unicode=True, sort_keys=False, width=100)
    return "\n".join(head) + "\n" + body
