"""Compares Flee's and northbound's out.csv tables over replicates.

Usage: python flee_agreement.py FLEE_OUT_1.csv ... -- NB_OUT_1.csv ...

For each side: the averaged relative difference against the observed camp
counts (plain and rescaled, FLEE_MODEL.md section 5) per replicate, and their
mean and sd. Then, camp by camp and day by day, whether the two means agree
within the spread of the replicates: |mean_flee - mean_nb| <= 2 sd, where sd
is that of one replicate of each side combined (sqrt(sd_flee^2 + sd_nb^2),
at least one agent). Standard library only.
"""
import csv
import math
import sys


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    camps = [h[:-4] for h in head if h.endswith(" sim")]
    sim, data = [], []
    for r in rows[1:]:
        if not r or not r[0].strip().isdigit():
            continue
        sim.append([float(r[2 + 3 * c]) for c in range(len(camps))])
        data.append([float(r[3 + 3 * c]) for c in range(len(camps))])
    return camps, sim, data


def ard(sim, data):
    plain = rescaled = 0.0
    for s, d in zip(sim, data):
        sd, ss = sum(d), sum(s)
        den = max(sd, 1.0)
        k = sd / ss if ss > 0 else 1.0
        plain += sum(abs(a - b) for a, b in zip(s, d)) / den
        rescaled += sum(abs(a * k - b) for a, b in zip(s, d)) / den
    return plain / len(sim), rescaled / len(sim)


def stats(xs):
    m = sum(xs) / len(xs)
    v = sum((x - m) ** 2 for x in xs) / (len(xs) - 1) if len(xs) > 1 else 0.0
    return m, math.sqrt(v)


def main():
    args = sys.argv[1:]
    k = args.index("--")
    sides = {"flee 3.1": [read(p) for p in args[:k]], "northbound": [read(p) for p in args[k + 1:]]}
    camps = sides["flee 3.1"][0][0]
    for name, runs in sides.items():
        if [r[0] for r in runs] != [camps] * len(runs):
            sys.exit("camp columns differ in " + name)
        a = [ard(r[1], r[2]) for r in runs]
        p = stats([x[0] for x in a])
        q = stats([x[1] for x in a])
        print("%-10s replicates %d  ARD plain %.3f (sd %.3f)  rescaled %.3f (sd %.3f)" % (name, len(runs), p[0], p[1], q[0], q[1]))
    f, n = sides["flee 3.1"], sides["northbound"]
    days = min(len(f[0][1]), len(n[0][1]))
    print("%-20s %9s %9s %9s %9s %8s" % ("camp", "flee last", "nb last", "max |z|", "agree %", "rel diff"))
    total_ok = total = 0
    for c, camp in enumerate(camps):
        ok = 0
        zmax = 0.0
        for t in range(days):
            mf, sf = stats([r[1][t][c] for r in f])
            mn, sn = stats([r[1][t][c] for r in n])
            # Within the spread of the replicates: the difference of the two
            # means within two standard deviations of one replicate of each
            # (at least one agent).
            spread = max(math.sqrt(sf ** 2 + sn ** 2), 1.0)
            z = abs(mf - mn) / spread
            zmax = max(zmax, z)
            ok += z <= 2.0
        lf = stats([r[1][days - 1][c] for r in f])[0]
        ln = stats([r[1][days - 1][c] for r in n])[0]
        total_ok += ok
        total += days
        print("%-20s %9.0f %9.0f %9.1f %8.1f%% %8.3f" % (camp, lf, ln, zmax, 100.0 * ok / days, (ln - lf) / max(lf, 1.0)))
    print("camp-days where the means agree within 2 replicate sd: %.1f%%" % (100.0 * total_ok / total))


if __name__ == "__main__":
    main()
