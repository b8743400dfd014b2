/// <reference types="node" />
// The public types of codex-app-server-sdk. The classes' declarations are emitted from the
// TypeScript sources (src/) into dist/; protocol shapes are generated from the pinned app-server's
// schema into protocol.d.ts and available whole as the `Protocol` namespace.
export * from "./dist/index";
