"""The examples never rot: the notebook executes (nbclient) and draws its
charts; the SALib example runs and apportions variance."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT, needs


def test_the_protocol_notebook_executes_and_draws_its_charts():
    nbformat = needs("nbformat")
    nbclient = needs("nbclient")
    needs("matplotlib")
    needs("ipykernel")
    path = ROOT / "examples" / "protocol-2023.ipynb"
    nb = nbformat.read(path, as_version=4)
    # Stored without outputs: what a reader runs is what CI runs.
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 4
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []


def test_the_sobol_example_apportions_the_variance_of_each_output(tmp_path):
    needs("SALib")
    out = tmp_path / "indices.csv"
    p = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "sobol_protocol.py"), "--n", "16", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert p.returncode == 0, p.stderr
    assert "96 runs of protocol-2023" in p.stdout
    import pandas as pd

    t = pd.read_csv(out)
    assert set(t["input"]) == {
        "policy.rcmp_between_ports.detection_rate",
        "policy.stca_protocol.claim_within_days",
        "population.roxham_flow.informed_share",
        "behaviour.w_dist",
    }
    assert {"claimed_ca", "claimed_us"} <= set(t["output"])
    # Knowing the rules drives where people claim once the STCA covers the
    # whole border: informed groups no longer make for Roxham Road.
    ca = t[t["output"] == "claimed_ca"].set_index("input")["ST"]
    assert ca.idxmax() == "population.roxham_flow.informed_share"


@pytest.mark.parametrize("module", ["northbound", "northbound.ema"])
def test_the_package_is_typed(module):
    # py.typed ships, and every public name has a docstring an editor shows.
    import importlib

    m = importlib.import_module(module)
    assert (ROOT / "python" / "northbound" / "py.typed").exists()
    for name in getattr(m, "__all__", []):
        obj = getattr(m, name)
        if callable(obj):
            assert obj.__doc__, f"{module}.{name} has no docstring"


def test_the_stubs_match_the_native_module():
    needs("mypy")
    p = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "northbound._northbound"], capture_output=True, text=True, cwd=ROOT
    )
    assert p.returncode == 0, p.stdout + p.stderr


def test_the_package_type_checks_strictly():
    needs("mypy")
    p = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "-p", "northbound"], capture_output=True, text=True, cwd=ROOT / "python" / "tests"
    )
    assert p.returncode == 0, p.stdout + p.stderr
