#!/usr/bin/env node
// Writes the npm tarballs into artifacts/:
//   codex-app-server-sdk-<version>.tgz              JS, types and wasm; no native binary, no install script
//   codex-app-server-sdk-<platform>-<version>.tgz   one per platform whose addon is in npm/<platform>/
//                                                  (`npm run build:native -- --target <triple>` puts it there)
// The root package is staged with a publish-time package.json: no `prepare` (a checkout builds with it;
// a consumer must never run it) and every platform package in `optionalDependencies` at this version.
// PACKAGE_REPOSITORY (`owner/name`, the release workflow passes `github.repository`) adds the
// repository, issues and home page of where it is released from.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const artifacts = path.join(root, "artifacts");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const platforms = fs.readdirSync(path.join(root, "npm")).sort();

const npmPack = (dir) => {
  const out = execFileSync("npm", ["pack", dir, "--pack-destination", artifacts, "--json", "--ignore-scripts"], {
    cwd: root,
    encoding: "utf8",
  });
  return path.join(artifacts, JSON.parse(out)[0].filename);
};

for (const needed of ["dist/index.js", "wasm/node/codex_sdk_wasm.js", "wasm/web/codex_sdk_wasm_bg.wasm"]) {
  if (!fs.existsSync(path.join(root, needed))) {
    console.error(`package: ${needed} is missing: run \`npm run build\` first`);
    process.exit(1);
  }
}
fs.mkdirSync(artifacts, { recursive: true });

// The root package.
const stage = fs.mkdtempSync(path.join(os.tmpdir(), "codex-sdk-package-"));
try {
  for (const entry of [...pkg.files, "README.md"]) {
    fs.cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true, filter: (src) => !src.endsWith(".node") });
  }
  const { scripts: _scripts, devDependencies: _dev, napi: _napi, ...published } = pkg;
  published.optionalDependencies = Object.fromEntries(platforms.map((p) => [`${pkg.name}-${p}`, pkg.version]));
  const repository = process.env.PACKAGE_REPOSITORY;
  if (repository) {
    if (!/^[\w.-]+\/[\w.-]+$/.test(repository)) throw new Error(`PACKAGE_REPOSITORY must be owner/name, not ${repository}`);
    published.repository = { type: "git", url: `git+https://github.com/${repository}.git` };
    published.bugs = { url: `https://github.com/${repository}/issues` };
    published.homepage = `https://github.com/${repository}#readme`;
  }
  fs.writeFileSync(path.join(stage, "package.json"), JSON.stringify(published, null, 2) + "\n");
  console.log(`packed ${path.relative(root, npmPack(stage))}`);
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}

// One package per platform whose addon was built.
const missing = [];
for (const platform of platforms) {
  const dir = path.join(root, "npm", platform);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  if (manifest.version !== pkg.version) {
    console.error(`package: npm/${platform} is at ${manifest.version}, the root at ${pkg.version}: run \`npx napi version\``);
    process.exit(1);
  }
  if (!fs.existsSync(path.join(dir, manifest.main))) {
    missing.push(platform);
    continue;
  }
  console.log(`packed ${path.relative(root, npmPack(dir))}`);
}
if (missing.length) console.log(`not built, so not packed: ${missing.join(", ")}`);
