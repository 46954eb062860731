/**
 * The text of answers that are still streaming.
 *
 * The kernel writes an answer's text into the synced `transcript` only now and then (when a table
 * or a chart arrives, and at the end); between those writes it sends coalesced deltas as custom
 * messages `{type: "delta", id, start, text}`, `start` being where `text` begins in the answer (in
 * UTF-16 units, like JS string indices). Custom messages are delivered at once, while state
 * updates are deserialized asynchronously, so a delta may overtake the state write that precedes
 * it. Positions make the merge order-independent: a delta that starts past the known text waits
 * until the text before it arrives; text already known is never appended twice.
 */

export interface Delta {
  start: number;
  text: string;
}

export class LiveText {
  private text = new Map<string, string>();
  private pending = new Map<string, Delta[]>();

  /** The current text of entry `id`, or undefined when nothing streamed for it. */
  get(id: string): string | undefined {
    return this.text.get(id);
  }

  /** Take a delta into account; returns the entry's new text. */
  delta(id: string, delta: Delta): string {
    const list = this.pending.get(id) ?? [];
    list.push(delta);
    this.pending.set(id, list);
    return this.merge(id, this.text.get(id) ?? "");
  }

  /** The synced state gave `stateText` for a streaming entry; returns the text to show. */
  state(id: string, stateText: string): string {
    const current = this.text.get(id) ?? "";
    return this.merge(id, stateText.length >= current.length ? stateText : current);
  }

  /** The entry finished (or vanished): the synced text is authoritative from now on. */
  forget(id: string): void {
    this.text.delete(id);
    this.pending.delete(id);
  }

  private merge(id: string, base: string): string {
    let text = base;
    const list = (this.pending.get(id) ?? []).sort((a, b) => a.start - b.start);
    const waiting: Delta[] = [];
    for (const d of list) {
      const end = d.start + d.text.length;
      if (end <= text.length) continue; // already known
      if (d.start <= text.length) text = text.slice(0, d.start) + d.text;
      else waiting.push(d); // the text before it has not arrived yet
    }
    this.pending.set(id, waiting);
    this.text.set(id, text);
    return text;
  }
}
