// Loads the native addon: the checkout's own build (`binding/`), else the platform package that
// npm installed from `optionalDependencies`. Our own loader rather than napi's generated one, so
// that a missing or broken addon fails with one clear error naming the platform and the fix.
import * as fs from "node:fs";
import * as path from "node:path";
import type * as Binding from "../binding/index";
import { CodexError } from "./errors";
import { currentPlatform, PLATFORMS } from "./platform";

/** @internal Loads the addon for `platform`, or throws `ERR_NATIVE_BINDING` saying what to do. */
export function loadBinding(platform = currentPlatform(), root = path.join(__dirname, "..")): typeof Binding {
  const pkg = `codex-app-server-sdk-${platform}`;
  const local = path.join(root, "binding", `codex-sdk.${platform}.node`);
  let where: string | null = fs.existsSync(local) ? local : null;
  if (!where) {
    try {
      where = require.resolve(pkg, { paths: [root] });
    } catch {
      where = null;
    }
  }
  const supported = (PLATFORMS as readonly string[]).includes(platform);
  if (!where) {
    const fix = supported
      ? `Its native addon comes in the package ${pkg}, an optional dependency of codex-app-server-sdk that is missing here ` +
        `(installed with --omit=optional or --no-optional, on another platform, or from a lock file made elsewhere). ` +
        `Install it with \`npm install ${pkg}\` or reinstall codex-app-server-sdk without omitting optional dependencies.`
      : `No native addon is published for this platform.`;
    throw new CodexError(
      `codex-app-server-sdk cannot load its native addon on ${platform}. ${fix} Supported platforms: ${PLATFORMS.join(", ")}. ` +
        `(The WebAssembly build, codex-app-server-sdk/wasm, runs anywhere but does not spawn the app-server.)`,
      "ERR_NATIVE_BINDING",
    );
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(where) as typeof Binding;
  } catch (err) {
    throw new CodexError(
      `codex-app-server-sdk could not load its native addon for ${platform} from ${where}: ${(err as Error)?.message ?? err}. ` +
        `The file is damaged or built for another platform: reinstall ${pkg} (or rebuild it with \`npm run build:native\` in a checkout). ` +
        `Supported platforms: ${PLATFORMS.join(", ")}.`,
      "ERR_NATIVE_BINDING",
      { cause: err },
    );
  }
}

/** @internal */
export const binding: typeof Binding = loadBinding();
