// Where the codex binary is. The npm shim (`@openai/codex/bin/codex.js`) would cost a Node start per
// spawn and swallow signals, so we go to the platform package's native binary directly.
import * as fs from "node:fs";
import * as path from "node:path";

const TRIPLES: Record<string, string> = {
  "linux-x64": "x86_64-unknown-linux-musl",
  "linux-arm64": "aarch64-unknown-linux-musl",
  "darwin-x64": "x86_64-apple-darwin",
  "darwin-arm64": "aarch64-apple-darwin",
  "win32-x64": "x86_64-pc-windows-msvc",
  "win32-arm64": "aarch64-pc-windows-msvc",
};

/** `codexPath`, then `$CODEX_PATH`, then the installed `@openai/codex` platform package, then `codex` on PATH. */
export function resolveCodexPath(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.CODEX_PATH) return process.env.CODEX_PATH;
  return bundledCodexPath() ?? "codex";
}

export function bundledCodexPath(): string | null {
  const key = `${process.platform}-${process.arch}`;
  const dirs: string[] = [];
  try {
    const pkg = require.resolve(`@openai/codex-${key}/package.json`, { paths: [codexPackageDir() ?? __dirname] });
    dirs.push(path.dirname(pkg));
  } catch {
    // not installed as its own package: older layouts vendor the binary inside @openai/codex
  }
  const main = codexPackageDir();
  if (main) dirs.push(main);
  return codexBinaryIn(dirs);
}

/** @internal The codex executable inside the first of these package directories that has one. */
export function codexBinaryIn(packageDirs: string[], platform = process.platform, arch = process.arch): string | null {
  const triple = TRIPLES[`${platform}-${arch}`];
  if (!triple) return null;
  const exe = platform === "win32" ? "codex.exe" : "codex";
  const candidates = packageDirs.map((dir) => outsideAsar(path.join(dir, "vendor", triple, "bin", exe)));
  return candidates.find((c) => fs.existsSync(c)) ?? null;
}

/**
 * In a packaged Electron app, modules resolve to paths inside `app.asar`. Electron's patched `fs`
 * reads them there, but the operating system cannot execute a file inside an archive, and the
 * native core spawns the binary with the OS's own exec. Files unpacked by the packager
 * (`asarUnpack`) sit at the same path under `app.asar.unpacked`.
 */
export function outsideAsar(file: string): string {
  return file.replace(/([\\/])app\.asar([\\/])/, "$1app.asar.unpacked$2");
}

function codexPackageDir(): string | null {
  try {
    return path.dirname(require.resolve("@openai/codex/package.json"));
  } catch {
    return null;
  }
}
