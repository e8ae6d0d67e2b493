"""Long calls release the GIL, and Ctrl-C stops them cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time

import northbound as nb

from conftest import ROOT


def test_the_gil_is_released_while_the_engine_runs():
    sc = nb.load("scenarios/roxham-2017-2020.toml")
    done = threading.Event()
    ticks = 0

    def work() -> None:
        nb.run(sc, threads=1)
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    while not done.is_set():
        ticks += 1
    worker.join()
    # Python code ran all along the run (a held GIL would have stopped it).
    assert ticks > 10_000


CHILD = textwrap.dedent(
    """
    import sys, time
    import northbound as nb
    sc = nb.load("scenarios/roxham-2017-2020.toml").scaled(20)
    print("running", flush=True)
    try:
        nb.run(sc, threads=1)
    except KeyboardInterrupt:
        print("interrupted at", time.monotonic(), flush=True)
        # The package is still usable after an interrupted run.
        print("then", nb.run("scenarios/caravan-2025.toml").summary["people"], flush=True)
        sys.exit(0)
    print("finished", flush=True)
    sys.exit(3)
    """
)


def test_ctrl_c_stops_a_run_within_a_day_of_the_model(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "running"
    time.sleep(1.5)  # into the run (twenty times the Roxham era: far longer than this)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith("interrupted at"), out
    stopped_after = float(lines[0].split()[-1]) - sent
    assert stopped_after < 5.0, f"the run went on {stopped_after:.1f} s after Ctrl-C"
    assert lines[1].startswith("then ") and int(lines[1].split()[1]) > 0, out


def test_progress_reports_days_of_a_run_and_runs_of_an_ensemble():
    seen = []
    nb.run("scenarios/protocol-2023.toml", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (273, 273)
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    seen.clear()
    nb.compare("scenarios/protocol-2023.toml", replicates=3, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (9, 9)  # the base and two variants, three replicates each


def test_a_progress_function_that_raises_stops_the_work():
    calls = []

    def give_up(done: int, total: int) -> None:
        calls.append(done)
        raise RuntimeError("enough")

    sc = nb.load("scenarios/roxham-2017-2020.toml").scaled(5)
    t = time.monotonic()
    try:
        nb.run(sc, threads=1, progress=give_up)
    except RuntimeError as e:
        assert str(e) == "enough"
    else:
        raise AssertionError("the run should have stopped")
    assert len(calls) == 1 and time.monotonic() - t < 5


def test_progress_draws_a_tqdm_bar(capsys):
    from conftest import needs

    needs("tqdm")
    nb.run("scenarios/caravan-2025.toml", progress=True)
    assert "caravan-2025" in capsys.readouterr().err
