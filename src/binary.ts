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
  const triple = TRIPLES[key];
  if (!triple) return null;
  const exe = process.platform === "win32" ? "codex.exe" : "codex";
  const candidates: string[] = [];
  try {
    const pkg = require.resolve(`@openai/codex-${key}/package.json`, { paths: [codexPackageDir() ?? __dirname] });
    candidates.push(path.join(path.dirname(pkg), "vendor", triple, "bin", exe));
  } catch {
    // not installed as its own package: older layouts vendor the binary inside @openai/codex
  }
  const main = codexPackageDir();
  if (main) candidates.push(path.join(main, "vendor", triple, "bin", exe));
  return candidates.find((c) => fs.existsSync(c)) ?? null;
}

function codexPackageDir(): string | null {
  try {
    return path.dirname(require.resolve("@openai/codex/package.json"));
  } catch {
    return null;
  }
}
