import type { Command, Model } from "../src/types";

/** An in-memory stand-in for anywidget's model: traits in a dict, events, recorded commands. */
export class FakeModel implements Model {
  sent: Command[] = [];
  private handlers = new Map<string, Set<(...args: any[]) => void>>();

  constructor(public state: Record<string, unknown> = {}) {
    this.state = { transcript: [], busy: false, status: "", error: "", chat_id: null, page_size: 10, ...state };
  }

  get(name: string): any {
    return this.state[name];
  }

  set(name: string, value: unknown): void {
    this.state[name] = value;
    this.emit(`change:${name}`);
  }

  save_changes(): void {}

  on(event: string, cb: (...args: any[]) => void): void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(cb);
  }

  off(event?: string | null, cb?: ((...args: any[]) => void) | null): void {
    if (!event) this.handlers.clear();
    else if (!cb) this.handlers.delete(event);
    else this.handlers.get(event)?.delete(cb);
  }

  /** False once the kernel is gone: send throws, as anywidget's model does with no comm. */
  alive = true;

  send(content: Command): void {
    if (!this.alive) throw new Error("Cannot send");
    this.sent.push(content);
  }

  /** The kernel sends a custom message. */
  message(content: unknown): void {
    this.emit("msg:custom", content);
  }

  listenerCount(): number {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const cb of this.handlers.get(event) ?? []) cb(...args);
  }
}
