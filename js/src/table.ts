/**
 * A table visualization as a paged HTML table. Every cell, header, title and the SQL are set with
 * `textContent`, so nothing in a cell is ever parsed as HTML.
 *
 * Payload shapes accepted (trellis-api.md section 0.2): `headers` or `columns` (names, or objects
 * with a `name`), rows as arrays or as objects keyed by column name; `sql`, `row_count` and
 * `truncated` when the server gives them.
 */

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
}

/** A cell as display text: null shows empty, objects as JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
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

/** Build the paged table; `pageSize` rows per page, Previous / Next buttons when it has several. */
export function renderTable(payload: TablePayload, pageSize = 10): HTMLElement {
  const { headers, rows } = normalizeTable(payload);
  const size = Math.max(1, Math.floor(pageSize) || 10);
  const pages = Math.max(1, Math.ceil(rows.length / size));
  let page = 0;

  const figure = document.createElement("figure");
  figure.className = "tj-table";
  if (payload.title) {
    const caption = document.createElement("figcaption");
    caption.className = "tj-viz-title";
    caption.textContent = cellText(payload.title);
    figure.append(caption);
  }

  const scroll = document.createElement("div");
  scroll.className = "tj-table-scroll";
  scroll.tabIndex = 0; // a wide table scrolls with the keyboard
  const table = document.createElement("table");
  const thead = table.createTHead();
  const headRow = thead.insertRow();
  for (const name of headers) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = name;
    headRow.append(th);
  }
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
          td.textContent = cellText(value);
          if (typeof value === "number") td.className = "tj-num";
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
