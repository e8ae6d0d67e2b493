#!/usr/bin/env bash
# Flee 3.1 against northbound's flee model on the shipped Flee scenarios
# (not part of CI: Flee takes about 4 minutes per Burundi replicate).
#
# Usage: bash benches/peers/flee_agreement.sh [REPLICATES] [WORKDIR]
#
# Installs flee==3.1 from PyPI in a virtual environment (WORKDIR/venv), runs
# Flee REPLICATES times on each scenario of ../shared/peers/flee with seeds
# 1..REPLICATES (benches/peers/flee_run.py), runs `northbound validate` with
# flee_compat = "3.1" over the same number of replicates, and compares the
# two (benches/peers/flee_agreement.py). Wall times and CPU seconds (user +
# system) of both are printed; both sides use one core. CPU seconds are the
# figure to quote when the machine is shared: a loaded machine stretches
# both sides' wall times, not by the same factor.
#
# FLEE_SCENARIOS="burundi" limits the scenarios (default: mali2012 burundi).
# Flee's outputs stay in WORKDIR (flee-SCENARIO-SEED.csv); with
# REUSE_FLEE=1 the ones already there are used and only northbound runs
# (no wall-time ratio is printed then; the CPU-seconds ratio is printed
# against the CPU seconds Flee's own run took, kept in
# WORKDIR/flee-SCENARIO-xREPLICATES.cpu, and says so). NB=PATH runs that northbound
# binary instead of building this checkout's.
# Northbound also runs the replicates on two threads and checks that every
# out.csv is byte-identical with the one-thread run (exit 1 if not).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
reps=${1:-5}
work=${2:-$root/target/flee-agreement}
peers=$root/../shared/peers/flee
mkdir -p "$work"
if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install --quiet flee==3.1
fi
py=$work/venv/bin/python
if [ -z "${NB:-}" ]; then
    (cd "$root" && cargo build --release --quiet)
fi
nb=${NB:-$root/target/release/northbound}
# CPU seconds (user + system) of the finished children of this shell, in
# $cpu_s (`times` must run in this shell, not in a command substitution).
cpu() {
    times > "$work/.times"
    cpu_s=$(tail -1 "$work/.times" | awk '{ split($1, u, /m|s/); split($2, s, /m|s/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
}
for sc in ${FLEE_SCENARIOS:-mali2012 burundi}; do
    echo "== $sc"
    flee_csvs=()
    start=$(date +%s.%N)
    cpu
    c0=$cpu_s
    for s in $(seq 1 "$reps"); do
        flee_csvs+=("$work/flee-$sc-$s.csv")
        [ "${REUSE_FLEE:-0}" = 1 ] && continue
        # Flee reads demographics from ./input_csv; run elsewhere so that it
        # does not sample attributes no rule of these scenarios uses.
        (cd "$work" && "$py" "$here/flee_run.py" "$peers/$sc" "$s" > "$work/flee-$sc-$s.csv" 2> "$work/flee-$sc-$s.err")
    done
    flee_s=$(echo "$(date +%s.%N) - $start" | bc)
    cpu
    flee_cpu=$(echo "$cpu_s - $c0" | bc)
    if [ "${REUSE_FLEE:-0}" = 1 ]; then
        flee_cpu=$(cat "$work/flee-$sc-x$reps.cpu" 2>/dev/null || echo "")
    else
        echo "$flee_cpu" > "$work/flee-$sc-x$reps.cpu"
    fi
    rm -rf "$work/nb-$sc"
    start=$(date +%s.%N)
    cpu
    c0=$cpu_s
    "$nb" validate "$peers/$sc" --targets "$peers/$sc/source_data" --replicates "$reps" \
        --flee-compat 3.1 --threads 1 --out "$work/nb-$sc" 2>/dev/null | head -2
    nb_s=$(echo "$(date +%s.%N) - $start" | bc)
    cpu
    nb_cpu=$(echo "$cpu_s - $c0" | bc)
    nb_csvs=("$work/nb-$sc/out.csv")
    for k in $(seq 1 $((reps - 1))); do nb_csvs+=("$work/nb-$sc/replicate-$k/out.csv"); done
    "$py" "$here/flee_agreement.py" "${flee_csvs[@]}" -- "${nb_csvs[@]}"
    # The same replicates on two threads: the pass over arrivals that move
    # on then runs ahead in parallel (src/flee/sim/ahead.rs). Its tables
    # must be the one-thread tables byte for byte, so the agreement figures
    # above are also those of the parallel pass.
    rm -rf "$work/nb-$sc-t2"
    start=$(date +%s.%N)
    "$nb" validate "$peers/$sc" --targets "$peers/$sc/source_data" --replicates "$reps" \
        --flee-compat 3.1 --threads 2 --out "$work/nb-$sc-t2" > /dev/null 2>&1
    t2_s=$(echo "$(date +%s.%N) - $start" | bc)
    same=yes
    for f in "${nb_csvs[@]}"; do
        cmp -s "$f" "$work/nb-$sc-t2/${f#"$work/nb-$sc/"}" || same=no
    done
    printf "northbound, %d replicates, two threads: %.2f s wall; every replicate's out.csv byte-identical with one thread: %s\n" \
        "$reps" "$t2_s" "$same"
    [ "$same" = yes ] || { echo "two threads changed a result" >&2; exit 1; }
    if [ "${REUSE_FLEE:-0}" = 1 ]; then
        printf "northbound, %d replicates, one core: %.2f s wall, %.2f CPU s (Flee's outputs reused: no wall-time ratio)\n" \
            "$reps" "$nb_s" "$nb_cpu"
        if [ -n "$flee_cpu" ]; then
            printf "CPU seconds (user + system) for %d replicates: flee 3.1 %.1f s (its earlier run, %s), northbound %.2f s (%.0fx)\n" \
                "$reps" "$flee_cpu" "$(date -r "$work/flee-$sc-x$reps.cpu" -u +%FT%TZ)" "$nb_cpu" "$(echo "$flee_cpu / $nb_cpu" | bc -l)"
        fi
        continue
    fi
    printf "wall time for %d replicates, one core each: flee 3.1 %.1f s, northbound %.2f s (%.0fx)\n" \
        "$reps" "$flee_s" "$nb_s" "$(echo "$flee_s / $nb_s" | bc -l)"
    printf "CPU seconds (user + system) for %d replicates: flee 3.1 %.1f s, northbound %.2f s (%.0fx)\n" \
        "$reps" "$flee_cpu" "$nb_cpu" "$(echo "$flee_cpu / $nb_cpu" | bc -l)"
done
