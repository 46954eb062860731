/**
 * The chat view: a transcript (role="log"), a status line and an input box.
 *
 * The synced traits are the source of truth (`transcript`, `busy`, `status`, `error`, `chat_id`,
 * `page_size`); this view only draws them, plus the streaming text that arrives as coalesced
 * `delta` messages (see live.ts). What the user does goes back to the kernel as commands
 * (types.ts), never as trait writes, so the kernel decides what happens and the transcript stays
 * consistent across several views of one widget.
 */

import { AttachPicker, attachmentList, saveQueryControl } from "./attach";
import { chartTitle, chartTools, renderChart } from "./chart";
import { download } from "./export";
import { ChatHeader } from "./header";
import { LiveText } from "./live";
import { setMarkdown } from "./markdown";
import { scrollKey, ScrollFollow, END_SLACK_PX } from "./scroll";
import { renderTable, type TablePayload } from "./table";
import type { Command, DeltaMessage, Entry, Model, TableRowsMessage, Visualization } from "./types";

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

/** A box people type in: every key typed there belongs to the widget. */
export function isTextField(target: EventTarget | null): boolean {
  if (!target || typeof (target as Node).nodeType !== "number") return false;
  const node = target as HTMLElement;
  if (node instanceof HTMLTextAreaElement || node.isContentEditable) return true;
  if (node instanceof HTMLInputElement) {
    return !["button", "checkbox", "radio", "submit", "reset", "file", "range", "color"].includes(node.type);
  }
  return node instanceof HTMLSelectElement;
}

/** Keys that act on a focused button, link or the transcript itself (activate, move, scroll). */
const CONTROL_KEYS = new Set([
  "Enter", " ", "Escape", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "PageUp", "PageDown", "Home", "End",
]);

/**
 * Whether a keydown inside the widget must stay there. JupyterLab's and Notebook 7's notebook
 * handle keydown for anything inside a cell (Shift+Enter runs the cell, Enter enters edit mode,
 * a letter in command mode inserts or deletes cells), so: nothing typed in a text box leaves
 * the widget; on other controls, the keys that act on them and single letters stay too, while
 * Tab (focus moves on) and shortcuts with Ctrl, Alt or Meta (save, the command palette) go on.
 */
export function keepsKey(e: KeyboardEvent): boolean {
  if (isTextField(e.target)) return true;
  if (e.key === "Tab" || e.ctrlKey || e.metaKey || e.altKey) return false;
  return CONTROL_KEYS.has(e.key) || e.key.length === 1;
}

/** Run `draw`, which may replace the focused control inside `box`; then give focus back. */
function keepingFocus(box: HTMLElement, draw: () => void): void {
  const active = document.activeElement as HTMLElement | null;
  const inside = active !== null && box.contains(active);
  const key = inside ? active.dataset.key : undefined;
  draw();
  if (!inside || document.activeElement === active) return;
  if (active.isConnected) active.focus();
  else if (key) box.querySelector<HTMLElement>(`[data-key="${key}"]`)?.focus();
}

/** Space kept above a pinned question. */
const PIN_MARGIN_PX = 8;
export const KERNEL_GONE =
  "This chat lost its kernel (restarted or shut down): run the cell that shows it again. Your question is kept.";

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
  private header: ChatHeader;
  private input: HTMLTextAreaElement;
  private sendButton: HTMLButtonElement;
  private stopButton: HTMLButtonElement;
  private picker: AttachPicker;
  private entries = new Map<string, EntryView>();
  private live = new LiveText();
  private editing: string | null = null;
  private noteFor = new Map<string, "positive" | "negative">();
  private noteForms = new Map<string, HTMLElement>();
  private follow = new ScrollFollow();
  private jumpButton: HTMLButtonElement;
  private rendered = false;
  private sentPending = 0;
  private resizes: ResizeObserver | null = null;
  private themeObserver: MutationObserver | null = null;
  private listeners: Array<[string, (...args: any[]) => void]> = [];

  constructor(
    private model: Model,
    host: HTMLElement,
  ) {
    this.root = el("div", "tj-chat");
    this.root.setAttribute("role", "region");
    this.root.setAttribute("aria-label", "Trellis chat");
    this.root.setAttribute("data-lm-suppress-shortcuts", "true");
    this.root.tabIndex = -1; // focusable from code (its top), not a Tab stop of its own
    for (const type of ["keydown", "keypress", "keyup"] as const) {
      this.root.addEventListener(type, (e) => {
        if (keepsKey(e)) e.stopPropagation();
      });
    }

    this.header = new ChatHeader(model, (cmd) => this.command(cmd));
    const header = this.header.root;

    this.log = el("div", "tj-log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.setAttribute("aria-label", "Conversation");
    this.log.tabIndex = 0;
    this.watchScrolling();
    this.jumpButton = button("Jump to latest ↓", "tj-small tj-jump", () => this.jumpToLatest(), "Jump to latest");
    this.jumpButton.hidden = true;
    const logBox = el("div", "tj-log-box");
    logBox.append(this.log, this.jumpButton);

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
    this.picker = new AttachPicker((message) => { this.errorLine.textContent = message; });
    form.append(this.picker.chips, this.input, this.picker.button, this.picker.input, this.sendButton, this.stopButton);

    // The question box comes first in the document, so that one Tab from the widget's top
    // reaches it; CSS `order` still shows it under the transcript, as chats do.
    this.root.append(form, header, logBox, this.statusLine, this.errorLine);
    host.replaceChildren(this.root);

    this.listen("change:transcript", () => this.renderTranscript());
    this.listen("change:busy", () => this.renderTranscript()); // Edit shows once idle
    this.listen("change:status", () => this.renderControls());
    this.listen("change:error", () => this.renderControls());
    this.listen("change:chat_id", () => this.renderControls());
    this.listen("change:chat_title", () => this.renderControls());
    this.listen("change:chats", () => this.renderControls());
    this.listen("change:chats_more", () => this.renderControls());
    this.listen("change:intro", () => this.renderTranscript());
    this.listen("msg:custom", (msg: unknown) => this.onMessage(msg));
    // Charts take the theme's colours when drawn: redraw them when JupyterLab switches theme.
    if (typeof MutationObserver !== "undefined" && document.body) {
      this.themeObserver = new MutationObserver(() => this.redrawCharts());
      this.themeObserver.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light"] });
    }
    this.renderTranscript();
    this.command({ type: "list_chats", page: 1 }); // the picker's chats
    this.command({ type: "intro" }); // the empty state's integration name and examples
  }

  dispose(): void {
    for (const [event, cb] of this.listeners) this.model.off(event, cb);
    for (const view of this.entries.values()) this.releaseCharts(view);
    this.themeObserver?.disconnect();
    this.resizes?.disconnect();
    this.listeners = [];
  }

  private listen(event: string, cb: (...args: any[]) => void): void {
    this.model.on(event, cb);
    this.listeners.push([event, cb]);
  }

  /** Send a command to the kernel. False, with a line saying what to do, when the kernel is gone:
   *  after a restart the widget's model has no comm, and sending throws ("Cannot send"). */
  private command(cmd: Command, buffers?: ArrayBuffer[]): boolean {
    try {
      this.model.send(cmd, undefined, buffers);
      return true;
    } catch {
      this.errorLine.textContent = KERNEL_GONE;
      return false;
    }
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
    if (this.picker.picked.length) {
      // The files go with the question: the kernel uploads them, then asks.
      this.picker.take().then(
        ({ files, buffers }) => {
          if (!this.command({ type: "send", text, files }, buffers) && !this.input.value) this.input.value = text;
        },
        () => { this.errorLine.textContent = "The attached files could not be read: pick them again."; },
      );
    } else if (!this.command({ type: "send", text })) {
      return; // the question stays in the box, to send once the widget is back
    }
    this.sentPending += 1;
    this.input.value = "";
    this.input.focus(); // after a click on Send too: the next question is typed right away
  }

  // -- kernel messages ----------------------------------------------------------------------------

  private requests = new Map<number, (rows: unknown[][] | null) => void>();
  private nextRequest = 1;

  /** Every row of table `index` of entry `entry`, from the kernel (null if it cannot say). */
  private fetchRows(entry: string, index: number): Promise<unknown[][] | null> {
    const request = this.nextRequest++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(null), 60_000);
      const finish = (rows: unknown[][] | null) => {
        clearTimeout(timer);
        this.requests.delete(request);
        resolve(rows);
      };
      this.requests.set(request, finish);
      this.command({ type: "table_rows", entry, index, request });
    });
  }

  private onMessage(msg: unknown): void {
    if (!msg || typeof msg !== "object") return;
    const reply = msg as Partial<TableRowsMessage>;
    if (reply.type === "table_rows" && typeof reply.request === "number") {
      this.requests.get(reply.request)?.(Array.isArray(reply.rows) ? reply.rows : null);
      return;
    }
    const m = msg as Partial<DeltaMessage>;
    if (m.type !== "delta" || typeof m.id !== "string" || typeof m.text !== "string") return;
    const text = this.live.delta(m.id, { start: Number(m.start) || 0, text: m.text });
    const view = this.entries.get(m.id);
    if (view) {
      this.drawText(view, text, true);
      this.applyScroll();
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
    this.header.render();
    this.root.classList.toggle("tj-busy", busy);
  }

  renderTranscript(): void {
    const entries = this.transcript;
    const busy = this.busy;
    const lastUser = entries.map((e) => e.role).lastIndexOf("user");
    const seen = new Set<string>();
    const wanted: HTMLElement[] = [];
    let asked: string | null = null;
    entries.forEach((entry, index) => {
      if (!entry || typeof entry.id !== "string") return;
      seen.add(entry.id);
      let view = this.entries.get(entry.id);
      if (!view) {
        view = this.createEntry(entry);
        this.entries.set(entry.id, view);
        this.resizes?.observe(view.root);
        if (entry.role === "user" && this.rendered) asked = entry.id;
      }
      this.updateEntry(view, entry, { editable: index === lastUser && !busy });
      wanted.push(view.root);
    });
    for (const [id, view] of this.entries) {
      if (!seen.has(id)) {
        this.releaseCharts(view);
        this.resizes?.unobserve(view.root);
        view.root.remove();
        this.entries.delete(id);
        this.live.forget(id);
        this.follow.forget(id);
      }
    }
    this.drawEmptyState(wanted.length === 0);
    // Re-order only when needed: moving a node that holds a chart would redraw it.
    wanted.forEach((node, i) => {
      if (this.log.children[i] !== node) this.log.insertBefore(node, this.log.children[i] ?? null);
    });
    this.renderControls();
    // A question that just appeared: the reader's own (sent from this box), or one asked from
    // Python while they follow the chat. Either way it goes near the top, its answer below.
    if (asked !== null && (this.sentPending > 0 || this.follow.mode !== "free")) {
      const ours = this.sentPending > 0;
      this.sentPending = Math.max(0, this.sentPending - 1);
      this.follow.sent(asked);
      this.applyScroll();
      // Only for a question sent here: one asked from a cell must not move the notebook.
      const view = this.entries.get(asked);
      if (view && ours) revealInScrollers(view.root, this.log);
    } else this.applyScroll();
    if (entries.length === 0) this.follow.jump();
    this.rendered = true;
  }

  private emptyState: HTMLElement | null = null;
  private emptySig = "";

  /** Before the first question: what this chat is about, and a few questions to click. */
  private drawEmptyState(empty: boolean): void {
    if (!empty) {
      this.emptyState?.remove();
      this.emptyState = null;
      this.emptySig = "";
      return;
    }
    const intro = (this.model.get("intro") ?? {}) as { name?: unknown; examples?: unknown };
    const name = typeof intro.name === "string" ? intro.name : "";
    const examples = Array.isArray(intro.examples) ? intro.examples.filter((q): q is string => typeof q === "string") : [];
    const sig = JSON.stringify([name, examples]);
    if (this.emptyState && sig === this.emptySig && this.emptyState.isConnected) return;
    this.emptySig = sig;
    const box = el("div", "tj-empty");
    const head = el("p", "tj-empty-title", name ? "Ask a question about " : "Ask a question about your data");
    if (name) head.append(el("strong", undefined, name));
    box.append(head);
    if (examples.length) {
      box.append(el("p", "tj-note", "For example:"));
      const list = el("ul", "tj-examples");
      for (const q of examples) {
        const item = el("li");
        item.append(button(q, "tj-small tj-example", () => this.ask(q), `Ask: ${q}`));
        list.append(item);
      }
      box.append(list);
    }
    const had = this.emptyState?.contains(document.activeElement) ?? false;
    this.emptyState?.remove();
    this.emptyState = box;
    this.log.prepend(box);
    if (had) box.querySelector("button")?.focus();
  }

  /** Ask `text` as if typed (an example question). */
  private ask(text: string): void {
    this.command({ type: "send", text });
    this.sentPending += 1;
    this.input.focus();
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
    const bodySig = JSON.stringify([text, status, entry.processing, editingThis, entry.attachments ?? null]);
    if (bodySig !== view.bodySig) {
      view.bodySig = bodySig;
      if (editingThis) this.drawEditor(view, entry);
      else if (entry.role === "user") {
        const p = el("div", "tj-user-text", text);
        const files = attachmentList(entry.attachments);
        view.body.replaceChildren(...(files ? [p, files] : [p]));
      } else this.drawText(view, text, streaming, entry.processing);
    }

    const vizSig = JSON.stringify(entry.visualizations ?? []);
    if (vizSig !== view.vizSig) {
      view.vizSig = vizSig;
      this.drawVisualizations(view, entry.visualizations ?? []);
    }

    const footerSig = JSON.stringify([
      entry.role, status, entry.error, entry.feedback, entry.feedback_note, entry.message_id, opts.editable, editingThis,
      this.noteFor.get(entry.id) ?? null, entry.saved_query ?? null, entry.visualizations?.length ?? 0,
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
    const nodes = visualizations.map((viz, index) => {
      if (viz.type === "table") {
        return renderTable(viz as TablePayload, pageSize, { fetchRows: () => this.fetchRows(view.root.dataset.id ?? "", index) });
      }
      const box = el("figure", "tj-chart-box");
      if (viz.type === "chart" && viz.spec && typeof viz.spec === "object") {
        const target = el("div", "tj-chart");
        const spec = viz.spec;
        box.append(target);
        void renderChart(target, spec).then((result) => {
          if (!result) return;
          view.charts.push(() => result.finalize());
          box.append(chartTools(result, chartTitle(spec), download));
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
        const edit = button("Edit", "tj-small tj-edit", () => this.startEdit(entry.id), "Edit the last question");
        edit.dataset.key = "edit";
        items.push(edit);
      }
    } else {
      if (status === "interrupted") items.push(el("span", "tj-note tj-interrupted", "Stopped: the partial answer is kept."));
      if (entry.error) items.push(el("span", "tj-note tj-entry-error", String(entry.error)));
      if (entry.message_id && status === "done") items.push(...this.feedbackControls(entry));
      const save = saveQueryControl(entry, this.questionOf(entry.id), (title) =>
        this.command({ type: "save_query", id: entry.id, title }),
      );
      if (save) items.push(save);
      if (entry.feedback_note) {
        const sent = el("div", "tj-note tj-sent-note", `Your note: ${String(entry.feedback_note)}`);
        items.push(sent);
      }
    }
    keepingFocus(view.footer, () => view.footer.replaceChildren(...items));
  }

  /** The question an answer answers: the user entry just before it. */
  private questionOf(id: string): string {
    const entries = this.transcript;
    const index = entries.findIndex((e) => e.id === id);
    for (let i = index - 1; i >= 0; i--) if (entries[i]?.role === "user") return String(entries[i]?.text ?? "");
    return "";
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
      b.dataset.key = `thumb-${value}`;
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
      if (text) this.command({ type: "edit", text }); // the last question: the only one editable
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

  // -- scrolling --------------------------------------------------------------------------------

  private watchScrolling(): void {
    const log = this.log;
    const atEnd = () => this.distanceToEnd() <= END_SLACK_PX;
    log.addEventListener("wheel", (e) => this.follow.userInput(e.deltaY < 0, atEnd()), { passive: true });
    let touchY = 0;
    log.addEventListener("touchstart", (e) => { touchY = e.touches[0]?.clientY ?? 0; }, { passive: true });
    log.addEventListener("touchmove", (e) => {
      const y = e.touches[0]?.clientY ?? touchY;
      this.follow.userInput(y > touchY, atEnd()); // the finger going down shows what is above
      touchY = y;
    }, { passive: true });
    log.addEventListener("keydown", (e) => {
      const k = isTextField(e.target) ? null : scrollKey(e);
      if (k) this.follow.userInput(k.up, atEnd());
    });
    // A press on the scrollbar itself (right of the content box) starts a drag.
    log.addEventListener("mousedown", (e) => {
      if (e.target === log && e.offsetX >= log.clientWidth) {
        this.follow.drag(true);
        const up = () => { this.follow.drag(false); window.removeEventListener("mouseup", up, true); };
        window.addEventListener("mouseup", up, true);
      }
    });
    log.addEventListener("scroll", () => {
      this.follow.scrolled(log.scrollTop, atEnd());
      this.updateJump();
    }, { passive: true });
    // Charts, tables and text change height after they are drawn: keep the pin or the end in place.
    if (typeof ResizeObserver !== "undefined") this.resizes = new ResizeObserver(() => this.applyScroll());
  }

  private distanceToEnd(): number {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight;
  }

  /** Put the view where the follow mode says: the end, the pinned question, or leave it. */
  private applyScroll(): void {
    const action = this.follow.action();
    if (action?.kind === "bottom") this.scrollTo(this.log.scrollHeight);
    else if (action?.kind === "pin") {
      const view = this.entries.get(action.id);
      if (view) {
        const offset = view.root.getBoundingClientRect().top - this.log.getBoundingClientRect().top;
        this.scrollTo(this.log.scrollTop + offset - PIN_MARGIN_PX);
      }
    }
    this.updateJump();
  }

  private scrollTo(top: number): void {
    const max = Math.max(0, this.log.scrollHeight - this.log.clientHeight);
    const target = Math.round(Math.min(max, Math.max(0, top)));
    if (Math.abs(this.log.scrollTop - target) < 1) return;
    this.follow.programmatic(target);
    this.log.scrollTop = target;
  }

  private updateJump(): void {
    const show = this.follow.showJump(this.distanceToEnd());
    if (this.jumpButton.hidden === show) this.jumpButton.hidden = !show;
  }

  private jumpToLatest(): void {
    this.follow.jump();
    this.applyScroll();
    this.input.focus();
  }
}

/**
 * Scroll the boxes around the widget (the notebook's panel) just enough to show `node`, without
 * touching `inner` (the transcript, already placed). Like scrollIntoView({block: "nearest"}),
 * which would also move the transcript.
 */
function revealInScrollers(node: HTMLElement, inner: HTMLElement): void {
  for (let box = inner.parentElement; box; box = box.parentElement) {
    const style = getComputedStyle(box);
    if (!/(auto|scroll)/.test(style.overflowY) || box.scrollHeight <= box.clientHeight) continue;
    const r = node.getBoundingClientRect();
    const b = box.getBoundingClientRect();
    if (r.top < b.top) box.scrollTop -= b.top - r.top + PIN_MARGIN_PX;
    else if (r.bottom > b.bottom) box.scrollTop += Math.min(r.bottom - b.bottom + PIN_MARGIN_PX, r.top - b.top - PIN_MARGIN_PX);
  }
}
