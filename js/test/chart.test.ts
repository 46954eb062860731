import { describe, expect, it, vi } from "vitest";
import { isDarkTheme, renderChart } from "../src/chart";

const EVIL = '<img src=x onerror="window.__c=1">';

const spec = {
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  title: "<script>window.__c=2</script>",
  data: { values: [{ label: EVIL, value: 3 }, { label: "javascript:alert(1)", value: 5 }] },
  mark: "bar",
  encoding: {
    x: { field: "label", type: "nominal", title: "Region" },
    y: { field: "value", type: "quantitative", title: "Orders" },
  },
};

describe("renderChart", () => {
  it("draws the Vega-Lite spec as SVG with labels as text", async () => {
    const el = document.createElement("div");
    document.body.append(el);
    const result = await renderChart(el, spec);
    expect(result).not.toBeNull();
    const svg = el.querySelector("svg");
    expect(svg).not.toBeNull();
    const texts = Array.from(el.querySelectorAll("svg text")).map((t) => t.textContent);
    expect(texts).toContain("<script>window.__c=2</script>");
    expect(texts.some((t) => t?.includes("<img src=x"))).toBe(true);
    expect(el.querySelectorAll("script, img, foreignObject, a").length).toBe(0);
    expect(el.querySelectorAll("svg rect, svg path").length).toBeGreaterThan(0);
    expect((window as any).__c).toBeUndefined();
    result!.finalize();
  });

  it("refuses to load data from a URL and says so", async () => {
    const el = document.createElement("div");
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const result = await renderChart(el, { ...spec, data: { url: "https://evil.example/data.json" } });
    await new Promise((r) => setTimeout(r, 50)); // let a (wrongly) started load reach fetch
    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
    // Either the view failed (message shown) or it drew no marks: it never fetched.
    if (result === null) expect(el.querySelector(".tj-chart-error")!.textContent).toContain("could not be drawn");
    else expect(el.querySelectorAll("svg .mark-rect path").length).toBe(0);
  });

  it("follows the JupyterLab theme", () => {
    document.body.dataset.jpThemeLight = "false";
    expect(isDarkTheme()).toBe(true);
    document.body.dataset.jpThemeLight = "true";
    expect(isDarkTheme()).toBe(false);
    delete document.body.dataset.jpThemeLight;
  });
});
