/**
 * Files attached to a question, and "Save as query" under an answer with SQL.
 *
 * The attach button opens the browser's file picker; picked files show as chips above the
 * question box until it is sent. `send` reads them and sends one `send` command whose `files`
 * name them, their bytes in the message's buffers (in the same order). The kernel uploads them
 * to the chat and attaches them to the question; the question's entry then lists them.
 */

import type { Attachment, Entry } from "./types";

/** What the server accepts (the kernel checks again, and the server once more). */
export const ACCEPT = ".csv,.xlsx,.pdf,.png,.jpg,.jpeg";
export const MAX_FILES = 5;
export const MAX_FILE_BYTES = 30 * 1024 * 1024;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function sizeText(bytes: number | null | undefined): string {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The chips of a question's attachments (file names set as text, never as HTML). */
export function attachmentList(items: Attachment[] | undefined): HTMLElement | null {
  if (!Array.isArray(items) || items.length === 0) return null;
  const list = el("ul", "tj-attachments");
  list.setAttribute("aria-label", "Attached files");
  for (const item of items) {
    const chip = el("li", "tj-attachment");
    chip.append(el("span", "tj-attachment-name", String(item.filename ?? "file")));
    chip.append(el("span", "tj-attachment-size", sizeText(item.file_size)));
    list.append(chip);
  }
  return list;
}

/** The attach button, its hidden file input and the chips of the files picked so far. */
export class AttachPicker {
  readonly button: HTMLButtonElement;
  readonly input: HTMLInputElement;
  readonly chips: HTMLElement;
  private files: File[] = [];

  constructor(private onError: (message: string) => void) {
    this.input = el("input", "tj-file-input");
    this.input.type = "file";
    this.input.multiple = true;
    this.input.accept = ACCEPT;
    this.input.hidden = true;
    this.input.setAttribute("aria-label", "Files to attach");
    this.input.addEventListener("change", () => this.add(Array.from(this.input.files ?? [])));
    this.button = el("button", "tj-button tj-attach", "Attach");
    this.button.type = "button";
    this.button.title = "Attach CSV, XLSX, PDF, PNG or JPEG files to the question";
    this.button.setAttribute("aria-label", "Attach files");
    this.button.addEventListener("click", () => this.input.click());
    this.chips = el("div", "tj-picked");
    this.chips.hidden = true;
  }

  get picked(): readonly File[] {
    return this.files;
  }

  add(files: File[]): void {
    for (const file of files) {
      if (file.size > MAX_FILE_BYTES) {
        this.onError(`${file.name} is ${sizeText(file.size)}: each file may be at most 30 MB.`);
        continue;
      }
      if (this.files.length >= MAX_FILES) {
        this.onError(`At most ${MAX_FILES} files go with one question.`);
        break;
      }
      this.files.push(file);
    }
    this.input.value = ""; // picking the same file again fires "change" again
    this.draw();
  }

  clear(): void {
    this.files = [];
    this.draw();
  }

  private draw(): void {
    const chips = this.files.map((file, index) => {
      const chip = el("span", "tj-attachment tj-picked-file");
      chip.append(el("span", "tj-attachment-name", file.name), el("span", "tj-attachment-size", sizeText(file.size)));
      const remove = el("button", "tj-button tj-small tj-unattach", "×");
      remove.type = "button";
      remove.setAttribute("aria-label", `Remove ${file.name}`);
      remove.addEventListener("click", () => {
        this.files.splice(index, 1);
        this.draw();
      });
      chip.append(remove);
      return chip;
    });
    this.chips.replaceChildren(...chips);
    this.chips.hidden = chips.length === 0;
  }

  /** The picked files as the `files` of a send command and its buffers; then forgets them. */
  async take(): Promise<{ files: Array<{ name: string; type: string }>; buffers: ArrayBuffer[] }> {
    const picked = this.files;
    this.clear();
    const buffers = await Promise.all(picked.map(readBytes));
    return { files: picked.map((file) => ({ name: file.name, type: file.type })), buffers };
  }
}

function readBytes(file: File): Promise<ArrayBuffer> {
  if (typeof file.arrayBuffer === "function") return file.arrayBuffer();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as ArrayBuffer);
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(file);
  });
}

/** The SQL of an answer's first table that has one (what "Save as query" saves). */
export function answerSql(entry: Entry): string | null {
  for (const viz of entry.visualizations ?? []) {
    if (viz.type === "table" && typeof viz.sql === "string" && viz.sql.trim()) return viz.sql;
  }
  return null;
}

/**
 * "Save as query" under an answer with SQL: a button that opens a title box (the question as
 * the default title); saving sends `save_query`. Once saved, a note names the query.
 */
export function saveQueryControl(
  entry: Entry,
  question: string,
  send: (title: string) => void,
): HTMLElement | null {
  if (entry.saved_query) {
    return el("span", "tj-note tj-saved-query", `Saved as query “${String(entry.saved_query.title ?? "")}”`);
  }
  if (entry.status !== "done" || !answerSql(entry)) return null;
  const box = el("span", "tj-save-query");
  const open = el("button", "tj-button tj-small tj-save-query-button", "Save as query");
  open.type = "button";
  open.dataset.key = "save-query";
  open.setAttribute("aria-label", "Save this answer's SQL as a saved query");
  open.addEventListener("click", () => {
    const input = el("input", "tj-note-input tj-query-title");
    input.type = "text";
    input.value = question.slice(0, 80);
    input.setAttribute("aria-label", "Saved query title");
    const save = () => {
      const title = input.value.trim();
      if (title) send(title);
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        save();
      }
    });
    const confirm = el("button", "tj-button tj-small tj-primary tj-save-query-confirm", "Save");
    confirm.type = "button";
    confirm.addEventListener("click", save);
    box.replaceChildren(input, confirm);
    input.focus();
    input.select();
  });
  box.append(open);
  return box;
}
