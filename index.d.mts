/// <reference types="node" />
// Types of the ESM entry (index.mjs): the same classes as the CommonJS build, plus the default export.
import sdk = require("./dist/index.js");
export * from "./dist/index.js";
export default sdk;
