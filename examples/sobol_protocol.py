"""Sobol sensitivity analysis (SALib) of the 2023 STCA protocol scenario.

Which uncertain inputs drive where the Roxham Road flow ends up once the STCA
covers the whole border? Four inputs vary over plausible ranges (the RCMP's
detection rate between ports, the 14-day rule's window, the share of people
who know the rules, the weight of distance in route choice); each sample is
one run of scenarios/protocol-2023.toml with those values, and SALib
apportions the variance of each output among the inputs.

    pip install ./python SALib
    python examples/sobol_protocol.py            # N = 256: 1,536 runs
    python examples/sobol_protocol.py --n 16     # a quick look (CI runs this)

Every run uses the scenario's seed (common random numbers), so the indices
measure the inputs' effects rather than run-to-run noise; --scale runs a
smaller copy of the same system for speed. S1 is the first-order index
(the share of variance an input explains alone), ST the total-order index
(with its interactions); conf is the half-width of SALib's 95 % bootstrap
interval. With small N the intervals are wide: read them before the indices.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from SALib.analyze import sobol
from SALib.sample import sobol as sobol_sample

import northbound as nb

ROOT = Path(__file__).resolve().parents[1]

# Input paths (as in `northbound sweep --param`) and their ranges.
INPUTS = {
    "policy.rcmp_between_ports.detection_rate": (0.5, 1.0),  # assumption: 0.95 in the scenario
    "policy.stca_protocol.claim_within_days": (0, 28),  # the rule says 14; 0 and 28 bracket it
    "population.roxham_flow.informed_share": (0.5, 1.0),  # assumption: 0.9 in the scenario
    "behaviour.w_dist": (0.5, 2.0),  # default 1.0
}
OUTPUTS = ["claimed_ca", "claimed_us", "claims@lacolle", "claims@yul"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=256, help="base samples (a power of 2); runs = n × (inputs + 2)")
    ap.add_argument("--scale", type=float, default=0.2, help="run a copy of the system this size (default 0.2)")
    ap.add_argument("--out", type=Path, help="write the indices here as CSV")
    args = ap.parse_args(argv)

    scenario = nb.load(ROOT / "scenarios" / "protocol-2023.toml").scaled(args.scale)
    problem = {"num_vars": len(INPUTS), "names": list(INPUTS), "bounds": [list(b) for b in INPUTS.values()]}
    samples = sobol_sample.sample(problem, args.n, calc_second_order=False, seed=2023)
    t0 = time.monotonic()
    results = np.array(
        [
            nb.run(scenario.with_values(dict(zip(INPUTS, x)))).outputs.iloc[0][OUTPUTS].to_numpy(dtype=float)
            for x in samples
        ]
    )
    wall = time.monotonic() - t0
    print(f"{len(samples)} runs of {scenario.name} at scale {args.scale} in {wall:.1f} s")

    rows = []
    for j, output in enumerate(OUTPUTS):
        y = results[:, j]
        if np.ptp(y) == 0:
            print(f"{output}: the same in every run; no variance to apportion")
            continue
        si = sobol.analyze(problem, y, calc_second_order=False, seed=2023)
        for i, name in enumerate(INPUTS):
            rows.append(
                {
                    "output": output,
                    "input": name,
                    "S1": si["S1"][i],
                    "S1_conf": si["S1_conf"][i],
                    "ST": si["ST"][i],
                    "ST_conf": si["ST_conf"][i],
                }
            )
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 120, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
