/**
 * A table as text to copy or download: TSV for the clipboard, CSV for a file.
 *
 * Both carry raw values (no thousands separators): what a spreadsheet or pandas reads back is
 * what the server sent. CSV follows RFC 4180 (fields with a comma, a quote or a line break are
 * quoted, quotes doubled, CRLF between records). A text cell that starts with `=`, `+`, `-`, `@`,
 * a tab or a carriage return gets a leading `'`, so that a spreadsheet shows it instead of running
 * it as a formula (OWASP's advice on CSV injection); numbers are written as numbers, so -5 stays -5.
 */

import { cellText } from "./format";

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field. */
export function csvField(value: unknown): string {
  let text = cellText(value);
  if (typeof value === "string" && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(headers: string[], rows: unknown[][]): string {
  const lines = [headers.map(csvField).join(",")];
  for (const row of rows) lines.push(headers.map((_, i) => csvField(row[i])).join(","));
  return lines.join("\r\n") + "\r\n";
}

/** One TSV cell: tabs and line breaks inside a cell become spaces (TSV has no quoting rule). */
export function tsvField(value: unknown): string {
  return cellText(value).replace(/[\t\r\n]+/g, " ");
}

export function toTsv(headers: string[], rows: unknown[][]): string {
  const lines = [headers.map(tsvField).join("\t")];
  for (const row of rows) lines.push(headers.map((_, i) => tsvField(row[i])).join("\t"));
  return lines.join("\n") + "\n";
}

/** A file name from a title: letters, digits, dashes; never empty. */
export function fileName(title: unknown, ext: string): string {
  const base = cellText(title)
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return `${base || "table"}.${ext}`;
}

/** Put `text` on the clipboard: the async API, else a hidden textarea and execCommand. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through: an older browser, or a page without clipboard permission
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/** Offer `data` (a Blob or a data: URL) as a download named `name`. */
export function download(data: Blob | string, name: string): void {
  const url = typeof data === "string" ? data : URL.createObjectURL(data);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.style.display = "none";
  document.body.append(a);
  a.click();
  a.remove();
  if (typeof data !== "string") setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
