/**
 * A table visualization as a paged HTML table. Every cell, header, title and the SQL are set with
 * `textContent`, so nothing in a cell is ever parsed as HTML.
 *
 * Payload shapes accepted (trellis-api.md section 0.2): `headers` or `columns` (names, or objects
 * with a `name`), rows as arrays or as objects keyed by column name; `sql`, `row_count` and
 * `truncated` when the server gives them.
 */

import { copyText, download, fileName, toCsv, toTsv } from "./export";
import { cellText, columnFormats, formatNumber } from "./format";

export { cellText };

export interface TablePayload {
  id?: string;
  type?: string;
  title?: string | null;
  headers?: unknown[];
  columns?: unknown[];
  rows?: unknown[];
  sql?: string | null;
  row_count?: number | null;
  truncated?: boolean;
  /** Set by the widget when it sent the browser only the first rows: the kernel holds this many. */
  kernel_rows?: number | null;
}

export interface TableOptions {
  /** Every row of the table, from the kernel (for Download CSV of a table cut for the browser). */
  fetchRows?: () => Promise<unknown[][] | null>;
}

/** Order two cells: empty last, numbers by value, text by locale with numbers inside it natural. */
const isEmpty = (v: unknown) => v === null || v === undefined || v === "";

export function compareCells(a: unknown, b: unknown): number {
  const ea = isEmpty(a);
  const eb = isEmpty(b);
  if (ea || eb) return ea === eb ? 0 : ea ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return cellText(a).localeCompare(cellText(b), undefined, { numeric: true, sensitivity: "base" });
}

function columnName(column: unknown): string {
  if (column !== null && typeof column === "object") {
    const obj = column as Record<string, unknown>;
    return cellText(obj.name ?? obj.id ?? "");
  }
  return cellText(column);
}

/** Column names and rows aligned with them, whatever shape the payload used. */
export function normalizeTable(payload: TablePayload): { headers: string[]; rows: unknown[][] } {
  const headers = (payload.headers ?? payload.columns ?? []).map(columnName);
  const rowsIn = Array.isArray(payload.rows) ? payload.rows : [];
  if (headers.length === 0) {
    const first = rowsIn.find((r) => r !== null && typeof r === "object" && !Array.isArray(r));
    if (first) headers.push(...Object.keys(first as object));
  }
  const rows = rowsIn.map((row) => {
    if (Array.isArray(row)) return row;
    if (row !== null && typeof row === "object") {
      const obj = row as Record<string, unknown>;
      return headers.map((h) => obj[h] ?? null);
    }
    return [row];
  });
  return { headers, rows };
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** The caption under the table: how many rows the result has, and how many are here. */
export function rowCountText(shown: number, total: number, truncated: boolean): string {
  const noun = total === 1 ? "row" : "rows";
  if (truncated || total > shown) return `${fmt(total)} ${noun} (first ${fmt(shown)} shown)`;
  return `${fmt(total)} ${noun}`;
}

function button(label: string, aria: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "tj-button tj-small";
  b.textContent = label;
  b.setAttribute("aria-label", aria);
  b.addEventListener("click", onClick);
  return b;
}

/**
 * Build the paged table; `pageSize` rows per page, Previous / Next buttons when it has several.
 * A click on a column's header sorts by it (again: the other way). Copy SQL, Copy table (TSV of
 * every row the widget holds) and Download CSV (every row, fetched from the kernel when the
 * browser got only the first ones) sit under it.
 */
export function renderTable(payload: TablePayload, pageSize = 10, options: TableOptions = {}): HTMLElement {
  const { headers, rows: original } = normalizeTable(payload);
  let rows = original;
  const formats = columnFormats(headers, original);
  const size = Math.max(1, Math.floor(pageSize) || 10);
  const pages = Math.max(1, Math.ceil(rows.length / size));
  let page = 0;
  let sortColumn = -1;
  let sortDir: 1 | -1 = 1;

  const figure = document.createElement("figure");
  figure.className = "tj-table";
  const label = payload.title ? cellText(payload.title) : "Table";
  if (payload.title) {
    const caption = document.createElement("figcaption");
    caption.className = "tj-viz-title";
    caption.textContent = cellText(payload.title);
    figure.append(caption);
  }

  const scroll = document.createElement("div");
  scroll.className = "tj-table-scroll";
  scroll.tabIndex = 0; // a wide table scrolls with the keyboard
  scroll.setAttribute("role", "group");
  scroll.setAttribute("aria-label", label);
  const table = document.createElement("table");
  const thead = table.createTHead();
  const headRow = thead.insertRow();
  const sortButtons: HTMLButtonElement[] = [];
  headers.forEach((name, column) => {
    const th = document.createElement("th");
    th.scope = "col";
    if (formats[column]?.numeric) th.className = "tj-num";
    const sort = document.createElement("button");
    sort.type = "button";
    sort.className = "tj-sort";
    sort.textContent = name;
    sort.setAttribute("aria-label", `Sort by ${name}`);
    sort.addEventListener("click", () => sortBy(column));
    sortButtons.push(sort);
    th.append(sort);
    headRow.append(th);
  });
  const tbody = table.createTBody();
  scroll.append(table);
  figure.append(scroll);

  const footer = document.createElement("div");
  footer.className = "tj-table-footer";
  const count = document.createElement("span");
  count.className = "tj-row-count";
  const total = typeof payload.row_count === "number" ? payload.row_count : rows.length;
  count.textContent = rowCountText(rows.length, total, Boolean(payload.truncated));
  footer.append(count);

  const pager = document.createElement("span");
  pager.className = "tj-pager";
  const pageLabel = document.createElement("span");
  pageLabel.className = "tj-page-label";
  pageLabel.setAttribute("aria-live", "polite");
  const prev = button("‹ Prev", "Previous page", () => show(page - 1));
  const next = button("Next ›", "Next page", () => show(page + 1));
  pager.append(prev, pageLabel, next);
  if (pages > 1) footer.append(pager);
  figure.append(footer);

  const tools = document.createElement("div");
  tools.className = "tj-table-tools";
  const said = document.createElement("span");
  said.className = "tj-tool-status";
  said.setAttribute("role", "status");
  const say = (text: string) => {
    said.textContent = text;
    setTimeout(() => {
      if (said.textContent === text) said.textContent = "";
    }, 4000);
  };
  const copy = async (text: string, what: string) => say((await copyText(text)) ? `${what} copied` : "Copy failed: select and copy by hand");
  if (payload.sql) {
    const sql = cellText(payload.sql);
    tools.append(button("Copy SQL", "Copy SQL", () => void copy(sql, "SQL")));
  }
  tools.append(
    button("Copy table", "Copy table", () => void copy(toTsv(headers, rows), `${rows.length.toLocaleString("en-US")} rows`)),
    button("Download CSV", "Download CSV", () => void downloadCsv()),
    said,
  );
  figure.append(tools);

  async function downloadCsv(): Promise<void> {
    let all = rows;
    const more = typeof payload.kernel_rows === "number" && payload.kernel_rows > original.length;
    if (more && options.fetchRows) {
      say("Getting every row from the kernel…");
      const fetched = await options.fetchRows().catch(() => null);
      if (fetched) all = sortColumn >= 0 ? sorted(fetched) : fetched;
      else say(`The kernel did not send the rows: the CSV has the first ${rows.length.toLocaleString("en-US")}.`);
    }
    download(new Blob([toCsv(headers, all)], { type: "text/csv;charset=utf-8" }), fileName(payload.title, "csv"));
    if (all !== rows || !more) say(`CSV of ${all.length.toLocaleString("en-US")} rows saved`);
  }

  if (payload.sql) {
    const details = document.createElement("details");
    details.className = "tj-sql";
    const summary = document.createElement("summary");
    summary.textContent = "SQL";
    const pre = document.createElement("pre");
    const code = document.createElement("code");
    code.textContent = cellText(payload.sql);
    pre.append(code);
    details.append(summary, pre);
    figure.append(details);
  }

  function sorted(list: unknown[][]): unknown[][] {
    const c = sortColumn;
    // Decorated sort: stable, and rows that tie keep the server's order.
    return list
      .map((row, i) => [row, i] as const)
      .sort((a, b) => {
        const ea = isEmpty(a[0][c]);
        const eb = isEmpty(b[0][c]);
        if (ea !== eb) return ea ? 1 : -1; // empty cells last, whichever way
        return sortDir * compareCells(a[0][c], b[0][c]) || a[1] - b[1];
      })
      .map(([row]) => row);
  }

  function sortBy(column: number): void {
    sortDir = sortColumn === column ? (sortDir === 1 ? -1 : 1) : 1;
    sortColumn = column;
    rows = sorted(original);
    headRow.querySelectorAll("th").forEach((th, i) => {
      if (i === column) th.setAttribute("aria-sort", sortDir === 1 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
      sortButtons[i]?.classList.toggle("tj-sorted", i === column);
    });
    show(0);
  }

  function show(p: number): void {
    page = Math.min(pages - 1, Math.max(0, p));
    const start = page * size;
    const slice = rows.slice(start, start + size);
    tbody.replaceChildren(
      ...slice.map((row) => {
        const tr = document.createElement("tr");
        for (let i = 0; i < Math.max(headers.length, row.length); i++) {
          const td = document.createElement("td");
          const value = row[i];
          const f = formats[i];
          if (typeof value === "number" && f?.numeric) {
            td.textContent = formatNumber(value, f);
            td.title = String(value);
          } else td.textContent = cellText(value);
          if (f?.numeric) td.className = "tj-num";
          tr.append(td);
        }
        return tr;
      }),
    );
    const end = Math.min(rows.length, start + size);
    pageLabel.textContent = rows.length ? `${fmt(start + 1)}–${fmt(end)} of ${fmt(rows.length)}` : "";
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }

  show(0);
  return figure;
}
