/** Wire formats shared with trellis_jupyter/widget.py (keep the two in step). */

/** The subset of anywidget's model the view uses (a fake implements it in the tests). */
export interface Model {
  get(name: string): any;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string | null, callback?: ((...args: any[]) => void) | null): void;
  send(content: Command, callbacks?: unknown, buffers?: unknown): void;
}

export interface Visualization {
  id?: string;
  type?: string;
  title?: string | null;
  /** For charts: the Vega-Lite spec built by the kernel with Altair. */
  spec?: Record<string, unknown> | null;
  [key: string]: unknown;
}

/** One transcript entry, as the kernel writes it into the synced `transcript` trait. */
export interface Entry {
  id: string;
  role: "user" | "assistant";
  text: string;
  /** user: "queued" | "sent"; assistant: "streaming" | "done" | "interrupted" | "error". */
  status?: string;
  /** The latest processing status of a streaming answer ("thinking", "analyzing", ...). */
  processing?: string | null;
  message_id?: string | null;
  error?: string | null;
  feedback?: "positive" | "negative" | null;
  /** The note sent with the feedback, shown under the answer. */
  feedback_note?: string | null;
  visualizations?: Visualization[];
  /** user: the files attached to the question. */
  attachments?: Attachment[];
  /** assistant: the saved query made from its SQL ("Save as query"). */
  saved_query?: { id?: string; title?: string } | null;
}

/** A file attached to a question. */
export interface Attachment {
  filename?: string;
  mime_type?: string | null;
  file_size?: number | null;
  id?: string;
}

/** Kernel -> browser custom message: new text of a streaming answer, coalesced. */
export interface DeltaMessage {
  type: "delta";
  id: string;
  index: number;
  start: number;
  text: string;
}

/** Kernel -> browser custom message: every row of a table, answering a `table_rows` command. */
export interface TableRowsMessage {
  type: "table_rows";
  request: number;
  /** null when the kernel no longer has that table. */
  rows: unknown[][] | null;
}

/** One chat in the picker (the kernel's `chats` trait). */
export interface ChatSummary {
  id: string;
  title: string;
  timestamp?: string | null;
}

/** Browser -> kernel custom messages. */
export type Command =
  | { type: "send"; text: string; files?: Array<{ name: string; type: string }> }
  | { type: "save_query"; id: string; title: string }
  | { type: "stop" }
  | { type: "new_chat" }
  | { type: "feedback"; id: string; value: "positive" | "negative"; note?: string }
  | { type: "edit"; text: string }
  | { type: "table_rows"; entry: string; index: number; request: number }
  | { type: "list_chats"; page: number }
  | { type: "intro" }
  | { type: "use_chat"; chat_id: string }
  | { type: "rename"; title: string };
