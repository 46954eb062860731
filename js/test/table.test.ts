import { describe, expect, it } from "vitest";
import { cellText, normalizeTable, renderTable, rowCountText } from "../src/table";

const rows = Array.from({ length: 25 }, (_, i) => [`r${i + 1}`, i + 1]);

function bodyTexts(fig: HTMLElement): string[] {
  return Array.from(fig.querySelectorAll("tbody tr")).map((tr) => tr.firstElementChild!.textContent!);
}

function click(fig: HTMLElement, label: string): void {
  (fig.querySelector(`button[aria-label="${label}"]`) as HTMLButtonElement).click();
}

describe("renderTable", () => {
  it("pages through rows", () => {
    const fig = renderTable({ type: "table", headers: ["name", "n"], rows }, 10);
    expect(Array.from(fig.querySelectorAll("th")).map((th) => th.textContent)).toEqual(["name", "n"]);
    expect(bodyTexts(fig)).toEqual(rows.slice(0, 10).map((r) => r[0]));
    expect(fig.querySelector(".tj-page-label")!.textContent).toBe("1–10 of 25");
    const prev = fig.querySelector('button[aria-label="Previous page"]') as HTMLButtonElement;
    const next = fig.querySelector('button[aria-label="Next page"]') as HTMLButtonElement;
    expect(prev.disabled).toBe(true);
    click(fig, "Next page");
    expect(bodyTexts(fig)[0]).toBe("r11");
    click(fig, "Next page");
    expect(bodyTexts(fig)).toEqual(["r21", "r22", "r23", "r24", "r25"]);
    expect(next.disabled).toBe(true);
    click(fig, "Next page"); // stays on the last page
    expect(fig.querySelector(".tj-page-label")!.textContent).toBe("21–25 of 25");
    click(fig, "Previous page");
    expect(bodyTexts(fig)[0]).toBe("r11");
  });

  it("has no pager for a single page, and says how many rows", () => {
    const fig = renderTable({ type: "table", headers: ["a"], rows: [[1], [2]] }, 10);
    expect(fig.querySelector(".tj-pager")).toBeNull();
    expect(fig.querySelector(".tj-row-count")!.textContent).toBe("2 rows");
    expect(fig.querySelector("td")!.className).toBe("tj-num");
  });

  it("sets cells, headers, title and SQL as text only", () => {
    const evil = ['<script>window.__t=1</script>', '<img src=x onerror="window.__t=2">', "javascript:alert(1)"];
    const fig = renderTable({
      type: "table",
      title: "<b>title</b>",
      headers: ["<i>h</i>", "b", "c"],
      rows: [evil],
      sql: "SELECT '<script>' FROM t",
    });
    const cells = Array.from(fig.querySelectorAll("td"));
    expect(cells.map((td) => td.textContent)).toEqual(evil);
    for (const td of cells) expect(td.children.length).toBe(0);
    expect(fig.querySelectorAll("script, img, a, i, b").length).toBe(0);
    expect(fig.querySelector("figcaption")!.textContent).toBe("<b>title</b>");
    expect(fig.querySelector("th")!.textContent).toBe("<i>h</i>");
    expect(fig.querySelector(".tj-sql code")!.textContent).toBe("SELECT '<script>' FROM t");
    expect((window as any).__t).toBeUndefined();
  });

  it("shows the total row count when the server cut the result", () => {
    const fig = renderTable({ type: "table", headers: ["a"], rows: rows.map((r) => [r[1]]), row_count: 1234, truncated: true });
    expect(fig.querySelector(".tj-row-count")!.textContent).toBe("1,234 rows (first 25 shown)");
  });

  it("reads columns objects and object rows, missing cells empty", () => {
    const { headers, rows: out } = normalizeTable({
      columns: [{ name: "region" }, { name: "orders" }],
      rows: [{ region: "East", orders: 5 }, { region: "West" }],
    });
    expect(headers).toEqual(["region", "orders"]);
    expect(out).toEqual([["East", 5], ["West", null]]);
    const fig = renderTable({ columns: ["x"], rows: [{ x: null }] });
    expect(fig.querySelector("td")!.textContent).toBe("");
  });

  it("formats cells and counts", () => {
    expect(cellText(null)).toBe("");
    expect(cellText(true)).toBe("true");
    expect(cellText(1.5)).toBe("1.5");
    expect(cellText({ a: 1 })).toBe('{"a":1}');
    expect(rowCountText(1, 1, false)).toBe("1 row");
  });
});
