"""Studies from Python and with SALib: ``nb.sweep(..., design="sobol:N")``
gives the command line's runs, and SALib reads a study folder directly
and finds the same indices as ``northbound analyze``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import northbound as nb

from conftest import needs

PROTOCOL = "scenarios/protocol-2023.toml"
PARAMS = {"behaviour.w_fail": "0:2", "population.roxham_flow.informed_share": "0.2:0.8"}


def cli_args(design: str, out) -> list:
    args = ["sweep", PROTOCOL, "--design", design, "--replicates", "2", "--scale", "0.1", "--out", out]
    for path, r in PARAMS.items():
        args += ["--param", f"{path}={r}"]
    return args


def test_a_sobol_sweep_gives_the_command_lines_runs(cli, tmp_path):
    s = nb.sweep(PROTOCOL, PARAMS, design="sobol:8", replicates=2, scale=0.1)
    assert len(s.runs) == 8 * (2 * 2 + 2) * 2
    assert list(s.runs.columns[:5]) == ["point", "replicate", "seed", *PARAMS]
    cli(*cli_args("sobol:8", tmp_path / "cli"))
    runs = pd.read_csv(tmp_path / "cli" / "runs.csv", dtype={"seed": str})
    for c in runs.columns:
        if c == "seed":
            assert list(s.runs[c].astype(str)) == list(runs[c])
        else:
            np.testing.assert_allclose(s.runs[c].to_numpy(dtype=float), runs[c].to_numpy(dtype=float), rtol=1e-12)
    s.write(tmp_path / "py")
    assert (tmp_path / "py" / "runs.csv").read_bytes() == (tmp_path / "cli" / "runs.csv").read_bytes()


def test_salib_reads_a_study_and_agrees_with_analyze(cli, tmp_path):
    needs("SALib")
    from SALib.analyze import morris, sobol

    for design in ("sobol:8", "morris:6"):
        out = tmp_path / design.replace(":", "")
        cli(*cli_args(design, out))
        cli("analyze", out, "--out")
        problem = json.loads((out / "problem.json").read_text())
        X = pd.read_csv(out / "design.csv").to_numpy()
        runs = pd.read_csv(out / "runs.csv")
        ours = pd.read_csv(out / "analysis.csv")
        for output in ours.output.unique():
            Y = runs.groupby("point")[output].mean().to_numpy()
            mine = ours[ours.output == output]
            if design.startswith("sobol"):
                theirs = sobol.analyze(problem, Y, seed=1)
                pairs = [("S1", "S1"), ("ST", "ST")]
            else:
                theirs = morris.analyze(problem, X, Y, num_levels=problem["northbound"]["num_levels"], seed=1)
                pairs = [("mu", "mu"), ("mu_star", "mu_star"), ("sigma", "sigma")]
            for k, c in pairs:
                np.testing.assert_allclose(np.asarray(theirs[k]), mine[c].to_numpy(), atol=1e-9, err_msg=f"{design} {output} {k}")


def test_a_small_or_unbalanced_sobol_design_warns_as_the_command_does():
    with pytest.warns(nb.NorthboundWarning) as caught:
        nb.sweep(PROTOCOL, PARAMS, design="sobol:3", replicates=1, scale=0.05)
    said = [str(w.message) for w in caught if issubclass(w.category, nb.NorthboundWarning)]
    assert any("design=sobol:3: N is not a power of two" in m for m in said), said
    assert any("fewer than 16 base points" in m for m in said), said
    # A balanced design of enough base points, and a grid, warn of nothing.
    assert nb._native.design_warnings("sobol:64") == []
    assert nb._native.design_warnings("grid") == []
