"""Report kernels forked from the run's zygote behave as kernels started the usual way.

Each scenario runs in a fresh interpreter (``python -c``): the zygote is only forked from a
process where no other thread runs, which a pytest process does not promise.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from qzfp.reporting.zygote import alive, forkable_kernel_command

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")

#: Run in a kernel: what a notebook can see of how its kernel was started.
PROBE = textwrap.dedent("""
    import json, os, sys
    import matplotlib, matplotlib.pyplot as plt
    plt.plot([1, 2, 3])
    print(json.dumps({
        "pid": os.getpid(), "ppid": os.getppid(), "pgid": os.getpgid(0), "cwd": os.getcwd(),
        "path": sys.path, "argv0": os.path.basename(sys.argv[0]),
        "optimize": sys.flags.optimize, "recursion": sys.getrecursionlimit(),
        "root_handlers": len(__import__("logging").getLogger().handlers),
        "warn_error": any(f[0] == "error" and f[2] is Warning for f in __import__("warnings").filters),
        "backend": matplotlib.get_backend(), "parent_env": os.environ.get("JPY_PARENT_PID"),
        "beside": __import__("beside_the_notebook").VALUE,
    }))
""")

DRIVER = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    from jupyter_core.utils import run_sync
    from qzfp.reporting.kernels import WarmKernel
    from qzfp.reporting.zygote import ForkedKernel, zygote

    import logging, warnings
    cwd = Path(sys.argv[1])
    probe = sys.argv[2]
    # what a program using qzfp may have set up: none of it is a kernel's
    logging.basicConfig(filename=str(cwd / "program.log"))
    warnings.simplefilter("error")
    sys.path.insert(0, str(cwd / "program_modules"))
    sys.setrecursionlimit(5000)
    with zygote() as z:
        if sys.argv[3] == "zygote_gone" and z is not None:
            z._process.kill()
            z._process.wait()
        k = WarmKernel("python3", cwd)
        k.prepare()
        k.wait_until_ready()
        out, kinds = [], []

        def hook(msg):
            kinds.append(msg["msg_type"])
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            if msg["msg_type"] == "display_data":
                kinds.append("+".join(sorted(msg["content"]["data"])))

        reply = run_sync(k.kc.execute_interactive)(probe, timeout=60, output_hook=hook)
        seen = json.loads("".join(out))
        # an interrupt (as nbclient sends on a cell's timeout) reaches the kernel's process group
        msg_id = k.kc.execute("import time; time.sleep(60)")
        time.sleep(1.0)
        run_sync(k.km.interrupt_kernel)()
        t0 = time.monotonic()
        while True:
            msg = run_sync(k.kc.get_shell_msg)(timeout=30)
            if msg["parent_header"].get("msg_id") == msg_id:
                break
        seen["interrupted"] = [msg["content"]["status"], msg["content"].get("ename"), time.monotonic() - t0 < 10]
        seen["forked"] = isinstance(k.km.provisioner.process, ForkedKernel)
        seen["zygote"] = None if z is None else z.pid
        seen["status"] = reply["content"]["status"]
        seen["outputs"] = kinds
        print(json.dumps(seen), flush=True)
        if sys.argv[3] == "killed":
            time.sleep(120)  # killed by the test
        k.shutdown()
        seen_alive = run_sync(k.km.is_alive)()
    print(json.dumps({"alive_after_shutdown": seen_alive}), flush=True)
""")


def _drive(tmp_path: Path, mode: str, **env: str) -> subprocess.Popen:
    (tmp_path / "beside_the_notebook.py").write_text("VALUE = 42\n", encoding="utf-8")
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path), PROBE, mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env})


def _lines(proc: subprocess.Popen, timeout: float = 180) -> list[dict]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_a_forked_kernel_sees_what_a_started_kernel_sees_and_is_interrupted_and_shut_down_alike(tmp_path):
    forked, closed = _lines(_drive(tmp_path, "normal"))
    started, _ = _lines(_drive(tmp_path, "normal", QZFP_FORK_KERNELS="0"))
    assert forked["forked"] and not started["forked"]
    assert forked["ppid"] == forked["zygote"] and forked["parent_env"] == str(forked["zygote"])
    assert forked["pgid"] == forked["pid"] and started["pgid"] == started["pid"]  # a session of its own
    for key in ("cwd", "path", "argv0", "backend", "beside", "status", "outputs", "interrupted", "optimize",
                "recursion", "root_handlers", "warn_error"):
        assert forked[key] == started[key], key
    assert forked["cwd"] == str(tmp_path) and forked["beside"] == 42
    assert forked["recursion"] == 1000 and forked["root_handlers"] == 0 and not forked["warn_error"]
    assert str(tmp_path / "program_modules") not in forked["path"]
    assert "display_data" in forked["outputs"] and "image/png+text/plain" in forked["outputs"]  # pyplot, inline
    assert forked["interrupted"] == ["error", "KeyboardInterrupt", True]
    assert closed == {"alive_after_shutdown": False}
    assert not alive(forked["pid"])


def test_when_the_zygote_is_gone_the_kernel_is_started_the_usual_way(tmp_path):
    seen, closed = _lines(_drive(tmp_path, "zygote_gone"))
    assert not seen["forked"] and seen["zygote"] is not None
    assert seen["status"] == "ok" and seen["beside"] == 42
    assert closed == {"alive_after_shutdown": False}


def test_a_killed_run_takes_its_zygote_and_its_kernels_with_it(tmp_path):
    proc = _drive(tmp_path, "killed")
    line = proc.stdout.readline()
    seen = json.loads(line)
    assert seen["forked"]
    assert alive(seen["zygote"]) and alive(seen["pid"])
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10  # the zygote looks every second, the kernel's poller too
    while (alive(seen["zygote"]) or alive(seen["pid"])) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in (seen["zygote"], seen["pid"]) if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"outlived the killed run by 10 s: {left}"


@pytest.mark.parametrize(
    "cmd, forkable",
    [
        ([sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "/tmp/k.json"], True),
        ([sys.executable, "-m", "ipykernel_launcher", "-f", "/tmp/k.json"], True),
        ([sys.executable, "-m", "ipykernel_launcher", "-f", "/tmp/k.json", "--matplotlib=inline"], False),
        ([sys.executable, "-X", "dev", "-m", "ipykernel_launcher", "-f", "/tmp/k.json"], False),
        (["/usr/bin/env", "-m", "ipykernel_launcher", "-f", "/tmp/k.json"], False),
        ([sys.executable, "-m", "other_kernel", "-f", "/tmp/k.json"], False),
        ([], False),
    ],
)
def test_only_this_python_s_own_ipykernel_is_forked_any_other_kernel_is_started_as_its_spec_says(cmd, forkable):
    assert forkable_kernel_command(cmd) == ("/tmp/k.json" if forkable else None)


WARMED = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from jupyter_core.utils import run_sync
    import contextlib
    from qzfp.reporting.kernels import WarmKernel
    from qzfp.reporting.zygote import prestarted, zygote
    from qzfp.rules.scenario import Scenario

    stack = contextlib.ExitStack()  # held: a dropped stack's generator would end the zygote
    early = stack.enter_context(prestarted()) if sys.argv[3] == "prestarted" else None
    params = Scenario.from_parameters(horizon=int(sys.argv[2])).to_papermill()
    assert early is not None or sys.argv[3] != "prestarted"
    with zygote(warm=params) as z:
        assert z is not None and (early is None or z is early), (z, early)
        k = WarmKernel("python3", Path(sys.argv[1]))
        k.prepare()
        k.wait_until_ready()
        out = []
        code = (
            "import json, time\\n"
            "import qzfp.reporting.sections.display as d\\n"
            "before = len(d._SIM_CACHE)\\n"
            f"params = {params!r}\\n"
            "t0 = time.perf_counter()\\n"
            "d.setup({**params, '_ih': ['scenario_name: str = \\\\'x\\\\'', '# Parameters\\\\n' + "
            "'\\\\n'.join(f'{k} = {v!r}' for k, v in params.items())]})\\n"
            "print(json.dumps({'before': before, 'after': len(d._SIM_CACHE), 's': time.perf_counter() - t0}))\\n"
        )
        reply = run_sync(k.kc.execute_interactive)(
            code, timeout=120, output_hook=lambda m: out.append(m["content"].get("text", "")))
        print(reply["content"]["status"], "".join(out).strip(), flush=True)
        k.shutdown()
""")


@pytest.mark.parametrize("start", ["with the run", "prestarted"])
def test_a_kernel_forked_from_the_warmed_zygote_finds_its_scenario_simulated(tmp_path, start):
    # qzfp run warms the zygote with the first scenario: the notebook's setup() must then hit
    # the simulation the kernel inherited (a warm-up building another scenario would miss);
    # the same when the zygote was started before the run (qzfp run) and warmed when taken
    proc = subprocess.run([sys.executable, "-c", WARMED, str(tmp_path), "3", start], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    status, seen = proc.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "ok", proc.stdout
    seen = json.loads(seen)
    assert seen["before"] == 1 and seen["after"] == 1, seen


def test_qzfp_run_forks_its_kernels_from_a_zygote_and_writes_the_same_pages_as_with_started_kernels(tmp_path):
    repo = Path(__file__).resolve().parents[2]
    scenario = tmp_path / "short.yaml"
    scenario.write_text(f"extends: {repo / 'params' / 'baseline.yaml'}\nscenario_name: short\n"
                        "horizon: 1\nmc_paths: 5\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(repo), "QZFP_PDF": "0"}

    def run(out: Path, **extra: str) -> set[tuple[int, int]]:
        proc = subprocess.Popen([sys.executable, "-m", "qzfp", "run", str(scenario), "--out", str(out), "--quiet"],
                                cwd=repo, env={**env, **extra}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        forked: set[tuple[int, int]] = set()  # (zygote, kernel) seen while it runs
        every_zygote: set[int] = set()
        while proc.poll() is None:
            parents: dict[int, int] = {}
            zygotes: set[int] = set()
            for d in Path("/proc").iterdir():
                if not d.name.isdigit():
                    continue
                try:
                    ppid = int((d / "stat").read_text().rsplit(")", 1)[-1].split()[1])
                    cmd = (d / "cmdline").read_bytes()
                except (OSError, ValueError, IndexError):
                    continue
                parents[int(d.name)] = ppid
                if ppid == proc.pid and b"qzfp.reporting.zygote" in cmd:  # the run's zygote
                    zygotes.add(int(d.name))
            forked |= {(ppid, pid) for pid, ppid in parents.items() if ppid in zygotes}  # its kernels
            every_zygote |= zygotes
            time.sleep(0.05)
        _, err = proc.communicate()
        assert proc.returncode == 0, err
        # one zygote: the one the command started before its imports, taken by the run (not
        # a second one started with the run); none left once the command is done
        assert len(every_zygote) <= 1, every_zygote
        assert not any(alive(z) for z in every_zygote)
        return forked

    forked = run(tmp_path / "forked")
    started = run(tmp_path / "started", QZFP_FORK_KERNELS="0")
    assert len({k for _, k in forked}) >= 2 and not started  # the report's two kernels, forked
    pages = sorted(p.name for p in (tmp_path / "forked" / "short").glob("0*.html"))
    assert len(pages) == 4
    for name in pages:
        assert (tmp_path / "forked" / "short" / name).read_bytes() == \
            (tmp_path / "started" / "short" / name).read_bytes(), name


PRESTARTED = textwrap.dedent("""
    import json, sys, time
    from qzfp.reporting import zygote as zy

    mode = sys.argv[1]
    seen = {}

    def gone(pid):
        end = time.monotonic() + 15
        while zy.alive(pid) and time.monotonic() < end:
            time.sleep(0.02)
        return not zy.alive(pid)

    with zy.prestarted() as early:
        seen["started"] = early is not None and early.running()
        if mode == "other options":  # a kernelspec asking for other interpreter options
            other = [] if zy._PRESTARTED["python3"][1] else ["-Xfrozen_modules=off"]
            zy.kernel_options = lambda name: other
        if mode == "nested":  # a second prestart in the block: each block ends its own
            with zy.prestarted() as inner:
                seen["inner_started"] = inner is not None and inner is not early
            seen["inner_gone"] = gone(inner.pid)
            seen["outer_running"] = early.running()
        elif mode != "not taken":
            with zy.zygote() as z:
                seen["taken"] = z is early
                seen["new_running"] = z is not None and z.running()
                seen["early_gone_during_run"] = z is not early and gone(early.pid)
                other = z.pid
            seen["run_zygote_gone_after_run"] = gone(other)
    seen["early_gone"] = gone(early.pid)
    print(json.dumps(seen))
""")


@pytest.mark.parametrize("mode, expected", [
    ("taken", {"taken": True, "new_running": True, "early_gone_during_run": False}),
    ("other options", {"taken": False, "new_running": True, "early_gone_during_run": True}),
    ("not taken", {}),
    ("nested", {"inner_started": True, "inner_gone": True, "outer_running": True}),
])
def test_a_zygote_started_before_the_run_is_taken_by_it_when_it_fits_and_ended_when_no_run_takes_it(mode, expected):
    # qzfp run starts the zygote before it imports the report machinery: the run takes that
    # zygote (not a second one), unless it was started with other interpreter options; one
    # that no run took (refused scenario files) does not outlive the command
    proc = subprocess.run([sys.executable, "-c", PRESTARTED, mode], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen.pop("started") is True
    assert seen.pop("early_gone") is True
    if mode not in ("not taken", "nested"):
        assert seen.pop("run_zygote_gone_after_run") is True
    assert seen == expected
