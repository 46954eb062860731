import { describe, expect, it } from "vitest";
import { ScrollFollow, USER_WINDOW_MS, scrollKey } from "../src/scroll";

function clock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

describe("ScrollFollow", () => {
  it("follows the end until a question is sent, then pins that question", () => {
    const f = new ScrollFollow(clock().now);
    expect(f.action()).toEqual({ kind: "bottom" });
    f.sent("u1");
    expect(f.action()).toEqual({ kind: "pin", id: "u1" });
    f.sent("u2");
    expect(f.action()).toEqual({ kind: "pin", id: "u2" });
  });

  it("ignores scroll events the reader did not cause, wherever they land", () => {
    const f = new ScrollFollow(clock().now);
    f.sent("u1");
    // A chart drawn between our scroll and its event: the event reports a spot far from the end.
    expect(f.scrolled(120, false)).toBe(false);
    expect(f.scrolled(0, false)).toBe(false);
    expect(f.action()).toEqual({ kind: "pin", id: "u1" });
    f.jump();
    f.programmatic(900);
    expect(f.scrolled(900, false)).toBe(false);
    expect(f.action()).toEqual({ kind: "bottom" });
  });

  it("lets the reader take over with the wheel, and follows again at the end", () => {
    const c = clock();
    const f = new ScrollFollow(c.now);
    f.userInput(true, false); // wheel up
    expect(f.mode).toBe("free");
    expect(f.action()).toBeNull();
    c.advance(100);
    expect(f.scrolled(300, false)).toBe(true);
    expect(f.mode).toBe("free");
    f.userInput(false, false); // wheel down, not yet at the end
    c.advance(100);
    expect(f.scrolled(800, true)).toBe(true); // reached the end
    expect(f.mode).toBe("bottom");
    // Long after the reader's input, a scroll event is layout again, not the reader.
    c.advance(USER_WINDOW_MS + 50);
    expect(f.scrolled(500, false)).toBe(false);
    expect(f.mode).toBe("bottom");
  });

  it("never takes our own scroll for the reader's, even inside the reader's window", () => {
    const c = clock();
    const f = new ScrollFollow(c.now);
    f.userInput(false, true); // wheel down at the end: still following
    expect(f.mode).toBe("bottom");
    f.programmatic(1200);
    expect(f.scrolled(1200.5, true)).toBe(false);
    expect(f.mode).toBe("bottom");
  });

  it("a wheel up while a question is pinned frees the view; Jump to latest follows again", () => {
    const f = new ScrollFollow(clock().now);
    f.sent("u1");
    f.userInput(true, false);
    expect(f.action()).toBeNull();
    expect(f.pinned).toBeNull();
    expect(f.showJump(400)).toBe(true);
    expect(f.showJump(10)).toBe(false);
    f.jump();
    expect(f.action()).toEqual({ kind: "bottom" });
    expect(f.showJump(400)).toBe(false);
  });

  it("a scrollbar drag counts as the reader for as long as it lasts", () => {
    const c = clock();
    const f = new ScrollFollow(c.now);
    f.drag(true);
    expect(f.mode).toBe("free");
    c.advance(5000);
    expect(f.scrolled(100, false)).toBe(true);
    expect(f.scrolled(1000, true)).toBe(true);
    expect(f.mode).toBe("bottom");
    f.drag(false);
    c.advance(USER_WINDOW_MS + 1);
    expect(f.scrolled(10, false)).toBe(false);
  });

  it("forgets a pinned question that left the transcript", () => {
    const f = new ScrollFollow(clock().now);
    f.sent("u1");
    f.forget("u2");
    expect(f.pinned).toBe("u1");
    f.forget("u1");
    expect(f.action()).toEqual({ kind: "bottom" });
  });

  it("holds for the 3rd, 10th and 30th question whatever layout scroll events come between", () => {
    const c = clock();
    const f = new ScrollFollow(c.now);
    for (let i = 1; i <= 30; i++) {
      f.sent(`u${i}`);
      for (const top of [0, 350, 1281, 422]) {
        f.programmatic(top + 7);
        f.scrolled(top, false); // charts and tables landing after our scroll
        c.advance(40);
      }
      expect(f.action()).toEqual({ kind: "pin", id: `u${i}` });
    }
  });
});

describe("scrollKey", () => {
  const k = (key: string, shiftKey = false) => scrollKey(new KeyboardEvent("keydown", { key, shiftKey }));
  it("knows which keys scroll and which way", () => {
    expect(k("PageUp")).toEqual({ up: true });
    expect(k("ArrowDown")).toEqual({ up: false });
    expect(k(" ", true)).toEqual({ up: true });
    expect(k(" ")).toEqual({ up: false });
    expect(k("a")).toBeNull();
  });
});
