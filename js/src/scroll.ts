/**
 * Where the transcript scrolls to, as a chat does.
 *
 * Three modes:
 * - `bottom`: follow the end (a transcript opened or reloaded, or the reader went to the end);
 * - `pin`: a question was just sent; keep it near the top of the view, the answer grows below it;
 * - `free`: the reader moved; nothing the kernel adds moves what they read.
 *
 * The mode changes only on what the reader does (wheel, touch, scroll keys, a scrollbar drag,
 * Jump to latest) or on a question sent. A scroll event alone never says "the reader scrolled up":
 * a chart or table drawn between the widget's own scroll and its scroll event makes that event
 * report a position far above the end (seen in JupyterLab: 300-400 px). So scroll events count
 * only inside a short window after the reader's own input, and never when they land where the
 * widget itself last scrolled.
 */

export type FollowMode = "bottom" | "pin" | "free";

/** How long after a wheel, touch or key the scroll events it causes are the reader's. */
export const USER_WINDOW_MS = 600;
/** Closer than this to the end counts as "at the end". */
export const END_SLACK_PX = 24;

export type ScrollAction = { kind: "bottom" } | { kind: "pin"; id: string } | null;

export class ScrollFollow {
  mode: FollowMode = "bottom";
  /** The entry kept near the top in `pin` mode. */
  pinned: string | null = null;
  private userUntil = -Infinity;
  private dragging = false;
  private ours: number | null = null;

  constructor(private now: () => number = () => Date.now()) {}

  /** Wheel, touch or a scroll key. `up`: towards the start; `atEnd`: the view is at the end. */
  userInput(up: boolean, atEnd: boolean): void {
    this.userUntil = this.now() + USER_WINDOW_MS;
    this.ours = null;
    this.moveTo(!up && atEnd ? "bottom" : "free");
  }

  /** A press on the transcript's scrollbar starts (or ends) a drag. */
  drag(active: boolean): void {
    this.dragging = active;
    if (active) {
      this.ours = null;
      this.moveTo("free");
    } else this.userUntil = this.now() + USER_WINDOW_MS;
  }

  /** The widget is about to set the scroll position to `top` itself. */
  programmatic(top: number): void {
    this.ours = top;
  }

  /** A scroll event; `top` the scroll position now. Returns true when it was the reader's. */
  scrolled(top: number, atEnd: boolean): boolean {
    if (this.ours !== null && Math.abs(top - this.ours) < 2) return false; // our own scroll
    if (!this.dragging && this.now() > this.userUntil) return false; // layout, anchoring, not the reader
    this.moveTo(atEnd ? "bottom" : "free");
    return true;
  }

  /** The reader sent a question (its entry `id`): keep it near the top while its answer grows. */
  sent(id: string): void {
    this.mode = "pin";
    this.pinned = id;
    this.userUntil = -Infinity;
  }

  /** Jump to latest, or a fresh transcript: follow the end. */
  jump(): void {
    this.moveTo("bottom");
    this.userUntil = -Infinity;
  }

  /** The pinned entry went away (New chat, an edit): follow the end again. */
  forget(id: string): void {
    if (this.pinned === id) this.jump();
  }

  /** What to do when the content changed. */
  action(): ScrollAction {
    if (this.mode === "bottom") return { kind: "bottom" };
    if (this.mode === "pin" && this.pinned !== null) return { kind: "pin", id: this.pinned };
    return null;
  }

  /** Whether to offer "Jump to latest": not following, and the end is out of view. */
  showJump(distanceToEnd: number): boolean {
    return this.mode !== "bottom" && distanceToEnd > END_SLACK_PX * 2;
  }

  private moveTo(mode: FollowMode): void {
    this.mode = mode;
    if (mode !== "pin") this.pinned = null;
  }
}

/** Keys that scroll a focused transcript: `up` for those going towards the start. */
export function scrollKey(e: KeyboardEvent): { up: boolean } | null {
  switch (e.key) {
    case "ArrowUp":
    case "PageUp":
    case "Home":
      return { up: true };
    case "ArrowDown":
    case "PageDown":
    case "End":
      return { up: false };
    case " ":
      return { up: e.shiftKey };
    default:
      return null;
  }
}
