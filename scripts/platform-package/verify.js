"use strict";
// Shipped as verify.js in every daemonctl platform package and run as its postinstall: the
// binary must be, byte for byte, the one whose sha256 build.ts recorded in package.json. A
// truncated download, a broken cache or a tampered tarball then fails the install instead of
// leaving a binary that crashes later or does something else.
//
// Plain CommonJS on node:crypto and node:fs only, so that npm, Bun and Deno can all run it as
// `node verify.js` without installing anything.
const { createHash } = require("node:crypto");
const { closeSync, openSync, readFileSync, readSync } = require("node:fs");

const FIELD = "daemonctlBinarySha256";
const BINARY = "bin/daemonctl";

function fail(name, message) {
  process.stderr.write(`${name}: ${message}\n`);
  process.exit(1);
}

// Read in chunks: the binary is over 100 MB and installs run in small containers too.
function sha256Of(path) {
  const hash = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

const pkg = JSON.parse(readFileSync(`${__dirname}/package.json`, "utf8"));
const name = `${pkg.name}@${pkg.version}`;
const expected = pkg[FIELD];
if (typeof expected !== "string" || !/^[0-9a-f]{64}$/.test(expected)) {
  fail(name, `package.json has no valid "${FIELD}"; this package was not built by daemonctl's build.ts`);
}
let actual;
try {
  actual = sha256Of(`${__dirname}/${BINARY}`);
} catch (e) {
  fail(name, `${BINARY} is missing or unreadable (${e && e.code ? e.code : e}); expected sha256 ${expected}. Reinstall daemonctl.`);
}
if (actual !== expected) {
  fail(name, `${BINARY} does not match the published binary: expected sha256 ${expected}, actual ${actual} (a corrupted or tampered install). Reinstall daemonctl.`);
}
