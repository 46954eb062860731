/**
 * How a table's cells read in the widget (display only: the kernel's DataFrames keep the raw
 * values, and Copy table / Download CSV copy the raw values too), by the magic's rules
 * (render.py), so a table reads the same in a cell and in the widget.
 *
 * A column is numeric when every cell that is not empty is a number. Numeric columns get
 * thousands separators and, per column, the same number of decimals, and are aligned right;
 * everything else stays text, aligned left. Identifier, year, code, zip and phone columns
 * (`id`, `customer_id`, `year`) are numbers without separators.
 */

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

/** The same rules as the magic's HTML tables (trellis_jupyter/render.py `_column_format`). */
export const MAX_DECIMALS = 4;

export interface ColumnFormat {
  numeric: boolean;
  decimals: number;
  grouping: boolean;
}

/** Decimals a number needs, up to MAX_DECIMALS (`1.50` is 1.5: one; float noise is cut). */
export function decimalsOf(n: number): number {
  if (!Number.isFinite(n) || Number.isInteger(n)) return 0;
  const digits = n.toFixed(MAX_DECIMALS).replace(/0+$/, "").split(".")[1] ?? "";
  return digits.length;
}

/** Columns whose numbers are names, not amounts: no thousands separators. */
const PLAIN_NUMBER_COLUMNS = /(year|(^|[\s_])id$|code|zip|phone)/i;

/**
 * A numeric column (every cell that is not empty is a number) gets the same decimals on every
 * row: as many as its cells need, at most 2 once its values reach 1, else up to MAX_DECIMALS.
 */
export function columnFormats(headers: string[], rows: unknown[][]): ColumnFormat[] {
  const width = Math.max(headers.length, ...rows.map((r) => r.length));
  const formats: ColumnFormat[] = [];
  for (let c = 0; c < width; c++) {
    let numeric = false;
    let decimals = 0;
    let largest = 0;
    for (const row of rows) {
      const v = row[c];
      if (v === null || v === undefined) continue;
      if (typeof v !== "number") {
        numeric = false;
        break;
      }
      numeric = true;
      decimals = Math.max(decimals, decimalsOf(v));
      largest = Math.max(largest, Math.abs(v));
    }
    if (decimals && largest >= 1) decimals = Math.min(decimals, 2);
    const name = headers[c] ?? "";
    formats.push({ numeric, decimals, grouping: !PLAIN_NUMBER_COLUMNS.test(name) });
  }
  return formats;
}

const formatters = new Map<string, Intl.NumberFormat>();

/** A number as shown in a column of format `f`: `1234.5` -> `1,234.50` with two decimals. */
export function formatNumber(n: number, f: ColumnFormat): string {
  if (!Number.isFinite(n)) return String(n);
  const key = `${f.decimals}/${f.grouping}`;
  let nf = formatters.get(key);
  if (!nf) {
    nf = new Intl.NumberFormat("en-US", {
      minimumFractionDigits: f.decimals,
      maximumFractionDigits: f.decimals,
      useGrouping: f.grouping,
    });
    formatters.set(key, nf);
  }
  return nf.format(n);
}
