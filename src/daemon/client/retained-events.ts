/** The events each host still retains, gathered once (`events --no-follow`), oldest first. */
import { requestOnce } from "../wire/client.ts";
import { daemonFiles, type Dirs } from "../state/paths.ts";
import { eventSchema, type DaemonEvent } from "../../schema/event.ts";

export async function retainedEvents(dirs: Dirs, names: string[], timeoutMs: number): Promise<DaemonEvent[]> {
  const per = await Promise.all(names.map((n) => eventsOf(dirs, n, timeoutMs)));
  // ISO times in UTC sort as text; a stable sort keeps each host's own order for equal times.
  return per.flat().sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}

/** A host that does not answer has nothing to tell: a daemon not running has no retained events. */
async function eventsOf(dirs: Dirs, name: string, timeoutMs: number): Promise<DaemonEvent[]> {
  const r = await requestOnce(daemonFiles(dirs, name).socket, "events", { follow: false }, timeoutMs);
  if (!("kind" in r) || r.kind !== "ok") return [];
  const list = (r.result as { events?: unknown })?.events;
  if (!Array.isArray(list)) return [];
  return list.flatMap((e) => {
    const p = eventSchema().safeParse(e);
    return p.success && p.data.name === name ? [p.data] : [];
  });
}
