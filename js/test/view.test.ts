import { afterEach, describe, expect, it } from "vitest";
import widget from "../src/widget";
import type { Entry } from "../src/types";
import { KERNEL_GONE } from "../src/view";
import { FakeModel } from "./fake-model";

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
  document.body.replaceChildren();
});

function mount(state: Record<string, unknown> = {}) {
  const model = new FakeModel(state);
  const el = document.createElement("div");
  document.body.append(el);
  cleanup = widget.render({ model, el });
  // The picker asks for recent chats, the empty state for the integration's name and examples.
  expect(model.sent).toEqual([{ type: "list_chats", page: 1 }, { type: "intro" }]);
  model.sent.length = 0;
  const q = <T extends Element = HTMLElement>(sel: string) => el.querySelector(sel) as T;
  return { model, el, q };
}

const user = (id: string, text: string, extra: Partial<Entry> = {}): Entry => ({ id, role: "user", text, status: "sent", ...extra });
const assistant = (id: string, text: string, extra: Partial<Entry> = {}): Entry => ({
  id, role: "assistant", text, status: "done", message_id: `msg_${id}`, visualizations: [], ...extra,
});

function key(target: Element, key: string, opts: KeyboardEventInit = {}): void {
  target.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...opts }));
}

describe("ChatView", () => {
  it("draws the transcript from the synced state", () => {
    const { el } = mount({ transcript: [user("u1", "How many orders?"), assistant("a1", "**1,232** orders")], chat_id: "chat_1" });
    const msgs = el.querySelectorAll("article");
    expect(msgs.length).toBe(2);
    expect(msgs[0].querySelector(".tj-user-text")!.textContent).toBe("How many orders?");
    expect(msgs[1].querySelector("strong")!.textContent).toBe("1,232");
    expect(el.querySelector(".tj-chat-name")!.textContent).toBe("Untitled chat");
    expect(el.querySelector('[role="log"]')).not.toBeNull();
  });

  it("shows the processing status, then streamed deltas, then the final text", () => {
    const { model, el, q } = mount();
    model.state.busy = true;
    model.state.status = "thinking";
    model.set("transcript", [user("u1", "q"), assistant("a1", "", { status: "streaming", processing: "thinking", message_id: null })]);
    expect(q(".tj-processing").textContent).toBe("Thinking…");
    expect(q(".tj-status").textContent).toBe("Thinking…");
    model.set("status", "analyzing");
    expect(q(".tj-processing").textContent).toBe("Analyzing…");
    model.message({ type: "delta", id: "a1", index: 1, start: 0, text: "There were " });
    model.message({ type: "delta", id: "a1", index: 1, start: 11, text: "**42** orders" });
    const body = el.querySelectorAll("article")[1];
    expect(body.querySelector(".tj-processing")).toBeNull();
    expect(body.textContent).toContain("There were 42 orders");
    // A state write mid-stream (a table arrived) must not lose or repeat streamed text.
    model.set("transcript", [user("u1", "q"), assistant("a1", "There were ", { status: "streaming", message_id: null })]);
    expect(el.querySelectorAll("article")[1].querySelector(".tj-md")!.textContent!.trim()).toBe("There were 42 orders");
    model.state.busy = false;
    model.set("transcript", [user("u1", "q"), assistant("a1", "Final: 42 orders.")]);
    expect(el.querySelectorAll("article")[1].querySelector(".tj-md")!.textContent!.trim()).toBe("Final: 42 orders.");
    expect(q(".tj-status").textContent).toBe("");
  });

  it("sends on Enter, keeps Shift+Enter for a new line", () => {
    const { model, q } = mount();
    const input = q<HTMLTextAreaElement>("textarea");
    input.value = "line one";
    key(input, "Enter", { shiftKey: true });
    expect(model.sent).toEqual([]);
    key(input, "Enter");
    expect(model.sent).toEqual([{ type: "send", text: "line one" }]);
    expect(input.value).toBe("");
    key(input, "Enter"); // nothing to send
    expect(model.sent.length).toBe(1);
  });

  it("says what to do when its kernel is gone, and keeps the question", () => {
    // Seen in JupyterLab after a kernel restart: Enter did nothing and the console said "Cannot send".
    const { model, q } = mount();
    model.alive = false;
    const input = q<HTMLTextAreaElement>("textarea");
    input.value = "how many customers";
    key(input, "Enter");
    expect(input.value).toBe("how many customers");
    expect(q(".tj-error").textContent).toBe(KERNEL_GONE);
    q<HTMLButtonElement>(".tj-new-chat").click(); // any control says the same, and throws nothing
    expect(q(".tj-error").textContent).toBe(KERNEL_GONE);
  });

  it("enables Stop only while busy, and Escape stops too", () => {
    const { model, q } = mount();
    const stop = q<HTMLButtonElement>(".tj-stop");
    expect(stop.disabled).toBe(true);
    model.set("busy", true);
    expect(stop.disabled).toBe(false);
    expect(q(".tj-send").textContent).toBe("Queue");
    stop.click();
    key(q("textarea"), "Escape");
    expect(model.sent).toEqual([{ type: "stop" }, { type: "stop" }]);
  });

  it("says when an answer was stopped and keeps its text", () => {
    const { el } = mount({ transcript: [user("u1", "q"), assistant("a1", "partial", { status: "interrupted", message_id: null })] });
    const msg = el.querySelectorAll("article")[1];
    expect(msg.querySelector(".tj-md")!.textContent!.trim()).toBe("partial");
    expect(msg.querySelector(".tj-interrupted")!.textContent).toContain("Stopped");
    expect(msg.querySelector(".tj-thumb")).toBeNull(); // no feedback on an unsaved answer
  });

  it("sends feedback with an optional note", () => {
    const { model, el } = mount({ transcript: [user("u1", "q"), assistant("a1", "answer")] });
    (el.querySelector('button[aria-label="Bad answer"]') as HTMLButtonElement).click();
    expect(model.sent).toEqual([{ type: "feedback", id: "a1", value: "negative" }]);
    const note = el.querySelector(".tj-note-input") as HTMLInputElement;
    expect(document.activeElement).toBe(note);
    // The kernel records the feedback while the note is being typed: the field survives.
    model.set("transcript", [user("u1", "q"), assistant("a1", "answer", { feedback: "negative" })]);
    expect(el.querySelector('button[aria-label="Bad answer"]')!.getAttribute("aria-pressed")).toBe("true");
    const again = el.querySelector(".tj-note-input") as HTMLInputElement;
    expect(again).toBe(note);
    again.value = "wrong region";
    key(again, "Enter");
    expect(model.sent[1]).toEqual({ type: "feedback", id: "a1", value: "negative", note: "wrong region" });
    expect(el.querySelector(".tj-note-input")).toBeNull();
  });

  it("edits only the last question, and not while busy", () => {
    const { model, el } = mount({
      transcript: [user("u1", "first"), assistant("a1", "one"), user("u2", "second"), assistant("a2", "two")],
    });
    const edits = el.querySelectorAll(".tj-edit");
    expect(edits.length).toBe(1);
    expect(edits[0].closest("article")!.getAttribute("data-id")).toBe("u2");
    (edits[0] as HTMLButtonElement).click();
    const box = el.querySelector(".tj-edit-box") as HTMLTextAreaElement;
    expect(box.value).toBe("second");
    box.value = "second, by region";
    key(box, "Enter");
    expect(model.sent).toEqual([{ type: "edit", text: "second, by region" }]);
    model.set("busy", true);
    model.set("transcript", [...model.get("transcript")]);
    expect(el.querySelectorAll(".tj-edit").length).toBe(0);
  });

  it("starts a new chat", () => {
    const { model, q } = mount();
    (q(".tj-new-chat") as HTMLButtonElement).click();
    expect(model.sent).toEqual([{ type: "new_chat" }]);
  });

  it("renders a table visualization as a paged table", () => {
    const rows = Array.from({ length: 12 }, (_, i) => [`r${i}`, i]);
    const { el } = mount({
      page_size: 5,
      transcript: [
        user("u1", "q"),
        assistant("a1", "see table", { visualizations: [{ id: "t1", type: "table", headers: ["a", "b"], rows, sql: "SELECT 1" }] }),
      ],
    });
    expect(el.querySelectorAll("tbody tr").length).toBe(5);
    expect(el.querySelector(".tj-row-count")!.textContent).toBe("12 rows");
    expect(el.querySelector(".tj-sql code")!.textContent).toBe("SELECT 1");
  });

  it("removes entries that left the transcript (new chat) and stops listening when disposed", () => {
    const { model, el } = mount({ transcript: [user("u1", "q"), assistant("a1", "a")] });
    model.set("transcript", []);
    expect(el.querySelectorAll("article").length).toBe(0);
    expect(model.listenerCount()).toBeGreaterThan(0);
    cleanup!();
    cleanup = undefined;
    expect(model.listenerCount()).toBe(0);
  });

  it("draws charts, and draws them again when the theme changes", async () => {
    const spec = {
      data: { values: [{ label: "East", value: 3 }] },
      mark: "bar",
      encoding: { x: { field: "label", type: "nominal" }, y: { field: "value", type: "quantitative" } },
    };
    const { el } = mount({
      transcript: [user("u1", "q"), assistant("a1", "chart", { visualizations: [{ id: "c1", type: "chart", spec }] })],
    });
    const firstSvg = async () => {
      for (let i = 0; i < 100 && !el.querySelector(".tj-chart svg"); i++) await new Promise((r) => setTimeout(r, 10));
      return el.querySelector(".tj-chart svg");
    };
    const before = await firstSvg();
    expect(before).not.toBeNull();
    document.body.dataset.jpThemeLight = "false";
    await new Promise((r) => setTimeout(r, 0)); // the MutationObserver runs
    const after = await firstSvg();
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);
    delete document.body.dataset.jpThemeLight;
  });

  it("keeps every key typed in its text boxes inside the widget", () => {
    const { el, q, model } = mount({ transcript: [user("u1", "q"), assistant("a1", "answer")] });
    const leaked: string[] = [];
    const outside = (e: Event) => leaked.push(`${e.type}:${(e as KeyboardEvent).key}`);
    document.body.addEventListener("keydown", outside);
    document.body.addEventListener("keyup", outside);
    try {
      const input = q<HTMLTextAreaElement>("textarea");
      for (const opts of [{ key: "Enter", shiftKey: true }, { key: "Shift", shiftKey: true }, { key: "a" }, { key: "Escape" }, { key: "s", ctrlKey: true }]) {
        input.dispatchEvent(new KeyboardEvent("keydown", { bubbles: true, cancelable: true, ...opts }));
        input.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true, cancelable: true, ...opts }));
      }
      (el.querySelector(".tj-edit") as HTMLButtonElement).click();
      key(q(".tj-edit-box"), "Enter", { shiftKey: true });
      (el.querySelector('button[aria-label="Good answer"]') as HTMLButtonElement).click();
      key(q(".tj-note-input"), "Enter", { shiftKey: true });
      expect(leaked).toEqual([]);
      // On a button, Enter and letters stay (notebook command mode would act on them); Tab goes on.
      const stop = q(".tj-stop");
      key(stop, "Enter", { shiftKey: true });
      key(stop, "a");
      expect(leaked).toEqual([]);
      key(stop, "Tab");
      key(stop, "s", { ctrlKey: true });
      expect(leaked).toEqual(["keydown:Tab", "keydown:s"]);
      expect(model.sent.filter((c) => c.type === "send")).toEqual([]);
    } finally {
      document.body.removeEventListener("keydown", outside);
      document.body.removeEventListener("keyup", outside);
    }
  });

  it("puts the question box first in Tab order and names every control", () => {
    const { el, q } = mount({
      transcript: [user("u1", "q"), assistant("a1", "answer", { visualizations: [{ id: "t1", type: "table", headers: ["a"], rows: [[1]], sql: "SELECT 1" }] })],
    });
    const tabbable = Array.from(el.querySelectorAll<HTMLElement>("button, textarea, input, [tabindex], summary")).filter(
      (n) => n.tabIndex >= 0 && !(n as HTMLButtonElement).disabled && !n.closest("[hidden]"),
    );
    expect(tabbable[0]).toBe(q("textarea"));
    for (const node of tabbable) {
      const name = node.getAttribute("aria-label") || node.textContent?.trim();
      expect(name, node.outerHTML.slice(0, 80)).toBeTruthy();
    }
  });

  it("opens the note field focused after a thumb, keeps focus through redraws, shows the sent note", () => {
    const { model, el } = mount({ transcript: [user("u1", "q"), assistant("a1", "answer")] });
    const good = el.querySelector('button[aria-label="Good answer"]') as HTMLButtonElement;
    good.focus();
    good.click();
    expect(document.activeElement).toBe(el.querySelector(".tj-note-input"));
    const note = el.querySelector(".tj-note-input") as HTMLInputElement;
    note.value = "nice";
    key(note, "Enter");
    model.set("transcript", [user("u1", "q"), assistant("a1", "answer", { feedback: "positive", feedback_note: "nice" })]);
    expect(el.querySelector(".tj-sent-note")!.textContent).toBe("Your note: nice");
    expect(el.querySelector('button[aria-label="Good answer"]')!.getAttribute("aria-pressed")).toBe("true");
    // A focused thumb keeps focus when the kernel's update redraws the footer.
    const bad = el.querySelector('button[aria-label="Bad answer"]') as HTMLButtonElement;
    bad.focus();
    model.set("transcript", [user("u1", "q"), assistant("a1", "answer", { feedback: "positive", feedback_note: null })]);
    expect(document.activeElement?.getAttribute("aria-label")).toBe("Bad answer");
  });

  it("keeps focus in the question box after sending with the button", () => {
    const { q } = mount();
    const input = q<HTMLTextAreaElement>("textarea");
    input.value = "how many orders?";
    q<HTMLButtonElement>(".tj-send").focus();
    q<HTMLButtonElement>(".tj-send").click();
    expect(document.activeElement).toBe(input);
  });

  it("shows the chat's title, renames it in place, and switches chats from the picker", () => {
    const { model, el, q } = mount({
      chat_id: "chat_2",
      chat_title: "Orders by region",
      chats: [{ id: "chat_2", title: "Orders by region" }, { id: "chat_1", title: "Revenue" }],
      chats_more: true,
    });
    const name = q<HTMLButtonElement>(".tj-chat-name");
    expect(name.textContent).toBe("Orders by region");
    expect(name.getAttribute("aria-label")).toBe("Rename chat: Orders by region");
    name.click();
    const input = q<HTMLInputElement>(".tj-rename");
    expect(document.activeElement).toBe(input);
    input.value = "Regions, 2026";
    key(input, "Enter");
    expect(model.sent).toEqual([{ type: "rename", title: "Regions, 2026" }]);
    expect(document.activeElement).toBe(q(".tj-chat-name"));
    const picker = q<HTMLSelectElement>(".tj-picker");
    expect(picker.getAttribute("aria-label")).toBe("Recent chats");
    expect(Array.from(picker.options).map((o) => o.textContent)).toEqual(["Recent chats…", "Orders by region", "Revenue", "More chats…"]);
    expect(picker.value).toBe("chat_2");
    picker.value = "chat_1";
    picker.dispatchEvent(new Event("change"));
    expect(model.sent[1]).toEqual({ type: "use_chat", chat_id: "chat_1" });
    picker.value = "__more__";
    picker.dispatchEvent(new Event("change"));
    expect(model.sent[2]).toEqual({ type: "list_chats", page: 2 });
    model.set("chat_id", null);
    expect(el.querySelector(".tj-chat-name")!.textContent).toBe("New chat");
  });

  it("shows the integration and example questions before the first question; a click asks", () => {
    const { model, el, q } = mount();
    expect(q(".tj-empty-title").textContent).toBe("Ask a question about your data");
    model.set("intro", { name: "shop", examples: ["How many orders were there last month?", "Total revenue by region"] });
    expect(q(".tj-empty-title").textContent).toBe("Ask a question about shop");
    const examples = Array.from(el.querySelectorAll<HTMLButtonElement>(".tj-example"));
    expect(examples.map((b) => b.getAttribute("aria-label"))).toEqual([
      "Ask: How many orders were there last month?", "Ask: Total revenue by region",
    ]);
    examples[1].click();
    expect(model.sent).toEqual([{ type: "send", text: "Total revenue by region" }]);
    expect(document.activeElement).toBe(q("textarea"));
    model.set("transcript", [user("u1", "Total revenue by region", { status: "queued" })]);
    expect(el.querySelector(".tj-empty")).toBeNull();
    model.set("transcript", []);
    expect(el.querySelector(".tj-empty")).not.toBeNull();
  });
});
