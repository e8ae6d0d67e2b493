#!/usr/bin/env bash
# The golden check of issue 16: the outputs of every shipped scenario, byte
# for byte. Runs each scenario (the large eras at reduced scale), replicates,
# a comparison, a sweep, a validation, flee runs and a forecast, and compares
# the SHA-256 of every file they write against tests/golden.sha256.
# `summary.json` is hashed with its measured wall time removed and the
# manifest `.northbound.json` (which records the hash of summary.json) is
# left out: they are the only files that depend on the clock.
#
#   bash tests/golden.sh            # check (exit 1 and the differing files)
#   bash tests/golden.sh --record   # write tests/golden.sha256 anew
set -euo pipefail
cd "$(dirname "$0")/.."
B="${NB_BIN:-target/release/northbound}"
[ -n "${NB_BIN:-}" ] || cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cases=(
  "run-caravan|run scenarios/caravan-2025.toml"
  "run-mexico-visa-2009|run scenarios/mexico-visa-2009.toml"
  "run-mexico-visa-2024|run scenarios/mexico-visa-2024.toml"
  "run-northbound-2025|run scenarios/northbound-2025.toml --scale 0.2"
  "run-pathways-2021|run scenarios/pathways-2021.toml --scale 0.02"
  "run-protocol-2023|run scenarios/protocol-2023.toml --by-cohort --trace 5"
  "run-roxham|run scenarios/roxham-2017-2020.toml --period month"
  "run-title42|run scenarios/title42-2020-2023.toml --scale 0.05"
  "rep-protocol-2023|run scenarios/protocol-2023.toml --replicates 3"
  "rep-fixed-caravan|run scenarios/caravan-2025.toml --replicates 3 --fixed-inputs"
  "compare-protocol-2023|compare scenarios/protocol-2023.toml --replicates 3"
  "compare-visa-2024|compare scenarios/mexico-visa-2024.toml --replicates 2 --window 2024-03-01..2024-06-30"
  "sweep-protocol-2023|sweep scenarios/protocol-2023.toml --param behaviour.w_fail=0:2:1 --replicates 2"
  "validate-roxham|validate scenarios/roxham-2017-2020.toml --targets validation/roxham-2017-2018.toml --replicates 2"
  "run-flee-mali|run scenarios/flee-mali2012.toml"
  "run-flee-burundi|run scenarios/flee-burundi.toml --replicates 2"
  "forecast-roxham|forecast scenarios/roxham-2017-2020.toml --observed data/roxham_observed_2017_2020.csv --from 2019-06-01 --horizon 6 --members 12"
)
for c in "${cases[@]}"; do
  name=${c%%|*}
  args=${c#*|}
  # shellcheck disable=SC2086
  case "$args" in validate*) quiet= ;; *) quiet=--quiet ;; esac
  # shellcheck disable=SC2086
  "$B" $args --out "$work/$name" $quiet --threads 2 >"$work/$name.stdout" 2>"$work/$name.stderr" || {
    echo "golden: '$args' failed:"; cat "$work/$name.stderr"; exit 1; }
done
out="$work/golden.sha256"
(
  cd "$work"
  find . -type f ! -name '*.stdout' ! -name '*.stderr' ! -name '.northbound.json' ! -name golden.sha256 | sort |
    while read -r f; do
      case "$f" in
        */summary.json) h=$(sed -E '/"wall_s"|"sha256"|"sim_seconds"/d' "$f" | sha256sum | cut -d' ' -f1) ;;
        *) h=$(sha256sum "$f" | cut -d' ' -f1) ;;
      esac
      echo "$h  ${f#./}"
    done
) >"$out"
if [ "${1:-}" = "--record" ]; then
  cp "$out" tests/golden.sha256
  echo "golden: recorded $(wc -l <"$out") files in tests/golden.sha256"
  exit 0
fi
if diff -u tests/golden.sha256 "$out" >"$work/diff"; then
  echo "golden: $(wc -l <"$out") files byte-identical"
else
  echo "golden: outputs differ from tests/golden.sha256:"
  grep '^[-+][0-9a-f]' "$work/diff" | sort -k2 | head -60
  exit 1
fi
