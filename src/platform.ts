// Platform names as the native packages spell them: `<os>-<arch>[-<abi>]`, napi-rs's naming.
import * as fs from "node:fs";

/** @internal The platforms a native package is published for. */
export const PLATFORMS = [
  "linux-x64-gnu",
  "linux-x64-musl",
  "linux-arm64-gnu",
  "linux-arm64-musl",
  "darwin-x64",
  "darwin-arm64",
  "win32-x64-msvc",
  "win32-arm64-msvc",
] as const;

/** @internal This process's platform. */
export function currentPlatform(): string {
  const { platform, arch } = process;
  if (platform === "linux") return `linux-${arch}-${isMusl() ? "musl" : "gnu"}`;
  if (platform === "win32") return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

function isMusl(): boolean {
  try {
    return fs.readFileSync("/usr/bin/ldd", "utf8").includes("musl");
  } catch {
    // No ldd to read: glibc reports its version in the process report, musl does not.
    const reporter = process.report as (NodeJS.ProcessReport & { excludeNetwork?: boolean }) | undefined;
    if (reporter) reporter.excludeNetwork = true;
    const report = reporter?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    return !report?.header?.glibcVersionRuntime;
  }
}
