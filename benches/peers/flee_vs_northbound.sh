#!/usr/bin/env bash
# Side by side with Flee 3.1 (PyPI): the same graph (an origin, a chain of
# towns, four camps), the same population set out on day 0, the same days.
# Prints both agent-days per second (one core each) and their ratio, and
# memory per agent. Not part of CI.
#
# Usage: benches/peers/flee_vs_northbound.sh PEOPLE [DAYS]
set -euo pipefail
cd "$(dirname "$0")/../.."
people=${1:-100000}
days=${2:-100}
venv=${FLEE_VENV:-target/flee-venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q flee==3.1
fi
settings=../shared/peers/flee/burundi/simsetting.yml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The northbound version of the graph: towns and camps as places, camps as
# claim points (a camp is where people end), distances as route km.
{
  printf '[scenario]\nname = "flee-peer-graph"\nstart = 2025-01-01\nend = 2025-12-31\nseed = 1\n\n'
  printf '[behaviour]\nspeed_km_per_day = { walk = 200 }\n\n'
  x=0
  for t in origin:0 t1:120 t2:260 t3:410 t4:560 t5:700; do
    printf '[[place]]\nid = "%s"\ncountry = "MX"\nkind = "town"\nlat = 0\nlon = %s\n\n' "${t%%:*}" "$(echo "${t##*:} / 100" | bc -l)"
  done
  for c in camp_a camp_b camp_c camp_d; do
    printf '[[place]]\nid = "%s"\ncountry = "US"\nkind = "camp"\nclaims = true\nlat = 1\nlon = 0\n\n' "$c"
  done
  prev=origin; px=0
  for t in t1:120 t2:260 t3:410 t4:560 t5:700; do
    printf '[[route]]\nfrom = "%s"\nto = "%s"\nkm = %s\nmode = "walk"\n\n' "$prev" "${t%%:*}" "$(( ${t##*:} - px ))"
    prev=${t%%:*}; px=${t##*:}
  done
  for c in camp_a:t2:90 camp_b:t3:150 camp_c:t4:80 camp_d:t5:200; do
    IFS=: read -r name town km <<<"$c"
    printf '[[route]]\nfrom = "%s"\nto = "%s"\nkm = %s\nmode = "walk"\n\n' "$town" "$name" "$km"
  done
  printf '[[population]]\nid = "everyone"\norigin = "origin"\nnationality = "SS"\npeople = 1000\ndestinations = { US = 1.0 }\ndepart = 2025-01-01\n'
} > "$work/graph.toml"
cargo build --release -q
nb=$(./target/release/northbound bench --scenario "$work/graph.toml" --people "$people" --days "$days" --threads 1 --json --quiet)
fl=$("$venv/bin/python" benches/peers/flee_side.py "$settings" "$people" "$days" 2>/dev/null)
python3 - "$nb" "$fl" <<'PY'
import json, sys
nb, fl = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"people {nb['agents']}, days {nb['days']}, one core each")
print(f"northbound: {nb['agent_days_per_s']:.0f} agent-days/s, {nb['bytes_per_agent']:.1f} bytes per agent (peak RSS / agents)")
print(f"flee 3.1:   {fl['agent_days_per_s']:.0f} agent-days/s, {fl['bytes_per_agent']:.1f} bytes per agent (RSS growth while adding agents / agents)")
print(f"ratio:      {nb['agent_days_per_s'] / fl['agent_days_per_s']:.0f}x per core; memory per agent {fl['bytes_per_agent'] / max(nb['bytes_per_agent'], 1e-9):.1f}x less")
PY
