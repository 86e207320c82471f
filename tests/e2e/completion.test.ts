/** Shell completion is generated from the command and flag tables, names come from the daemon dirs. */
import { afterAll, expect, test } from "bun:test";
import { dirname } from "node:path";
import { BIN, Sandbox, runProcess } from "../helpers/harness.ts";

const box = new Sandbox();
afterAll(() => box.cleanup());

async function complete(words: string[]): Promise<string[]> {
  const script = (await box.run(["completion", "bash"])).stdout;
  const r = await runProcess(
    "bash",
    ["-c", `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _daemonctl; printf '%s\\n' "\${COMPREPLY[@]}"`],
    { env: box.env({ PATH: `${dirname(BIN)}:${process.env.PATH}` }), cwd: box.dir },
  );
  return r.stdout.split("\n").filter(Boolean).sort();
}

test("bash: commands, per-command flags, daemon names, schema names", async () => {
  expect((await box.run(["start", "alpha", "--", "sleep", "1000"])).code).toBe(0);
  expect((await box.run(["start", "beta", "--", "sleep", "1000"])).code).toBe(0);
  expect(await complete(["daemonctl", "st"])).toEqual(["start", "status", "stop"]);
  expect(await complete(["daemonctl", "start", "--fo"])).toEqual(["--foreground"]);
  expect(await complete(["daemonctl", "stop", ""])).toEqual(["alpha", "beta"]);
  expect(await complete(["daemonctl", "schema", "pl"])).toEqual(["planned-stop"]);
  expect(await complete(["daemonctl", "supervise", "--only"])).toEqual(["--only"]);
  expect(await complete(["daemonctl", "metrics", ""])).toEqual(["alpha", "beta"]);
  expect(await complete(["daemonctl", "supervise", "--met"])).toEqual(["--metrics"]);
});

test("zsh and fish scripts name every command and flag", async () => {
  const help = (await box.run(["--help"])).stdout;
  const commands = ["start", "stop", "restart", "status", "list", "logs", "events", "metrics", "reconcile", "supervise", "schema", "completion"];
  for (const c of commands) expect(help).toContain(c);
  const zsh = (await box.run(["completion", "zsh"])).stdout;
  const fish = (await box.run(["completion", "fish"])).stdout;
  for (const c of commands) {
    expect(zsh).toContain(`'${c}:`);
    expect(fish).toContain(`-a ${c} `);
  }
  for (const c of ["help", "version"]) expect(zsh).toContain(`'${c}:`);
  expect((await box.run(["completion", "bash"])).stdout).toContain("--no-follow");
  for (const flag of ["foreground", "watch", "stop-timeout", "grace", "log-format", "rewrite", "single-child", "remap-exit", "parent-death-signal", "warn-reap", "subreaper", "process-group", "probe-timeout", "no-color", "no-follow", "output", "metrics"]) {
    expect(zsh).toContain(`--${flag}`);
    expect(fish).toContain(`-l ${flag}`);
  }
  const haveZsh = await runProcess("sh", ["-c", "command -v zsh"], { env: process.env as Record<string, string> });
  if (haveZsh.code === 0) expect((await runProcess("zsh", ["-n", "-c", zsh], { env: process.env as Record<string, string> })).code).toBe(0);
  else console.warn("SKIP zsh syntax check: zsh is not installed");
  const haveFish = await runProcess("sh", ["-c", "command -v fish"], { env: process.env as Record<string, string> });
  if (haveFish.code === 0) expect((await runProcess("fish", ["--no-execute", "-c", fish], { env: process.env as Record<string, string> })).code).toBe(0);
  else console.warn("SKIP fish syntax check: fish is not installed");
});
