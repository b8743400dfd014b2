#!/usr/bin/env bash
# The slower proofs, run by CI after `npm test` (see .ci/run): cross-builds of every platform this
# machine can build, the tarballs installed into fresh apps (linux-x64 natively, linux-arm64 under
# qemu), the long goal-control sweep, 40 goals through a link cut for up to 10 s at random points,
# and the Windows proof under Wine (scripts/prove-windows.sh, which installs Wine and mingw-w64 itself).
# Needs Debian's qemu-user, libc6-arm64-cross, libstdc++6-arm64-cross and file.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in qemu-aarch64 readelf file; do
  command -v "$tool" >/dev/null || { echo "prove.sh needs $tool (apt-get install qemu-user binutils file)"; exit 1; }
done
[ -d /usr/aarch64-linux-gnu/lib ] || { echo "prove.sh needs libc6-arm64-cross (the arm64 sysroot for qemu)"; exit 1; }
[ -f /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || { echo "prove.sh needs libstdc++6-arm64-cross (arm64 Node links it)"; exit 1; }

# The published Windows targets (MSVC) are built on Windows runners by the release workflow:
# cross-building them needs the MSVC CRT and SDK, which would be downloaded from Microsoft. The GNU
# build of scripts/prove-windows.sh compiles and runs the same Windows code here.
for target in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl \
  aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin; do
  npm run --silent build:native -- --target "$target"
done
rm -rf artifacts
npm run --silent package
PROVE_ALL_CROSS_TARGETS=1 node --test --test-concurrency=1 tests/slow/
GOAL_SWEEP_TRIALS=500 node --test tests/goal-controls.test.mjs
REATTACH_TRIALS=40 REATTACH_MAX_GAP_MS=10000 node --test --test-name-pattern="random points" tests/reattach.test.mjs
# Windows: the addon built with mingw-w64 and run by Node for Windows under Wine.
bash scripts/prove-windows.sh
