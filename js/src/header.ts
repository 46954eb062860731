/**
 * The widget's header: which chat this is (its title, renamed in place), a picker of recent
 * chats (the server's list, page by page), and New chat. Every change goes to the kernel as a
 * command (`rename`, `use_chat`, `list_chats`, `new_chat`); the synced traits `chat_id`,
 * `chat_title`, `chats` and `chats_more` are what it draws.
 */

import type { ChatSummary, Command, Model } from "./types";

const MORE = "__more__";

function button(label: string, cls: string, aria: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = `tj-button ${cls}`;
  b.textContent = label;
  b.setAttribute("aria-label", aria);
  b.addEventListener("click", onClick);
  return b;
}

export class ChatHeader {
  readonly root: HTMLElement;
  private titleBox: HTMLElement;
  private picker: HTMLSelectElement;
  private renaming = false;
  private pagesAsked = 1;

  constructor(
    private model: Model,
    private command: (cmd: Command) => void,
  ) {
    this.root = document.createElement("div");
    this.root.className = "tj-header";
    const brand = document.createElement("span");
    brand.className = "tj-title";
    brand.textContent = "Trellis";
    this.titleBox = document.createElement("span");
    this.titleBox.className = "tj-chat-title";
    this.picker = document.createElement("select");
    this.picker.className = "tj-picker";
    this.picker.setAttribute("aria-label", "Recent chats");
    this.picker.addEventListener("change", () => this.picked());
    const newChat = button("New chat", "tj-new-chat", "New chat", () => this.command({ type: "new_chat" }));
    this.root.append(brand, this.titleBox, this.picker, newChat);
  }

  get title(): string | null {
    const t = this.model.get("chat_title");
    return typeof t === "string" && t ? t : null;
  }

  render(): void {
    if (!this.renaming) this.drawTitle();
    this.drawPicker();
  }

  private drawTitle(): void {
    const chatId = this.model.get("chat_id");
    const title = this.title;
    if (!chatId) {
      const label = document.createElement("span");
      label.className = "tj-chat-name tj-muted";
      label.textContent = "New chat";
      this.titleBox.replaceChildren(label);
      return;
    }
    const shown = title ?? "Untitled chat";
    const b = button(shown, "tj-chat-name", `Rename chat: ${shown}`, () => this.startRename());
    b.title = `${shown} (${String(chatId)}): click to rename`;
    b.dataset.chatId = String(chatId);
    const hadFocus = this.titleBox.contains(document.activeElement);
    this.titleBox.replaceChildren(b);
    if (hadFocus) b.focus();
  }

  private startRename(): void {
    this.renaming = true;
    const input = document.createElement("input");
    input.type = "text";
    input.className = "tj-rename";
    input.value = this.title ?? "";
    input.setAttribute("aria-label", "Chat title");
    input.maxLength = 200;
    let done = false;
    const finish = (save: boolean) => {
      if (done) return;
      done = true;
      this.renaming = false;
      const text = input.value.trim();
      if (save && text && text !== this.title) this.command({ type: "rename", title: text });
      this.drawTitle();
      this.titleBox.querySelector("button")?.focus();
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        finish(true);
      } else if (e.key === "Escape") {
        e.preventDefault();
        finish(false);
      }
    });
    input.addEventListener("blur", () => finish(true));
    this.titleBox.replaceChildren(input);
    input.focus();
    input.select();
  }

  private drawPicker(): void {
    const chats = (Array.isArray(this.model.get("chats")) ? this.model.get("chats") : []) as ChatSummary[];
    const current = this.model.get("chat_id");
    const options: HTMLOptionElement[] = [];
    const head = document.createElement("option");
    head.value = "";
    head.textContent = chats.length ? "Recent chats…" : "No earlier chats";
    head.disabled = true;
    options.push(head);
    for (const chat of chats) {
      const o = document.createElement("option");
      o.value = String(chat.id);
      o.textContent = String(chat.title || "Untitled chat");
      options.push(o);
    }
    if (this.model.get("chats_more")) {
      const more = document.createElement("option");
      more.value = MORE;
      more.textContent = "More chats…";
      options.push(more);
    }
    const sig = JSON.stringify([options.map((o) => [o.value, o.textContent]), current]);
    if (this.picker.dataset.sig === sig) return;
    this.picker.dataset.sig = sig;
    this.picker.replaceChildren(...options);
    this.picker.value = chats.some((c) => c.id === current) ? String(current) : "";
  }

  private picked(): void {
    const value = this.picker.value;
    if (value === MORE) {
      this.pagesAsked += 1;
      this.command({ type: "list_chats", page: this.pagesAsked });
      this.picker.value = String(this.model.get("chat_id") ?? "");
      return;
    }
    if (value && value !== this.model.get("chat_id")) this.command({ type: "use_chat", chat_id: value });
  }
}
