// Types of the ESM entries of `codex-app-server-sdk/wasm` (Node's index.mjs and the browser build).
export * from "./index.js";
