import { afterEach, describe, expect, it } from "vitest";
import widget from "../src/widget";
import type { Command, Entry } from "../src/types";
import { FakeModel } from "./fake-model";

/** The fake model, also keeping the buffers sent with each command. */
class BufferModel extends FakeModel {
  buffers: unknown[][] = [];
  send(content: Command, _callbacks?: unknown, buffers?: unknown): void {
    super.send(content);
    this.buffers.push((buffers as unknown[]) ?? []);
  }
}

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
  document.body.replaceChildren();
});

function mount(state: Record<string, unknown> = {}) {
  const model = new BufferModel(state);
  const el = document.createElement("div");
  document.body.append(el);
  cleanup = widget.render({ model, el });
  model.sent.length = 0; // the picker's first list_chats (view.test.ts checks it)
  model.buffers.length = 0;
  return { model, el };
}

const done = (extra: Partial<Entry>): Entry => ({
  id: "a1", role: "assistant", text: "3 rows", status: "done", message_id: "msg_a1", visualizations: [], ...extra,
});

describe("attachments", () => {
  it("sends picked files with the question, as buffers, and forgets them", async () => {
    const { model, el } = mount();
    const input = el.querySelector<HTMLInputElement>(".tj-file-input")!;
    const file = new File(["region,quota\nNorth,1\n"], "targets.csv", { type: "text/csv" });
    Object.defineProperty(input, "files", { value: [file], configurable: true });
    input.dispatchEvent(new Event("change"));
    expect(el.querySelector(".tj-picked")!.textContent).toContain("targets.csv");
    el.querySelector<HTMLTextAreaElement>(".tj-textarea")!.value = "how many rows are in the uploaded table";
    el.querySelector<HTMLButtonElement>(".tj-send")!.click();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(model.sent).toEqual([
      { type: "send", text: "how many rows are in the uploaded table", files: [{ name: "targets.csv", type: "text/csv" }] },
    ]);
    expect(new TextDecoder().decode(model.buffers[0][0] as ArrayBuffer)).toBe("region,quota\nNorth,1\n");
    expect((el.querySelector(".tj-picked") as HTMLElement).hidden).toBe(true);
  });

  it("refuses a sixth file and a file over 30 MB, saying why", () => {
    const { el } = mount();
    const input = el.querySelector<HTMLInputElement>(".tj-file-input")!;
    const files = Array.from({ length: 6 }, (_, i) => new File(["x"], `f${i}.csv`));
    Object.defineProperty(input, "files", { value: files, configurable: true });
    input.dispatchEvent(new Event("change"));
    expect(el.querySelectorAll(".tj-picked-file").length).toBe(5);
    expect(el.querySelector(".tj-error")!.textContent).toContain("At most 5 files");
    const big = new File(["x"], "big.csv");
    Object.defineProperty(big, "size", { value: 30 * 1024 * 1024 + 1 });
    Object.defineProperty(input, "files", { value: [big], configurable: true });
    input.dispatchEvent(new Event("change"));
    expect(el.querySelector(".tj-error")!.textContent).toContain("at most 30 MB");
  });

  it("shows a question's attachments as text", () => {
    const name = '<img src=x onerror="alert(1)">.csv';
    const { el } = mount({
      transcript: [{ id: "u1", role: "user", text: "q", status: "sent", attachments: [{ filename: name, file_size: 2048 }] }],
    });
    const chip = el.querySelector(".tj-attachments .tj-attachment")!;
    expect(chip.querySelector(".tj-attachment-name")!.textContent).toBe(name);
    expect(chip.querySelector("img")).toBeNull();
    expect(chip.textContent).toContain("2.0 KB");
  });
});

describe("save as query", () => {
  const table = { id: "t1", type: "table", headers: ["n"], rows: [[3]], sql: "SELECT count(*) AS n FROM orders" };

  it("offers it under an answer with SQL, titled by the question, and sends save_query", () => {
    const { model, el } = mount({
      transcript: [{ id: "u1", role: "user", text: "how many orders", status: "sent" }, done({ visualizations: [table] })],
    });
    el.querySelector<HTMLButtonElement>(".tj-save-query-button")!.click();
    const title = el.querySelector<HTMLInputElement>(".tj-query-title")!;
    expect(title.value).toBe("how many orders");
    title.value = "Order count";
    el.querySelector<HTMLButtonElement>(".tj-save-query-confirm")!.click();
    expect(model.sent).toEqual([{ type: "save_query", id: "a1", title: "Order count" }]);
  });

  it("is not offered without SQL, and names the query once saved", () => {
    const { el, model } = mount({ transcript: [done({ visualizations: [{ ...table, sql: undefined }] })] });
    expect(el.querySelector(".tj-save-query-button")).toBeNull();
    model.set("transcript", [done({ visualizations: [table], saved_query: { id: "q1", title: "Order count" } })]);
    expect(el.querySelector(".tj-saved-query")!.textContent).toBe("Saved as query “Order count”");
  });
});
