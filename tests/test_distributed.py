"""Batch reports, sweeps and Monte Carlo on a real Dask cluster (2 worker processes on loopback)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

import cloudpickle  # noqa: E402  (installed with distributed)

from qzfp.distributed import (  # noqa: E402
    MC_CHUNK_BYTES,
    MCPercentiles,
    connect,
    default_mc_chunk,
    monte_carlo_dask,
    monte_carlo_percentiles,
    run_many_dask,
    sweep_dask,
)
from qzfp.errors import ParameterError, QzfpError, RunError, ScenarioError  # noqa: E402
from qzfp.model.comparison import sweep  # noqa: E402
from qzfp.model.montecarlo import monte_carlo  # noqa: E402
from qzfp.register import load_register  # noqa: E402
from qzfp.reporting.batch import exit_code, run_many  # noqa: E402
from qzfp.rules.scenario import Scenario  # noqa: E402

# The hooks below are defined in this test module, which the workers cannot import:
# send its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

DATA = Path(__file__).parent / "data"
OK = (DATA / "notebooks" / "ok.ipynb").resolve()
FAIL = (DATA / "notebooks" / "fail.ipynb").resolve()
SMALL = DATA / "registers" / "small"
POSTS = 500  # [post]


def write_table(parameters: dict, folder: Path) -> dict[str, str]:
    """Report hook: the annual allowance cost (allowance × 12 months × posts) as CSV."""
    cost = parameters["allowance"] * 12 * parameters["posts"]
    (folder / "costs.csv").write_text(f"item,amount_yuan\nallowance,{cost}\n", encoding="utf-8")
    return {"Annual allowance cost [yuan]": f"{cost:,.0f}"}


def die_once(parameters: dict, folder: Path) -> dict[str, str]:
    """Report hook that kills its worker process the first time it runs for a scenario."""
    marker = Path(parameters["marker"])
    if not marker.exists():
        marker.write_text(str(os.getpid()), encoding="utf-8")
        os._exit(1)  # the worker dies mid-run: no cleanup, no exception
    return write_table(parameters, folder)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       host="127.0.0.1", dashboard_address=None)
    cl = distributed.Client(cluster)
    try:
        yield cl
    finally:
        cl.close()
        cluster.close()


def scenarios(*allowances: float) -> list[dict]:
    return [{"scenario_name": f"allow_{a:.0f}", "title": f"Allowance {a:.0f}", "allowance": a, "posts": POSTS}
            for a in allowances]


def report_files(out: Path) -> dict[str, bytes]:
    """Every file of the reports except what records times (run.json, index pages)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in ("run.json", "index.html")}


def test_two_scenarios_on_dask_give_the_same_report_folders_as_a_local_run(client, tmp_path):
    params = scenarios(80.0, 120.0)
    local = run_many(params, [OK], tmp_path / "local", progress=False, extra_files=write_table)
    remote = run_many_dask(params, [OK], tmp_path / "dask", client=client, progress=False,
                           extra_files=write_table)
    assert [r.name for r in remote] == ["allow_80", "allow_120"]
    assert all(r.ok for r in remote) and exit_code(remote) == 0
    assert [sorted(map(str, r.files)) for r in remote] == [sorted(map(str, r.files)) for r in local]
    assert report_files(tmp_path / "dask") == report_files(tmp_path / "local")
    costs = (tmp_path / "dask" / "allow_120" / "costs.csv").read_text(encoding="utf-8")
    assert costs == f"item,amount_yuan\nallowance,{120.0 * 12 * POSTS}\n"
    for p in params:
        run = json.loads((tmp_path / "dask" / p["scenario_name"] / "run.json").read_text(encoding="utf-8"))
        assert run["parameters"] == p
        assert run["key_figures"] == [["Annual allowance cost [yuan]", f"{p['allowance'] * 12 * POSTS:,.0f}"]]
    top = (tmp_path / "dask" / "index.html").read_text(encoding="utf-8")
    assert 'href="allow_80/index.html"' in top and 'href="allow_120/index.html"' in top
    assert not [p for p in (tmp_path / "dask").iterdir() if ".tmp-" in p.name]


def test_a_failing_notebook_on_a_worker_is_reported_like_a_local_failure(client, tmp_path):
    params = scenarios(70.0)
    (local,) = run_many(params, [FAIL], tmp_path / "local", progress=False)
    reports = run_many_dask(params, [FAIL], tmp_path / "dask", client=client, progress=False)
    (rep,) = reports
    assert not rep.ok and exit_code(reports) == 2
    assert rep.name == "allow_70"
    assert rep.kept_at == tmp_path / "dask" / ".failed" / "allow_70" / "fail.ipynb"
    assert rep.kept_at.is_file()
    assert [str(p) for p in rep.problems] == [str(p).replace(str(tmp_path / "local"), str(tmp_path / "dask"))
                                            for p in local.problems]
    assert str(FAIL) in str(rep.problems[0]) and "'allow_70'" in str(rep.problems[0])
    assert "RuntimeError: deliberate failure for tests" in str(rep.problems[0])
    assert not (tmp_path / "dask" / "allow_70").exists()


def test_a_worker_that_dies_mid_run_is_replaced_and_the_report_still_lands(client, tmp_path):
    (params,) = scenarios(90.0)
    params["marker"] = str(tmp_path / "died-once")
    (rep,) = run_many_dask([params], [OK], tmp_path / "out", client=client, progress=False,
                           extra_files=die_once)
    assert (tmp_path / "died-once").is_file()  # the first attempt killed its worker
    assert rep.ok, rep.problems
    assert (tmp_path / "out" / "allow_90" / "costs.csv").read_text(encoding="utf-8").endswith(
        f"{90.0 * 12 * POSTS}\n")
    assert not [p for p in (tmp_path / "out").iterdir() if ".tmp-" in p.name]  # dead run's temp folder
    client.wait_for_workers(2, timeout=60)


def test_qzfp_run_with_the_dask_executor_writes_the_same_data_files_as_a_local_run(client, tmp_path, monkeypatch):
    from qzfp.reporting.run import run_reports

    monkeypatch.chdir(tmp_path)
    scenario = tmp_path / "cheap.yaml"
    scenario.write_text("scenario_name: cheap\nextends: baseline\nhorizon: 3\nmc_paths: 0\n", encoding="utf-8")
    addr = client.scheduler.address
    assert run_reports([scenario], out="local", notebooks=[OK], progress=False) == 0
    assert run_reports([scenario], out="dask", notebooks=[OK], progress=False, executor="dask",
                       scheduler=addr) == 0
    local = {p.relative_to(tmp_path / "local"): p.read_bytes() for p in (tmp_path / "local").rglob("*.csv")}
    remote = {p.relative_to(tmp_path / "dask"): p.read_bytes() for p in (tmp_path / "dask").rglob("*.csv")}
    assert local and remote == local
    assert (tmp_path / "dask" / "cheap" / "budget.xlsx").is_file()


def test_sweep_on_dask_equals_a_local_sweep(client):
    s = Scenario.from_parameters(horizon=4, mc_paths=0)
    grid = {"village.vice_president.allowance": [40, 60, 80],
            "village.vice_president.population_threshold": [300, 500]}
    local = sweep(s, grid, chunk=2)
    remote = sweep_dask(s, grid, client=client, chunk=2)
    pd.testing.assert_frame_equal(remote, local, check_exact=True)
    assert len(remote) == 3 * 2
    assert remote.attrs["scenario"] == s.name


def test_sweep_on_dask_rejects_unknown_paths_before_sending_work():
    s = Scenario.from_parameters(horizon=2)
    with pytest.raises(ParameterError, match="village.vice_president.allowanc"):
        sweep_dask(s, {"village.vice_president.allowanc": [1, 2]}, client=object())


# --------------------------------------------------------------------------- Monte Carlo


@pytest.fixture(scope="module")
def small():
    reg = load_register(SMALL)
    pa = Scenario.from_parameters(horizon=3).arrays()
    return reg, pa


def test_dask_monte_carlo_equals_the_local_chunked_monte_carlo_with_the_same_seed_and_chunk(client, small):
    reg, pa = small
    local = monte_carlo_percentiles(reg, pa, 10, seed=7, chunk=3, indicators=("pop", "births"))
    remote = monte_carlo_dask(reg, pa, 10, seed=7, chunk=3, client=client, indicators=("pop", "births"))
    assert isinstance(remote, MCPercentiles) and remote.n_paths == 10
    for k in ("pop", "births"):
        np.testing.assert_array_equal(remote.county[k], local.county[k])
        np.testing.assert_array_equal(remote.city[k], local.city[k])


def test_chunked_monte_carlo_is_the_percentiles_of_paths_drawn_from_spawned_seed_streams(small):
    reg, pa = small
    seed, n, chunk = 11, 5, 2
    res = monte_carlo_percentiles(reg, pa, n, seed, chunk=chunk, q=(10, 50, 90), indicators=("pop",))
    children = np.random.SeedSequence(seed).spawn(3)  # chunks of 2, 2 and 1 paths
    paths = np.concatenate([monte_carlo(reg, pa, m, ss).county_indicators()["pop"]
                            for m, ss in zip((2, 2, 1), children, strict=True)])
    np.testing.assert_array_equal(res.county["pop"], np.percentile(paths, (10, 50, 90), axis=0))
    np.testing.assert_array_equal(res.city["pop"], np.percentile(paths.sum(axis=-1), (10, 50, 90), axis=0))
    table = res.counties(percentile=50)
    assert list(table.columns) == ["year", "county_code", "pop"]
    assert len(table) == len(pa.years) * reg.n_counties


def test_village_percentiles_of_a_chunked_monte_carlo_add_up_to_the_county_percentiles(small):
    reg, pa = small
    res = monte_carlo_percentiles(reg, pa, 4, 3, chunk=2, indicators=("pop", "aged_60plus"))
    village = res.village("pop")  # (Q, T, V)
    by_county = np.stack([village[..., reg.village_county == c].sum(axis=-1) for c in range(reg.n_counties)], -1)
    np.testing.assert_allclose(by_county, res.county["pop"], rtol=1e-12)
    np.testing.assert_allclose(res.township("pop").sum(axis=-1), village.sum(axis=-1), rtol=1e-12)
    with pytest.raises(KeyError, match="net migration"):
        res.village("net_migration")
    with pytest.raises(KeyError, match="not kept"):
        res.village("births")


def test_default_monte_carlo_chunk_keeps_a_chunks_county_arrays_within_the_memory_budget():
    from types import SimpleNamespace

    ages, years = 101, 15  # single ages 0..100+; 15 years -> 16 stocks
    # pop, deaths, migration of the registered and the resident population [byte]
    per_path = 3 * 2 * (years + 1) * 2800 * 2 * ages * 8
    country = SimpleNamespace(n_counties=2800)
    assert default_mc_chunk(country, years, 1000) == MC_CHUNK_BYTES // per_path
    assert default_mc_chunk(SimpleNamespace(n_counties=6), years, 500) == 500  # a city: one chunk
    assert default_mc_chunk(SimpleNamespace(n_counties=10**6), years, 1000) == 1  # never 0


@pytest.mark.parametrize("kwargs, match", [
    ({"n_paths": 0}, "at least 1 path"),
    ({"chunk": 0}, "per chunk"),
    ({"indicators": ("population",)}, "expected some of"),
    ({"q": (50, 120)}, "percentiles in 0..100"),
])
def test_bad_monte_carlo_settings_are_parameter_errors(small, kwargs, match):
    reg, pa = small
    args = {"n_paths": 4, "seed": 1, **kwargs}
    with pytest.raises(ParameterError, match=match):
        monte_carlo_percentiles(reg, pa, **args)


# --------------------------------------------------------------------------- connecting


def test_dask_executor_without_a_scheduler_address_names_the_option(monkeypatch):
    import dask

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with dask.config.set({"scheduler-address": None}), pytest.raises(QzfpError, match="--scheduler"):
        connect(None)


def test_an_unreachable_scheduler_is_a_run_error_naming_the_address():
    with pytest.raises(RunError, match="tcp://127.0.0.1:9"):
        connect("tcp://127.0.0.1:9", timeout=1)


def test_bad_batches_are_rejected_before_anything_is_sent_to_a_cluster(tmp_path):
    params = scenarios(60.0) * 2  # the same name twice
    with pytest.raises(ScenarioError, match="used by two scenarios"):
        run_many_dask(params, [OK], tmp_path, scheduler=None, progress=False)
    with pytest.raises(ScenarioError, match="notebook not found"):
        run_many_dask(scenarios(60.0), [tmp_path / "missing.ipynb"], tmp_path, progress=False)


class _FailingClient:
    """A stand-in client whose tasks all fail, as after every allowed attempt on a cluster."""

    class scheduler:  # noqa: N801  (mimics client.scheduler.address)
        address = "tcp://127.0.0.1:8786"

    def scatter(self, data, **kwargs):
        return data

    def submit(self, fn, *args, **kwargs):
        return object()

    def gather(self, futures):
        raise RuntimeError("worker tcp://127.0.0.1:40001 died\nwhile running the task")


def test_a_task_that_fails_on_the_cluster_is_a_one_line_run_error_naming_the_scheduler(small):
    reg, pa = small
    s = Scenario.from_parameters(horizon=2)
    with pytest.raises(RunError) as sweep_error:
        sweep_dask(s, {"village.vice_president.allowance": [40, 60]}, client=_FailingClient())
    with pytest.raises(RunError) as mc_error:
        monte_carlo_dask(reg, pa, 2, seed=1, client=_FailingClient())
    for err, what in ((sweep_error, f"the sweep of {s.name!r}"), (mc_error, "the Monte Carlo")):
        (problem,) = err.value.problems
        assert problem.location == "--scheduler tcp://127.0.0.1:8786"
        assert problem.message == (f"{what} failed on the Dask cluster: RuntimeError: worker "
                                   "tcp://127.0.0.1:40001 died while running the task")


@pytest.mark.parametrize("address", ["foo://127.0.0.1:8786", "localhost", "tcp://127.0.0.1:port"])
def test_a_malformed_scheduler_address_is_bad_input_before_any_client_is_made(address):
    with pytest.raises(QzfpError, match="expected the address of a Dask scheduler") as err:
        connect(address)
    assert not isinstance(err.value, RunError)
    assert err.value.problems[0].location == f"--scheduler {address}"
