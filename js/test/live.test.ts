import { describe, expect, it } from "vitest";
import { LiveText } from "../src/live";

describe("LiveText", () => {
  it("appends deltas in order", () => {
    const live = new LiveText();
    expect(live.delta("a", { start: 0, text: "Hel" })).toBe("Hel");
    expect(live.delta("a", { start: 3, text: "lo" })).toBe("Hello");
  });

  it("never appends known text twice when the state catches up", () => {
    const live = new LiveText();
    live.delta("a", { start: 0, text: "Hello" });
    expect(live.state("a", "Hello")).toBe("Hello");
    expect(live.delta("a", { start: 5, text: " world" })).toBe("Hello world");
    expect(live.state("a", "Hello")).toBe("Hello world"); // an older state write
    expect(live.delta("a", { start: 0, text: "Hello" })).toBe("Hello world"); // a replay
  });

  it("keeps a delta that overtook the state write before it", () => {
    const live = new LiveText();
    expect(live.delta("a", { start: 6, text: "world" })).toBe("");
    expect(live.state("a", "Hello ")).toBe("Hello world");
  });

  it("keeps entries apart and forgets finished ones", () => {
    const live = new LiveText();
    live.delta("a", { start: 0, text: "A" });
    live.delta("b", { start: 0, text: "B" });
    expect(live.get("a")).toBe("A");
    live.forget("a");
    expect(live.get("a")).toBeUndefined();
    expect(live.get("b")).toBe("B");
  });
});
