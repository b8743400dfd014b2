// Finds the pinned codex binary for the build scripts, the same way the SDK does at run time.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export function resolveCodexBinary() {
  return require("../dist/binary.js").resolveCodexPath();
}
