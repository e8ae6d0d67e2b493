#!/bin/sh
# The one-at-a-time sensitivity tables of docs/scenarios.md: for every era
# scenario, `northbound sensitivity` (each uncertain input alone at the ends
# of its range, the same seeds at every point), at the scale the tests use
# for the large ones. Prints Markdown; writes each sensitivity.csv to
# out/sensitivity/<scenario>/.
#
#   sh docs/sensitivity.sh [REPLICATES] > /tmp/sensitivity.md
set -eu
N=${1:-3}
NB=${NORTHBOUND:-target/release/northbound}
[ -x "$NB" ] || cargo build --release --quiet
for spec in caravan-2025:1 protocol-2023:1 mexico-visa-2024:1 mexico-visa-2009:1 roxham-2017-2020:0.5 \
    northbound-2025:0.05 title42-2020-2023:0.02 pathways-2021:0.02; do
    name=${spec%%:*}
    scale=${spec##*:}
    echo "### $name (scale $scale, $N replicates)"
    echo
    "$NB" sensitivity "scenarios/$name.toml" --replicates "$N" --scale "$scale" \
        --out "out/sensitivity/$name" --force 2>/dev/null | sed -e '/^sensitivity.csv in/d' -e '1,2d'
    echo
done
