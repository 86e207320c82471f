/**
 * Version and commit. build.ts injects both with `--define`; `bun src/main.ts` and Deno fall
 * back to the package version and "dev".
 */
import pkg from "../package.json" with { type: "json" };

declare const __DAEMONCTL_VERSION__: string | undefined;
declare const __DAEMONCTL_COMMIT__: string | undefined;

export const VERSION: string = typeof __DAEMONCTL_VERSION__ === "string" ? __DAEMONCTL_VERSION__ : pkg.version;
export const COMMIT: string = typeof __DAEMONCTL_COMMIT__ === "string" ? __DAEMONCTL_COMMIT__ : "dev";
