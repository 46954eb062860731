/**
 * The chat view: a transcript (role="log"), a status line and an input box.
 *
 * The synced traits are the source of truth (`transcript`, `busy`, `status`, `error`, `chat_id`,
 * `page_size`); this view only draws them, plus the streaming text that arrives as coalesced
 * `delta` messages (see live.ts). What the user does goes back to the kernel as commands
 * (types.ts), never as trait writes, so the kernel decides what happens and the transcript stays
 * consistent across several views of one widget.
 */

import { renderChart } from "./chart";
import { LiveText } from "./live";
import { setMarkdown } from "./markdown";
import { renderTable, type TablePayload } from "./table";
import type { Command, DeltaMessage, Entry, Model, Visualization } from "./types";

const STATUS_TEXT: Record<string, string> = {
  starting: "Starting…",
  thinking: "Thinking…",
  analyzing: "Analyzing…",
  processing: "Processing…",
  queued: "Queued…",
  streaming: "Answering…",
};

export function statusText(status: string | null | undefined): string {
  if (!status) return "";
  return STATUS_TEXT[status] ?? status;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label: string, cls: string, onClick: () => void, aria?: string): HTMLButtonElement {
  const b = el("button", `tj-button ${cls}`, label);
  b.type = "button";
  if (aria) b.setAttribute("aria-label", aria);
  b.addEventListener("click", onClick);
  return b;
}

const SVG_NS = "http://www.w3.org/2000/svg";
const THUMB_PATH =
  "M2 10h3v10H2zM7 20h9.3a2 2 0 0 0 2-1.6l1.6-7A2 2 0 0 0 18 9h-5l.8-4.2A1.8 1.8 0 0 0 10.5 4L7 10z";

/** A thumbs-up icon (down: the same, turned over), drawn inline: no icon font, no network. */
function thumbIcon(down: boolean): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "14");
  svg.setAttribute("height", "14");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", THUMB_PATH);
  path.setAttribute("fill", "currentColor");
  if (down) path.setAttribute("transform", "rotate(180 12 12)");
  svg.append(path);
  return svg;
}

interface EntryView {
  root: HTMLElement;
  body: HTMLElement;
  viz: HTMLElement;
  footer: HTMLElement;
  bodySig: string;
  vizSig: string;
  /** Finalizers of the Vega views drawn in this entry (released when it redraws). */
  charts: Array<() => void>;
  footerSig: string;
}

export class ChatView {
  readonly root: HTMLElement;
  private log: HTMLElement;
  private statusLine: HTMLElement;
  private errorLine: HTMLElement;
  private chatLabel: HTMLElement;
  private input: HTMLTextAreaElement;
  private sendButton: HTMLButtonElement;
  private stopButton: HTMLButtonElement;
  private entries = new Map<string, EntryView>();
  private live = new LiveText();
  private editing: string | null = null;
  private noteFor = new Map<string, "positive" | "negative">();
  private noteForms = new Map<string, HTMLElement>();
  private stick = true;
  private themeObserver: MutationObserver | null = null;
  private listeners: Array<[string, (...args: any[]) => void]> = [];

  constructor(
    private model: Model,
    host: HTMLElement,
  ) {
    this.root = el("div", "tj-chat");
    this.root.setAttribute("role", "region");
    this.root.setAttribute("aria-label", "Trellis chat");

    const header = el("div", "tj-header");
    const title = el("span", "tj-title", "Trellis");
    this.chatLabel = el("span", "tj-chat-id");
    const newChat = button("New chat", "tj-new-chat", () => this.command({ type: "new_chat" }));
    header.append(title, this.chatLabel, newChat);

    this.log = el("div", "tj-log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.setAttribute("aria-label", "Conversation");
    this.log.tabIndex = 0;
    // Follow the streaming answer unless the reader scrolled up to read something earlier.
    this.log.addEventListener("scroll", () => {
      this.stick = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48;
    });

    this.statusLine = el("div", "tj-status");
    this.statusLine.setAttribute("role", "status");
    this.errorLine = el("div", "tj-error");
    this.errorLine.setAttribute("role", "alert");

    const form = el("div", "tj-input");
    this.input = el("textarea", "tj-textarea");
    this.input.rows = 2;
    this.input.placeholder = "Ask a question about your data (Enter sends, Shift+Enter for a new line)";
    this.input.setAttribute("aria-label", "Question");
    this.input.addEventListener("keydown", (e) => this.onKey(e));
    this.sendButton = button("Send", "tj-send tj-primary", () => this.send(), "Send question");
    this.stopButton = button("Stop", "tj-stop", () => this.command({ type: "stop" }), "Stop the answer");
    form.append(this.input, this.sendButton, this.stopButton);

    this.root.append(header, this.log, this.statusLine, this.errorLine, form);
    host.replaceChildren(this.root);

    this.listen("change:transcript", () => this.renderTranscript());
    this.listen("change:busy", () => this.renderControls());
    this.listen("change:status", () => this.renderControls());
    this.listen("change:error", () => this.renderControls());
    this.listen("change:chat_id", () => this.renderControls());
    this.listen("msg:custom", (msg: unknown) => this.onMessage(msg));
    // Charts take the theme's colours when drawn: redraw them when JupyterLab switches theme.
    if (typeof MutationObserver !== "undefined" && document.body) {
      this.themeObserver = new MutationObserver(() => this.redrawCharts());
      this.themeObserver.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light"] });
    }
    this.renderTranscript();
  }

  dispose(): void {
    for (const [event, cb] of this.listeners) this.model.off(event, cb);
    for (const view of this.entries.values()) this.releaseCharts(view);
    this.themeObserver?.disconnect();
    this.listeners = [];
  }

  private listen(event: string, cb: (...args: any[]) => void): void {
    this.model.on(event, cb);
    this.listeners.push([event, cb]);
  }

  private command(cmd: Command): void {
    this.model.send(cmd);
  }

  private get transcript(): Entry[] {
    const value = this.model.get("transcript");
    return Array.isArray(value) ? (value as Entry[]) : [];
  }

  private get busy(): boolean {
    return Boolean(this.model.get("busy"));
  }

  // -- input ------------------------------------------------------------------------------------

  private onKey(e: KeyboardEvent): void {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.send();
    } else if (e.key === "Escape" && this.busy) {
      e.preventDefault();
      this.command({ type: "stop" });
    }
  }

  /** Send the typed question; while an answer streams, the kernel queues it. */
  send(): void {
    const text = this.input.value.trim();
    if (!text) return;
    this.command({ type: "send", text });
    this.input.value = "";
  }

  // -- kernel messages ----------------------------------------------------------------------------

  private onMessage(msg: unknown): void {
    if (!msg || typeof msg !== "object") return;
    const m = msg as Partial<DeltaMessage>;
    if (m.type !== "delta" || typeof m.id !== "string" || typeof m.text !== "string") return;
    const text = this.live.delta(m.id, { start: Number(m.start) || 0, text: m.text });
    const view = this.entries.get(m.id);
    if (view) {
      this.drawText(view, text, true);
      this.scrollToEnd();
    }
  }

  // -- drawing ----------------------------------------------------------------------------------

  private renderControls(): void {
    const busy = this.busy;
    this.stopButton.disabled = !busy;
    this.sendButton.textContent = busy ? "Queue" : "Send";
    this.sendButton.setAttribute("aria-label", busy ? "Queue question" : "Send question");
    this.log.setAttribute("aria-busy", busy ? "true" : "false");
    const status = String(this.model.get("status") || "");
    this.statusLine.textContent = busy ? statusText(status || "streaming") : "";
    // The "waiting" line of an answer with no text yet follows the kernel's latest status.
    for (const line of Array.from(this.log.querySelectorAll(".tj-processing"))) {
      line.textContent = statusText(status || "starting");
    }
    this.errorLine.textContent = String(this.model.get("error") ?? "");
    const chatId = this.model.get("chat_id");
    this.chatLabel.textContent = chatId ? String(chatId) : "";
    this.root.classList.toggle("tj-busy", busy);
  }

  renderTranscript(): void {
    const entries = this.transcript;
    const busy = this.busy;
    const lastUser = entries.map((e) => e.role).lastIndexOf("user");
    const seen = new Set<string>();
    const wanted: HTMLElement[] = [];
    entries.forEach((entry, index) => {
      if (!entry || typeof entry.id !== "string") return;
      seen.add(entry.id);
      let view = this.entries.get(entry.id);
      if (!view) {
        view = this.createEntry(entry);
        this.entries.set(entry.id, view);
      }
      this.updateEntry(view, entry, { editable: index === lastUser && !busy });
      wanted.push(view.root);
    });
    for (const [id, view] of this.entries) {
      if (!seen.has(id)) {
        this.releaseCharts(view);
        view.root.remove();
        this.entries.delete(id);
        this.live.forget(id);
      }
    }
    // Re-order only when needed: moving a node that holds a chart would redraw it.
    wanted.forEach((node, i) => {
      if (this.log.children[i] !== node) this.log.insertBefore(node, this.log.children[i] ?? null);
    });
    this.renderControls();
    this.scrollToEnd();
  }

  private createEntry(entry: Entry): EntryView {
    const root = el("article", `tj-msg tj-${entry.role === "user" ? "user" : "assistant"}`);
    root.dataset.id = entry.id;
    const role = el("div", "tj-role", entry.role === "user" ? "You" : "Trellis");
    const body = el("div", "tj-body");
    const viz = el("div", "tj-viz");
    const footer = el("div", "tj-footer");
    root.append(role, body, viz, footer);
    return { root, body, viz, footer, bodySig: "", vizSig: "", footerSig: "", charts: [] };
  }

  private updateEntry(view: EntryView, entry: Entry, opts: { editable: boolean }): void {
    const status = entry.status ?? "";
    view.root.dataset.status = status;
    const streaming = entry.role === "assistant" && status === "streaming";
    let text = String(entry.text ?? "");
    if (streaming) text = this.live.state(entry.id, text);
    else this.live.forget(entry.id);

    const editingThis = this.editing === entry.id && opts.editable;
    const bodySig = JSON.stringify([text, status, entry.processing, editingThis]);
    if (bodySig !== view.bodySig) {
      view.bodySig = bodySig;
      if (editingThis) this.drawEditor(view, entry);
      else if (entry.role === "user") {
        const p = el("div", "tj-user-text", text);
        view.body.replaceChildren(p);
      } else this.drawText(view, text, streaming, entry.processing);
    }

    const vizSig = JSON.stringify(entry.visualizations ?? []);
    if (vizSig !== view.vizSig) {
      view.vizSig = vizSig;
      this.drawVisualizations(view, entry.visualizations ?? []);
    }

    const footerSig = JSON.stringify([
      entry.role, status, entry.error, entry.feedback, entry.message_id, opts.editable, editingThis,
      this.noteFor.get(entry.id) ?? null,
    ]);
    if (footerSig !== view.footerSig) {
      view.footerSig = footerSig;
      this.drawFooter(view, entry, opts.editable && !editingThis);
    }
  }

  private drawText(view: EntryView, text: string, streaming: boolean, processing?: string | null): void {
    const md = el("div", "tj-md");
    setMarkdown(md, text);
    const parts: HTMLElement[] = [md];
    if (streaming && !text) {
      const waiting = el("div", "tj-processing", statusText(this.model.get("status") || processing || "starting"));
      parts.unshift(waiting);
    }
    view.body.replaceChildren(...parts);
  }

  private releaseCharts(view: EntryView): void {
    for (const finalize of view.charts) finalize();
    view.charts = [];
  }

  private drawVisualizations(view: EntryView, visualizations: Visualization[]): void {
    this.releaseCharts(view);
    const pageSize = Number(this.model.get("page_size")) || 10;
    const nodes = visualizations.map((viz) => {
      if (viz.type === "table") return renderTable(viz as TablePayload, pageSize);
      const box = el("figure", "tj-chart-box");
      if (viz.type === "chart" && viz.spec && typeof viz.spec === "object") {
        const target = el("div", "tj-chart");
        box.append(target);
        void renderChart(target, viz.spec).then((result) => {
          if (result) view.charts.push(() => result.finalize());
        });
      } else {
        const title = viz.title ? `: ${String(viz.title)}` : "";
        box.append(el("div", "tj-chart-error", `A ${String(viz.type ?? "visualization")} this widget cannot draw${title}`));
      }
      return box;
    });
    view.viz.replaceChildren(...nodes);
  }

  private drawFooter(view: EntryView, entry: Entry, editable: boolean): void {
    const items: HTMLElement[] = [];
    const status = entry.status ?? "";
    if (entry.role === "user") {
      if (status === "queued") items.push(el("span", "tj-note", "Queued"));
      if (editable) {
        items.push(button("Edit", "tj-small tj-edit", () => this.startEdit(entry.id), "Edit the last question"));
      }
    } else {
      if (status === "interrupted") items.push(el("span", "tj-note tj-interrupted", "Stopped: the partial answer is kept."));
      if (entry.error) items.push(el("span", "tj-note tj-entry-error", String(entry.error)));
      if (entry.message_id && status === "done") items.push(...this.feedbackControls(entry));
    }
    view.footer.replaceChildren(...items);
  }

  private feedbackControls(entry: Entry): HTMLElement[] {
    const make = (value: "positive" | "negative", aria: string) => {
      const b = button("", `tj-small tj-thumb tj-${value}`, () => {
        this.command({ type: "feedback", id: entry.id, value });
        this.noteFor.set(entry.id, value);
        this.renderTranscript();
        this.noteForms.get(entry.id)?.querySelector("input")?.focus();
      }, aria);
      b.setAttribute("aria-pressed", entry.feedback === value ? "true" : "false");
      b.title = aria;
      b.append(thumbIcon(value === "negative"));
      return b;
    };
    const out: HTMLElement[] = [make("positive", "Good answer"), make("negative", "Bad answer")];
    const noteValue = this.noteFor.get(entry.id);
    if (noteValue) out.push(this.noteForm(entry.id));
    return out;
  }

  /** The optional note after a thumb: one form per entry, kept while the footer redraws. */
  private noteForm(id: string): HTMLElement {
    const existing = this.noteForms.get(id);
    if (existing) return existing;
    const form = el("span", "tj-feedback-note");
    const input = el("input", "tj-note-input");
    input.type = "text";
    input.placeholder = "Add a note (optional)";
    input.setAttribute("aria-label", "Feedback note");
    const close = () => {
      this.noteFor.delete(id);
      this.noteForms.delete(id);
      this.renderTranscript();
    };
    const submit = () => {
      const note = input.value.trim();
      const value = this.noteFor.get(id);
      if (note && value) this.command({ type: "feedback", id, value, note });
      close();
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        submit();
      } else if (e.key === "Escape") {
        e.preventDefault();
        close();
      }
    });
    form.append(input, button("Send note", "tj-small tj-send-note", submit, "Send the feedback note"));
    this.noteForms.set(id, form);
    return form;
  }

  private redrawCharts(): void {
    for (const view of this.entries.values()) {
      if (view.charts.length) view.vizSig = "";
    }
    this.renderTranscript();
  }

  private startEdit(id: string): void {
    this.editing = id;
    this.renderTranscript();
    const area = this.entries.get(id)?.body.querySelector("textarea");
    area?.focus();
  }

  private drawEditor(view: EntryView, entry: Entry): void {
    const area = el("textarea", "tj-textarea tj-edit-box");
    area.value = String(entry.text ?? "");
    area.rows = 2;
    area.setAttribute("aria-label", "Edit the question");
    const save = () => {
      const text = area.value.trim();
      this.editing = null;
      if (text) this.command({ type: "edit", id: entry.id, text });
      this.renderTranscript();
    };
    const cancel = () => {
      this.editing = null;
      this.renderTranscript();
    };
    area.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); save(); }
      if (e.key === "Escape") { e.preventDefault(); cancel(); }
    });
    const actions = el("div", "tj-edit-actions");
    actions.append(
      button("Save and regenerate", "tj-small tj-primary", save, "Save the question and regenerate the answer"),
      button("Cancel", "tj-small", cancel, "Cancel editing"),
    );
    view.body.replaceChildren(area, actions);
  }

  private scrollToEnd(): void {
    if (this.stick) this.log.scrollTop = this.log.scrollHeight;
  }
}
