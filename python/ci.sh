#!/usr/bin/env bash
# The Python suite: builds the package's wheel once (`pip wheel ./python`,
# the README's build), installs it in a fresh virtual environment with the
# tools the tests use (pytest, pandas, nbclient and a kernel, matplotlib,
# SALib, the EMA Workbench, mypy) from PyPI, and runs python/tests: load,
# errors, runs and dtypes, the same numbers as the command line, compare,
# sweep, validate, import-flee, Ctrl-C, the EMA adapter, the SALib example,
# the notebook, the stubs. Run by .ci/run after the Rust suites (whose
# release build the wheel reuses); needs python3 with venv and a network.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
work=${NB_PY_WORK:-target/python-ci}
rm -rf "$work"
python3 -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q --disable-pip-version-check --upgrade pip
echo "python suite: building the wheel"
"$py" -m pip wheel -q --disable-pip-version-check --no-deps ./python -w "$work/wheels"
t_wheel=$((SECONDS - t0))
echo "python suite: installing it and the test tools"
"$py" -m pip install -q --disable-pip-version-check "$work"/wheels/northbound-*.whl \
  pytest nbclient nbformat ipykernel matplotlib tqdm SALib ema_workbench mypy pandas-stubs
t_install=$((SECONDS - t0 - t_wheel))
# The tests import the installed wheel, never the source folder.
NORTHBOUND_TEST_STRICT=1 "$py" -m pytest -q -p no:cacheprovider python/tests
t_tests=$((SECONDS - t0 - t_wheel - t_install))
echo "python suite: ${t_wheel}s wheel, ${t_install}s install, ${t_tests}s tests, $((SECONDS - t0))s in all"
