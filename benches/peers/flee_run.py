"""Runs Flee 3.1 on a Flee scenario folder and prints its out.csv table.

Usage: python flee_run.py FOLDER SEED > out.csv

The day loop is the one FLEE_MODEL.md (section 2.3) describes for Flee's
`runscripts/run.py`, which is not part of the PyPI package: conflicts, then
data-driven spawning, spawn weights, border closures, `Ecosystem.evolve`, and
one row of the table. Flee has no seed parameter; this script seeds Python's
`random` and numpy's global generator, which are the two Flee draws from.
The wall time of the simulation (setup included) goes to stderr as
`seconds: X`. The per-agent and per-link logs (`log_levels.agent`/`link`,
which the Mali settings ask for) are switched off: they change no result,
northbound writes no such files, and they would make the wall times compare
different work.
"""
import os
import random
import sys
import time

import numpy as np
from flee import InputGeography, flee, spawning
from flee.datamanager import handle_refugee_data, read_period
from flee.SimulationSettings import SimulationSettings


def period_file(inp):
    for name in ("sim_period.csv", "conflict_period.csv"):
        p = os.path.join(inp, name)
        if os.path.exists(p):
            return p
    sys.exit("no sim_period.csv or conflict_period.csv in " + inp)


def main():
    folder, seed = os.path.abspath(sys.argv[1]), int(sys.argv[2])
    t0 = time.perf_counter()
    random.seed(seed)
    np.random.seed(seed)
    inp = os.path.join(folder, "input_csv")
    data = os.path.join(folder, "source_data")
    start, length = read_period.read_conflict_period(period_file(inp))
    SimulationSettings.ReadFromYML(os.path.join(folder, "simsetting.yml"))
    SimulationSettings.log_levels["agent"] = 0
    SimulationSettings.log_levels["link"] = 0
    conflicts = os.path.join(inp, "conflicts.csv")
    SimulationSettings.ConflictInputFile = conflicts if os.path.exists(conflicts) else ""
    e = flee.Ecosystem()
    ig = InputGeography.InputGeography()
    if SimulationSettings.ConflictInputFile:
        ig.ReadConflictInputCSV(conflicts)
    ig.ReadLocationsFromCSV(os.path.join(inp, "locations.csv"))
    ig.ReadLinksFromCSV(os.path.join(inp, "routes.csv"))
    ig.ReadClosuresFromCSV(os.path.join(inp, "closures.csv"))
    e, lm = ig.StoreInputGeographyInEcosystem(e)
    d = handle_refugee_data.RefugeeTable(
        csvformat="generic",
        data_directory=data,
        start_date=start,
        data_layout="data_layout.csv",
        population_scaledown_factor=SimulationSettings.optimisations["PopulationScaleDownFactor"],
    )
    d.ReadL1Corrections(os.path.join(inp, "registration_corrections.csv"))
    camps = e.get_camp_names()
    for c in camps:
        spawning.add_initial_refugees(e, d, lm[c])
    head = ["Day", "Date"]
    for c in camps:
        head += [c + " sim", c + " data", c + " error"]
    head += ["Total error", "refugees in camps (UNHCR)", "total refugees (simulation)",
             "raw UNHCR refugee count", "refugees in camps (simulation)", "refugee_debt"]
    print(",".join(head))
    for t in range(length):
        ig.AddNewConflictZones(e, t)
        _, raw, debt = spawning.spawn_daily_displaced(e, t, d)
        spawning.refresh_spawn_weights(e)
        e.enact_border_closures(t)
        e.evolve()
        sims = [lm[c].numAgents for c in camps]
        obs = [d.get_field(c, t) for c in camps]
        row = [str(t), str(DataDate(start, t))]
        for s, o in zip(sims, obs):
            row += [str(s), str(o), str(abs(s - o) / o if o > 0 else 0.0)]
        total_err = sum(abs(s - o) for s, o in zip(sims, obs)) / raw if raw > 0 else 0.0
        row += [str(total_err), str(int(sum(obs))), str(e.numAgents()), str(raw), str(sum(sims)), str(debt)]
        print(",".join(row))
    print("seconds: %.3f" % (time.perf_counter() - t0), file=sys.stderr)


def DataDate(start, t):
    from datetime import date, timedelta
    y, m, dd = (int(x) for x in start.split("-"))
    return date(y, m, dd) + timedelta(days=t)


if __name__ == "__main__":
    main()
