#!/usr/bin/env bash
# The MPI suite: builds northbound with the `mpi` feature and checks that
# runs over 2 (and 4) ranks write byte-identical tables to runs without MPI.
# Run by .ci/run after the cargo tests; needs Open MPI and libclang.
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/mpi}
cargo build --release --features mpi -q || { echo "0 passed, 1 failed"; exit 1; }
B=$CARGO_TARGET_DIR/release/northbound
# Every run under mpirun is bounded: a rank left waiting in a collective is
# a failure of the suite, not a CI job that hangs until its time runs out.
MPIRUN="mpirun --oversubscribe --allow-run-as-root -q"
M="timeout 300 $MPIRUN"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
check() { # name, files, dir-a, dir-b
  local name=$1 a=$3 b=$4 ok=1
  for f in $2; do
    if ! cmp -s "$a/$f" "$b/$f"; then echo "FAIL $name: $f differs"; ok=0; fi
  done
  if [ $ok = 1 ]; then echo "ok   $name"; passed=$((passed+1)); else failed=$((failed+1)); fi
}
run() { "$@" >/dev/null 2>"$work/err" || { echo "FAIL: $*"; cat "$work/err"; failed=$((failed+1)); return 1; }; }

# One population over several processes: P = 1, 2, 4 give the same tables.
T="places.csv outcomes.csv events.csv routes.csv cohort_places.csv periods.csv places.geojson flows.geojson summary.md"
run $B run tests/fixtures/all_levers.toml --by-cohort --out "$work/plain" --quiet
run $B run tests/fixtures/all_levers.toml --by-cohort --partition --out "$work/p1" --quiet
run $M -n 2 $B run tests/fixtures/all_levers.toml --by-cohort --partition --out "$work/p2" --quiet
run $M -n 4 $B run tests/fixtures/all_levers.toml --by-cohort --partition --out "$work/p4" --quiet
check "partition without mpirun = plain run" "$T" "$work/plain" "$work/p1"
check "partition over 2 ranks = plain run" "$T" "$work/plain" "$work/p2"
check "partition over 4 ranks = plain run" "$T" "$work/plain" "$work/p4"
run $B run tests/fixtures/queues.toml --scale 0.3 --out "$work/q1" --quiet
run $M -n 2 $B run tests/fixtures/queues.toml --scale 0.3 --partition --out "$work/q2" --quiet
check "partition over 2 ranks with binding capacities and queues" "places.csv outcomes.csv events.csv" "$work/q1" "$work/q2"

run $B run scenarios/caravan-2025.toml --out "$work/k1" --quiet
run $M -n 2 $B run scenarios/caravan-2025.toml --partition --out "$work/k2" --quiet
check "partition over 2 ranks on days without any request" "places.csv outcomes.csv events.csv" "$work/k1" "$work/k2"
run $B run scenarios/title42-2020-2023.toml --scale 0.02 --out "$work/t1" --quiet
run $M -n 3 $B run scenarios/title42-2020-2023.toml --scale 0.02 --partition --out "$work/t3" --quiet
check "partition over 3 ranks, appointments and expulsions" "places.csv outcomes.csv events.csv" "$work/t1" "$work/t3"

# Ensembles: replicates, comparisons and sweeps spread over ranks.
R="places_summary.csv outcomes_summary.csv events_summary.csv replicate-0/places.csv replicate-3/outcomes.csv replicate-2/events.csv periods.csv places.geojson flows.geojson summary.md datapackage.json report.html"
run $B run scenarios/protocol-2023.toml --replicates 4 --scale 0.2 --out "$work/r1" --quiet
run $M -n 2 $B run scenarios/protocol-2023.toml --replicates 4 --scale 0.2 --out "$work/r2" --quiet
check "replicates over 2 ranks" "$R" "$work/r1" "$work/r2"
run $B compare scenarios/protocol-2023.toml --replicates 3 --scale 0.2 --out "$work/c1" --quiet
run $M -n 2 $B compare scenarios/protocol-2023.toml --replicates 3 --scale 0.2 --out "$work/c2" --quiet
check "compare over 2 ranks" "comparison.csv place_differences.csv periods.csv places.geojson flows.geojson summary.md report.html" "$work/c1" "$work/c2"
run $B sweep scenarios/pathways-2021.toml --param policy.lawful_pathways.quota_per_year=0:20000:10000 --replicates 2 --scale 0.005 --out "$work/s1" --quiet
run $M -n 2 $B sweep scenarios/pathways-2021.toml --param policy.lawful_pathways.quota_per_year=0:20000:10000 --replicates 2 --scale 0.005 --out "$work/s2" --quiet
check "sweep over 2 ranks" "sweep.csv sweep_long.csv summary.md report.html" "$work/s1" "$work/s2"

# The flee model: replicates spread over ranks, gathered in replicate order.
F="replicate-0/places.csv replicate-2/out.csv replicate-1/links.csv"
run $B run ../shared/peers/flee/mali2012 --replicates 3 --out "$work/f1" --quiet
run $M -n 2 $B run ../shared/peers/flee/mali2012 --replicates 3 --out "$work/f2" --quiet
check "flee replicates over 2 ranks" "$F" "$work/f1" "$work/f2"
run $B validate scenarios/flee-burundi.toml --targets ../shared/peers/flee/burundi/source_data --replicates 3 --scale 0.1 --out "$work/v1"
run $M -n 3 $B validate scenarios/flee-burundi.toml --targets ../shared/peers/flee/burundi/source_data --replicates 3 --scale 0.1 --out "$work/v3"
check "flee validation over 3 ranks" "out.csv replicate-1/out.csv replicate-2/out.csv report.html" "$work/v1" "$work/v3"
# Flee variants through the experiment layer: compare spreads the base's and
# each variant's replicates over the ranks; calibrate runs on rank 0 alone.
FC="comparison.csv base/replicate-2/places.csv camp_weight_default/replicate-1/places.csv awareness_two_steps/replicate-0/links.csv"
run $B compare scenarios/flee-mali2012.toml --replicates 3 --scale 0.2 --out "$work/fc1" --quiet
run $M -n 2 $B compare scenarios/flee-mali2012.toml --replicates 3 --scale 0.2 --out "$work/fc2" --quiet
check "flee compare over 2 ranks" "$FC" "$work/fc1" "$work/fc2"
mkdir -p "$work/fk1" "$work/fk2"
FK="flee.camp_weight=1:10 --budget 3 --replicates 2"
# shellcheck disable=SC2086
run $B calibrate scenarios/flee-mali2012.toml --targets ../shared/peers/flee/mali2012/source_data --params $FK --out "$work/fk1/cal.toml"
# shellcheck disable=SC2086
run $M -n 2 $B calibrate scenarios/flee-mali2012.toml --targets ../shared/peers/flee/mali2012/source_data --params $FK --out "$work/fk2/cal.toml"
check "flee calibrate under mpirun = without" "cal.toml" "$work/fk1" "$work/fk2"

# The default model's validate and calibrate through the experiment layer:
# each replicate (of each parameter set) on one rank, gathered on rank 0,
# which prints exactly what one process prints. The calibration writes to
# the same file both times (northbound's own, replaced), so that even the
# line naming it is the same.
printed() { # file, command...: its standard output kept
  local f=$1; shift
  "$@" >"$f" 2>"$work/err" || { echo "FAIL: $*"; cat "$work/err"; failed=$((failed+1)); return 1; }
}
same() { # name, file-a, file-b
  if cmp -s "$2" "$3"; then echo "ok   $1"; passed=$((passed+1)); else echo "FAIL $1"; diff "$2" "$3" | head -20; failed=$((failed+1)); fi
}
DV="validate scenarios/roxham-2017-2020.toml --targets validation/roxham-2017-2018.toml --replicates 3 --scale 0.2"
# shellcheck disable=SC2086
printed "$work/dv1.txt" $B $DV
# shellcheck disable=SC2086
printed "$work/dv2.txt" $M -n 2 $B $DV
same "validate over 2 ranks prints what 1 rank prints" "$work/dv1.txt" "$work/dv2.txt"
mkdir -p "$work/dk"
DK="calibrate scenarios/mexico-visa-2009.toml --targets validation/mexico-visa-2009.toml --params behaviour.w_dist=0.5:3,behaviour.w_fail=0:2 --budget 3 --replicates 3 --quiet --out $work/dk/cal.toml"
# shellcheck disable=SC2086
printed "$work/dk1.txt" $B $DK && cp "$work/dk/cal.toml" "$work/dk1.toml"
# shellcheck disable=SC2086
printed "$work/dk2.txt" $M -n 2 $B $DK
same "calibrate over 2 ranks prints what 1 rank prints" "$work/dk1.txt" "$work/dk2.txt"
same "calibrate over 2 ranks writes what 1 rank writes" "$work/dk1.toml" "$work/dk/cal.toml"
[ -s "$work/dv1.txt" ] && [ -s "$work/dk1.txt" ] || { echo "FAIL validate and calibrate printed nothing"; failed=$((failed+1)); }

# Only rank 0 writes, for every command. A second writer would find the
# destination locked and fail (exit 2), or leave its own partial folder; a
# refusal ends every rank with exit 2 instead of leaving the others waiting.
clean() { # name, dir: no partial folders, old folders or locks left
  if ls -a "$2" | grep -qE '\.partial-|\.old-|\.lock$'; then echo "FAIL $1: debris in $2"; ls -a "$2"; failed=$((failed+1)); else echo "ok   $1"; passed=$((passed+1)); fi
}
run $M -n 2 $B run tests/fixtures/all_levers.toml --by-cohort --out "$work/w2" --quiet
check "run over 2 ranks without --partition: one writer" "places.csv outcomes.csv cohort_places.csv" "$work/plain" "$work/w2"
run $M -n 3 $B sweep scenarios/pathways-2021.toml --param policy.lawful_pathways.quota_per_year=0:20000:10000 --replicates 2 --scale 0.005 --out "$work/s3" --quiet
check "sweep over 3 ranks: rank 0 alone writes sweep.csv" "sweep.csv" "$work/s1" "$work/s3"
run $M -n 2 $B run scenarios/protocol-2023.toml --replicates 2 --scale 0.2 --by-cohort --trace 5 --out "$work/r3" --quiet
run $B run scenarios/protocol-2023.toml --replicates 2 --scale 0.2 --by-cohort --trace 5 --out "$work/r4" --quiet
check "replicates with --by-cohort and --trace over 2 ranks" "replicate-1/cohort_places.csv replicate-1/trace.csv replicate-0/trace.csv" "$work/r4" "$work/r3"
run $B run tests/fixtures/chain.toml --until 2025-01-10 --save-state "$work/st1.state" --out "$work/st1" --quiet
run $M -n 2 $B run tests/fixtures/chain.toml --until 2025-01-10 --save-state "$work/st2.state" --out "$work/st2" --quiet
check "run --until --save-state over 2 ranks: rank 0 runs and writes, every rank exits 0" "places.csv outcomes.csv" "$work/st1" "$work/st2"
same "run --until --save-state over 2 ranks saves the state one process saves" "$work/st1.state" "$work/st2.state"
run $M -n 2 $B import-flee ../shared/peers/flee/mali2012 -o "$work/mali.toml"
run $M -n 2 $B report "$work/r3"
run $B run scenarios/protocol-2023.toml --replicates 2 --scale 0.2 --out "$work/r3" --quiet
printf '[[target]]\nid = "claims_at_c"\nplace = "c"\nmetric = "claims"\nvalue = 1000\nsource = "the chain"\n' > "$work/targets.toml"
run $M -n 2 $B calibrate tests/fixtures/chain.toml --targets "$work/targets.toml" --params behaviour.w_dist=0:2 --budget 1 --replicates 1 --out "$work/cal.toml"
[ "$(head -c 23 "$work/cal.toml")" = "# northbound calibrate " ] && { echo "ok   calibrate over 2 ranks"; passed=$((passed+1)); } || { echo "FAIL calibrate over 2 ranks"; failed=$((failed+1)); }
clean "no debris after every command over several ranks" "$work"
mkdir -p "$work/mine" && echo notes > "$work/mine/notes.txt"
timeout 300 $MPIRUN -n 2 $B sweep scenarios/pathways-2021.toml --param policy.lawful_pathways.quota_per_year=0:20000:10000 --replicates 2 --scale 0.005 --out "$work/mine" --quiet >/dev/null 2>"$work/err"
rc=$?
if [ $rc != 0 ] && [ $rc != 124 ] && grep -q "refusing to write" "$work/err" && [ "$(cat "$work/mine/notes.txt")" = notes ]; then
  echo "ok   a refused destination ends every rank"; passed=$((passed+1))
else echo "FAIL a refused destination ends every rank (exit $rc)"; cat "$work/err"; failed=$((failed+1)); fi

# A failure on one rank ends every rank, reported once by rank 0 as the plain
# run reports it: replicate 1 of tests/fixtures/bad_draw.toml draws a budget
# whose p90 is below its median (see the fixture; replicate 0's draw is
# valid), and under `mpirun -n 2` replicate 1 runs on rank 1 alone. Before
# the ranks agreed on failures, rank 0 waited for rank 1's replicates
# forever: a timeout is a failure.
fails_alike() { # name, out-dir-a, out-dir-b, command... (ending in --out)
  local name=$1 a=$2 b=$3; shift 3
  "$B" "$@" "$a" >/dev/null 2>"$work/plain.err"; local want=$?
  timeout 120 $MPIRUN -n 2 "$B" "$@" "$b" >/dev/null 2>"$work/mpi.err"; local got=$?
  # mpirun ends the ranks still exiting once rank 0 has exited with an
  # error; a rank ended so may print its signal handler's line.
  grep -v -e '^interrupted: ' -e '^$' "$work/mpi.err" >"$work/mpi.said"
  if [ "$want" = 2 ] && [ "$got" = "$want" ] && grep -q "p90 .* is below the median" "$work/plain.err" && cmp -s "$work/plain.err" "$work/mpi.said"; then
    echo "ok   $name"; passed=$((passed+1))
  else
    echo "FAIL $name (exit $want without mpirun, $got with; 124: it hung)"; cat "$work/plain.err" "$work/mpi.err"; failed=$((failed+1))
  fi
}
mkdir -p "$work/fail"
fails_alike "a replicate failing on rank 1 ends both ranks, reported as without MPI" "$work/fail/r1" "$work/fail/r2" \
  run tests/fixtures/bad_draw.toml --replicates 2 --quiet --out
# A study's points: each point's replicate 1 fails, on rank 1.
fails_alike "a sweep point failing on rank 1 ends both ranks, reported as without MPI" "$work/fail/s1" "$work/fail/s2" \
  sweep tests/fixtures/bad_draw.toml --param population.walkers.people=1000:2000:1000 --replicates 2 --quiet --out

echo "mpi: $passed passed, $failed failed"
[ $failed = 0 ]
