#!/usr/bin/env bash
# Installs what the tests need (when missing) and runs every test suite: the tag's own (vitest)
# and every NUnit project of the solution. Prints one closing line: "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in redis-server chromium nginx uap-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "==> tag: npm ci, build, test"
(cd tag && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build)
tag_log=$(mktemp)
set +e
(cd tag && NO_COLOR=1 npx vitest run 2>&1) | tee "$tag_log"
tag_rc=${PIPESTATUS[0]}
set -e

echo "==> .NET: build and test the solution"
dotnet build TouchpointTracker.sln -nologo -v q -clp:ErrorsOnly
net_log=$(mktemp)
set +e
dotnet test TouchpointTracker.sln --no-build -nologo 2>&1 | tee "$net_log"
net_rc=${PIPESTATUS[0]}
set -e

passed=0; failed=0
# vitest: "Tests  73 passed (73)" or "Tests  1 failed | 72 passed (73)"
line=$(grep -E '^\s*Tests\s' "$tag_log" | tail -1 || true)
p=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$line"); f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
# dotnet test: "Passed!  - Failed:     0, Passed:    56, Skipped: ..."
while read -r f p; do
  passed=$((passed + p)); failed=$((failed + f))
done < <(sed -nE 's/.*Failed: +([0-9]+), Passed: +([0-9]+),.*/\1 \2/p' "$net_log")
rm -f "$tag_log" "$net_log"

echo "tests: $passed passed, $failed failed"
if [ "$tag_rc" -ne 0 ] || [ "$net_rc" -ne 0 ]; then
  exit 1
fi
