/** Lifecycle events: built here, fanned out to socket subscribers and the `notify` command. */
import { EVENT_SCHEMA, type DaemonEvent, type EventType } from "../schema/event.ts";

export type EventFields = Partial<Pick<DaemonEvent, "pid" | "code" | "signal" | "restarts" | "delayMs">>;

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
  };
}

export type EventListener = (event: DaemonEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();

  subscribe(fn: EventListener): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  emit(event: DaemonEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch {
        // one broken listener must not silence the others
      }
    }
  }
}
