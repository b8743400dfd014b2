#!/usr/bin/env node
// Builds the native addon.
//
//   node scripts/build-native.mjs [--target <rust triple>]   the release addon of one platform, into
//                                                            npm/<platform>/ (what `npm run package` packs)
//   node scripts/build-native.mjs --dev                      this machine's addon with the test-only
//                                                            exports, into binding/ (what a checkout runs)
//
// Installs what the target lacks, as scripts/build-wasm.mjs does for wasm: the rustup target, and for
// a cross build cargo-zigbuild with zig (from PyPI's `ziglang`), the linker napi-rs's `--cross-compile`
// drives. Nothing is downloaded from outside the package registries and rustup.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ZIGBUILD_VERSION = "0.24.1";
const ZIG_VERSION = "0.15.2";

/** Rust triple → the platform name of its npm package (napi-rs's naming). */
const PLATFORM_OF = {
  "x86_64-unknown-linux-gnu": "linux-x64-gnu",
  "x86_64-unknown-linux-musl": "linux-x64-musl",
  "aarch64-unknown-linux-gnu": "linux-arm64-gnu",
  "aarch64-unknown-linux-musl": "linux-arm64-musl",
  "x86_64-apple-darwin": "darwin-x64",
  "aarch64-apple-darwin": "darwin-arm64",
  "x86_64-pc-windows-msvc": "win32-x64-msvc",
  "aarch64-pc-windows-msvc": "win32-arm64-msvc",
  // Not published: built here with mingw-w64 to compile and run the Windows code under Wine
  // (scripts/prove-windows.sh); the published Windows packages are MSVC builds.
  "x86_64-pc-windows-gnu": "win32-x64-gnu",
};
/** Built for the Windows proof only: into target/<platform>/, never into npm/ (nothing packs it). */
const UNPUBLISHED = new Set(["x86_64-pc-windows-gnu"]);

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: "inherit", ...opts });
const output = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return null;
  }
};
const fail = (message) => {
  console.error(`build-native: ${message}`);
  process.exit(1);
};

const { values } = parseArgs({ options: { target: { type: "string" }, dev: { type: "boolean", default: false } } });
const host = output("rustc", ["-vV"])?.match(/^host: (\S+)$/m)?.[1];
if (!host) fail("rustc was not found: building the addon needs Rust stable (https://rustup.rs)");
const target = values.target ?? host;
const platform = PLATFORM_OF[target];
if (!platform) fail(`unsupported target ${target}; supported: ${Object.keys(PLATFORM_OF).join(", ")}`);
if (values.dev && target !== host) fail("--dev builds for this machine only");

if (!(output("rustup", ["target", "list", "--installed"]) ?? "").split("\n").includes(target)) {
  run("rustup", ["target", "add", target]);
}

const cross = target !== host;
if (cross) {
  if (target.endsWith("-windows-msvc") && process.platform !== "win32") {
    fail(
      `${target} is built on Windows (the release workflow's windows runner): cross-building it needs ` +
        "the MSVC CRT and Windows SDK, which cargo-xwin would download from Microsoft",
    );
  }
  if (target.endsWith("-windows-gnu")) {
    // cargo links it with mingw-w64's gcc (Debian: gcc-mingw-w64-x86-64), no zig needed.
    if (output("x86_64-w64-mingw32-gcc", ["--version"]) === null) fail(`${target} needs mingw-w64: apt-get install gcc-mingw-w64-x86-64`);
  } else if (output("cargo", ["zigbuild", "--version"]) === null) {
    console.log(`installing cargo-zigbuild ${ZIGBUILD_VERSION} (the cross linker driver)`);
    run("cargo", ["install", "cargo-zigbuild", "--version", ZIGBUILD_VERSION, "--locked"]);
  }
  // cargo-zigbuild finds zig on PATH or as `python3 -m ziglang`.
  if (!target.endsWith("-windows-gnu") && output("zig", ["version"]) === null && output("python3", ["-m", "ziglang", "version"]) === null) {
    console.log(`installing zig ${ZIG_VERSION} from PyPI (ziglang)`);
    run("python3", ["-m", "pip", "install", `ziglang==${ZIG_VERSION}`]);
  }
}

const outDir = values.dev ? path.join(root, "binding") : path.join(root, UNPUBLISHED.has(target) ? "target" : "npm", platform);
const args = ["build", "--platform", "--release", "--manifest-path", "crates/node/Cargo.toml", "--target", target, "--output-dir", outDir, "--no-js"];
if (cross && !target.endsWith("-windows-gnu")) args.push("--cross-compile");
if (values.dev) {
  // The test build carries the hooks the suites use (deliberate panics, the engine binding for the
  // native-vs-wasm conformance suite); its declarations are the internal binding/index.d.ts.
  args.push("--features", "testing", "--dts", "index.d.ts");
} else {
  args.push("--dts", ".index.d.ts");
}
run(process.execPath, [path.join(root, "node_modules/@napi-rs/cli/dist/cli.js"), ...args]);
if (!values.dev) fs.rmSync(path.join(outDir, ".index.d.ts"), { force: true });

const built = path.join(outDir, `codex-sdk.${platform}.node`);
if (!fs.existsSync(built)) fail(`napi build finished but ${built} is missing`);
console.log(`built ${path.relative(root, built)} (${(fs.statSync(built).size / 1024 / 1024).toFixed(1)} MiB)`);
