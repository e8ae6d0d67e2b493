"""Flee 3.1 on the benchmark graph of flee_vs_northbound.sh.

Usage: python flee_side.py SIMSETTING.yml PEOPLE DAYS
Prints one JSON object: agents, days, seconds, agent_days_per_s, bytes_per_agent.
"""
import json
import resource
import sys
import time

from flee import flee
from flee.SimulationSettings import SimulationSettings

# The graph (the same as the northbound scenario the shell script writes):
# an origin, a chain of towns, and four camps off the chain.
TOWNS = [("origin", 0), ("t1", 120), ("t2", 260), ("t3", 410), ("t4", 560), ("t5", 700)]
CAMPS = [("camp_a", "t2", 90), ("camp_b", "t3", 150), ("camp_c", "t4", 80), ("camp_d", "t5", 200)]


def main():
    yml, people, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    SimulationSettings.ReadFromYML(yml)
    e = flee.Ecosystem()
    locs = {}
    for name, x in TOWNS:
        locs[name] = e.addLocation(name, x=float(x), y=0.0, location_type="town", movechance=1.0 if name == "origin" else 0.3)
    for name, _, _ in CAMPS:
        locs[name] = e.addLocation(name, x=0.0, y=1.0, location_type="camp", movechance=0.001, capacity=10**9, foreign=True)
    for (a, xa), (b, xb) in zip(TOWNS, TOWNS[1:]):
        e.linkUp(a, b, float(xb - xa))
    for name, town, km in CAMPS:
        e.linkUp(town, name, float(km))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    for _ in range(people):
        e.addAgent(location=locs["origin"], attributes={})
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    for _ in range(days):
        e.evolve()
    seconds = time.perf_counter() - t0
    print(json.dumps({
        "agents": people,
        "days": days,
        "seconds": seconds,
        "agent_days_per_s": people * days / seconds,
        "bytes_per_agent": max(rss1 - rss0, 0) / people,
    }))


if __name__ == "__main__":
    main()
