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
