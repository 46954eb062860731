import { describe, expect, it } from "vitest";
import { csvField, fileName, toCsv, toTsv } from "../src/export";
import { columnFormats, decimalsOf, formatNumber } from "../src/format";
import { compareCells, renderTable } from "../src/table";

describe("CSV", () => {
  it("quotes commas, quotes and line breaks (RFC 4180)", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField("cr\r")).toBe('"cr\r"');
    expect(csvField(null)).toBe("");
    expect(csvField(3.5)).toBe("3.5");
    expect(csvField(true)).toBe("true");
  });

  it("defuses formulas in text cells, not negative numbers", () => {
    for (const start of ["=", "+", "-", "@", "\t"]) {
      expect(csvField(`${start}SUM(A1:A9)`).replace(/^"/, "")).toMatch(/^'/);
    }
    expect(csvField("=HYPERLINK(\"http://x\",\"y\")")).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvField(-5)).toBe("-5");
    expect(csvField("-")).toBe("'-");
    expect(csvField("a=b")).toBe("a=b");
  });

  it("writes a header line then every row, CRLF-separated, aligned with the headers", () => {
    const csv = toCsv(["name", "n"], [["a,1", 1], ["b", null], ["=1+1", -2]]);
    expect(csv).toBe('name,n\r\n"a,1",1\r\nb,\r\n\'=1+1,-2\r\n');
  });

  it("TSV for the clipboard: raw values, tabs and line breaks in a cell become spaces", () => {
    expect(toTsv(["a", "b"], [["x\ty", 1234.5], ["two\nlines", null]])).toBe("a\tb\nx y\t1234.5\ntwo lines\t\n");
  });

  it("makes file names from titles", () => {
    expect(fileName("Revenue by region (2025)", "csv")).toBe("revenue-by-region-2025.csv");
    expect(fileName("", "csv")).toBe("table.csv");
    expect(fileName("<script>", "png")).toBe("script.png");
  });
});

describe("number formatting", () => {
  it("counts decimals, float noise cut at four", () => {
    expect(decimalsOf(3)).toBe(0);
    expect(decimalsOf(3.25)).toBe(2);
    expect(decimalsOf(1e-7)).toBe(0);
    expect(decimalsOf(0.1 + 0.2)).toBe(1);
    expect(decimalsOf(0.12345)).toBe(4);
  });

  it("gives a numeric column separators and the same decimals in every cell (the magic's rules)", () => {
    const [name, revenue, count] = columnFormats(["name", "revenue", "orders"], [["a", 1833061, 3], ["b", 12.5, 12000], ["c", null, 7]]);
    expect(name.numeric).toBe(false);
    expect(revenue).toEqual({ numeric: true, decimals: 1, grouping: true });
    expect(formatNumber(1833061, revenue)).toBe("1,833,061.0");
    expect(formatNumber(12.5, revenue)).toBe("12.5");
    expect(formatNumber(12000, count)).toBe("12,000");
    expect(formatNumber(-1234.567, { numeric: true, decimals: 2, grouping: true })).toBe("-1,234.57");
    // At most two decimals once values reach 1; small shares keep up to four.
    const [price, share] = columnFormats(["price", "share"], [[19.999, 0.1234], [5, 0.5]]);
    expect(price.decimals).toBe(2);
    expect(formatNumber(19.999, price)).toBe("20.00");
    expect(share.decimals).toBe(4);
    expect(formatNumber(0.5, share)).toBe("0.5000");
  });

  it("leaves ids and years without separators, and a column with any text as text", () => {
    const [id, year, mixed] = columnFormats(["customer_id", "year", "label"], [[10234, 2026, 1], [2, 2025, "x"]]);
    expect(formatNumber(10234, id)).toBe("10234");
    expect(formatNumber(2026, year)).toBe("2026");
    expect(mixed.numeric).toBe(false);
  });
});

describe("table tools", () => {
  it("sorts by a header click, numbers by value, empty last, stable; again reverses", () => {
    const fig = renderTable({ type: "table", headers: ["name", "n"], rows: [["b", 10], ["a", 9], ["c", null], ["d", 100]] });
    const cells = () => Array.from(fig.querySelectorAll("tbody tr")).map((tr) => tr.firstElementChild!.textContent);
    (fig.querySelector('button[aria-label="Sort by n"]') as HTMLButtonElement).click();
    expect(cells()).toEqual(["a", "b", "d", "c"]);
    expect(fig.querySelectorAll("th")[1].getAttribute("aria-sort")).toBe("ascending");
    (fig.querySelector('button[aria-label="Sort by n"]') as HTMLButtonElement).click();
    expect(cells()).toEqual(["d", "b", "a", "c"]);
    (fig.querySelector('button[aria-label="Sort by name"]') as HTMLButtonElement).click();
    expect(cells()).toEqual(["a", "b", "c", "d"]);
    expect(fig.querySelectorAll("th")[1].hasAttribute("aria-sort")).toBe(false);
    expect(compareCells("item 9", "item 10")).toBeLessThan(0);
  });

  it("shows numbers formatted and aligned right, and offers Copy SQL only with SQL", () => {
    const fig = renderTable({ type: "table", headers: ["region", "revenue"], rows: [["East", 5639062.2], ["West", 12.25]], sql: "SELECT 1" });
    const tds = Array.from(fig.querySelectorAll("td"));
    expect(tds.map((td) => td.textContent)).toEqual(["East", "5,639,062.20", "West", "12.25"]);
    expect(tds[1].className).toBe("tj-num");
    expect(tds[0].className).toBe("");
    const names = Array.from(fig.querySelectorAll(".tj-table-tools button")).map((b) => b.getAttribute("aria-label"));
    expect(names).toEqual(["Copy SQL", "Copy table", "Download CSV"]);
    const bare = renderTable({ type: "table", headers: ["a"], rows: [[1]] });
    expect(bare.querySelector('button[aria-label="Copy SQL"]')).toBeNull();
  });
});
