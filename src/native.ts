// The generated napi-rs loader and its types: an internal layer, wrapped by the classes of this package.
import type * as Binding from "../binding/index";

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const binding: typeof Binding = require("../binding/index.js");
export type { BindingClient, BindingStream, BindingTurn } from "../binding/index";
