/**
 * How a table's cells read in the widget (display only: the kernel's DataFrames keep the raw
 * values, and Copy table / Download CSV copy the raw values too).
 *
 * A column is numeric when every cell that is not empty is a number. Numeric columns get
 * thousands separators and, per column, the same number of decimals (the most any of its cells
 * has, at most MAX_DECIMALS), and are aligned right; everything else stays text, aligned left.
 * Identifier and year columns (`id`, `customer_id`, `year`) are numbers without separators.
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

export const MAX_DECIMALS = 6;

export interface ColumnFormat {
  numeric: boolean;
  decimals: number;
  grouping: boolean;
}

/** Decimals a number is written with (`1.50` is 1.5: one). */
export function decimalsOf(n: number): number {
  if (!Number.isFinite(n) || Number.isInteger(n)) return 0;
  const text = String(n);
  const exp = text.match(/e-(\d+)$/);
  if (exp) return Math.min(MAX_DECIMALS, Number(exp[1]) + (text.split("e")[0].split(".")[1]?.length ?? 0));
  return Math.min(MAX_DECIMALS, text.split(".")[1]?.length ?? 0);
}

const PLAIN_INTEGER_NAME = /(^|[_\s])(id|year|yr|zip|code)$|^(id|year)([_\s]|$)/i;

export function columnFormats(headers: string[], rows: unknown[][]): ColumnFormat[] {
  const width = Math.max(headers.length, ...rows.map((r) => r.length));
  const formats: ColumnFormat[] = [];
  for (let c = 0; c < width; c++) {
    let numeric = false;
    let decimals = 0;
    for (const row of rows) {
      const v = row[c];
      if (v === null || v === undefined || v === "") continue;
      if (typeof v !== "number") {
        numeric = false;
        break;
      }
      numeric = true;
      decimals = Math.max(decimals, decimalsOf(v));
    }
    const name = headers[c] ?? "";
    formats.push({ numeric, decimals, grouping: !(decimals === 0 && PLAIN_INTEGER_NAME.test(name)) });
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
