/** Lifecycle events: built here, fanned out to socket subscribers and the `notify` command. */
import { EVENT_SCHEMA, type DaemonEvent, type EventType } from "../../schema/event.ts";

export type EventFields = Partial<Pick<DaemonEvent, "pid" | "code" | "signal" | "restarts" | "delayMs" | "message">>;

export function makeEvent(name: string, type: EventType, fields: EventFields = {}): DaemonEvent {
  return {
    schema: EVENT_SCHEMA,
    ts: new Date().toISOString(),
    name,
    type,
    pid: fields.pid ?? null,
    code: fields.code ?? null,
    signal: fields.signal ?? null,
    restarts: fields.restarts ?? null,
    delayMs: fields.delayMs ?? null,
    ...(fields.message !== undefined ? { message: fields.message } : {}),
  };
}

export type EventListener = (event: DaemonEvent) => void;

/**
 * Fans events out to subscribers, and keeps the last few: a host emits `reclaim`/`replace` while
 * it binds, before anyone can be subscribed, and a follower that reconnects after a replacement
 * would otherwise never see them.
 */
export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private readonly recent: DaemonEvent[] = [];

  constructor(private readonly keep = 100) {}

  subscribe(fn: EventListener): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** Retained events strictly newer than `since` (an ISO time), oldest first. */
  since(since: string): DaemonEvent[] {
    return this.recent.filter((e) => e.ts > since);
  }

  emit(event: DaemonEvent): void {
    this.recent.push(event);
    if (this.recent.length > this.keep) this.recent.shift();
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch {
        // one broken listener must not silence the others
      }
    }
  }
}
