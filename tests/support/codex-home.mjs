// A private CODEX_HOME whose config sends every model call to the scripted stand-in.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export function makeCodexHome(modelUrl, { extra = "" } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "codex-sdk-test-"));
  fs.writeFileSync(
    path.join(dir, "config.toml"),
    `model = "mock-model"
approval_policy = "never"
sandbox_mode = "read-only"
model_provider = "mock_provider"
${extra}
[model_providers.mock_provider]
name = "mock"
base_url = "${modelUrl}"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
`,
  );
  return {
    dir,
    env: { CODEX_HOME: dir, CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG: "1", RUST_LOG: "warn", HOME: shellHome(dir) },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * An empty home for the app-server's login shell (its tool calls and shell snapshot run `bash -lc`):
 * the tests must not run this machine's `.bashrc`. It is slow and shared, and a shell killed in the
 * middle of it can break it for every later one (pyenv's rehash, killed holding its lock, made every
 * login shell on this machine wait 60 s for it).
 */
export function shellHome(dir) {
  const home = path.join(dir, "home");
  fs.mkdirSync(home, { recursive: true });
  return home;
}
