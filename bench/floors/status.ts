export {};
// The least `status NAME --json` can do in Bun: the directory stat and the probe (connect, ask,
// read one line) at once, the pid's identity (its /proc stat and the boot id), one JSON write.
// No argument parsing, no validation: a floor, not a product.
const dir = process.env.DAEMONCTL_RUNTIME_DIR!;
const stat = Bun.file(dir).stat();
const answer = new Promise<string>((resolve, reject) => {
  let buf = "";
  Bun.connect({
    unix: `${dir}/web.sock`,
    socket: {
      open(s) {
        s.write('{"id":1,"method":"status","protocol":1}\n');
      },
      data(s, d) {
        buf += new TextDecoder().decode(d);
        if (buf.endsWith("\n")) {
          s.end();
          resolve(buf);
        }
      },
      error(_s, e) {
        reject(e);
      },
    },
  }).catch(reject);
});
const [st, line] = await Promise.all([stat, answer]);
const status = JSON.parse(line).result;
const [proc, boot] = await Promise.all([Bun.file(`/proc/${status.pid}/stat`).text(), Bun.file("/proc/sys/kernel/random/boot_id").text()]);
await Bun.write(Bun.stdout, `${JSON.stringify(status, null, 2)}\n`);
process.exit(st.mode && proc && boot ? 0 : 1);
