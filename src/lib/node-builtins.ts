/**
 * The shared modules load node: builtins with `process.getBuiltinModule` (a compiled Bun binary
 * pays for node:fs only when it is used). Node has it from 20.16 and 22.3; on an older Node 20,
 * the library gives it one, so the package runs on every Node ≥ 20. Imported first by index.ts.
 */
import { createRequire } from "node:module";

const proc = process as { getBuiltinModule?: (id: string) => unknown };
if (typeof proc.getBuiltinModule !== "function") {
  const require = createRequire(import.meta.url);
  proc.getBuiltinModule = (id: string) => require(id);
}
