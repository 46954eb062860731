/**
 * Charts are drawn from the Vega-Lite spec the kernel built with Altair (`chart_to_altair(chart)
 * .to_dict()`), by vega-embed bundled here: nothing is loaded from a CDN.
 *
 * Hardening: Vega expressions run through vega-interpreter (no `new Function`, so it also works
 * under a strict content security policy), the data loader refuses every URL (the spec carries its
 * data inline; a spec must not make the browser fetch anything), and labels are drawn by the SVG
 * renderer as text nodes.
 */

import embed, { type Result, type VisualizationSpec } from "vega-embed";
import { loader as vegaLoader } from "vega";
import { expressionInterpreter } from "vega-interpreter";

function offlineLoader() {
  const base = vegaLoader();
  const refuse = () => Promise.reject(new Error("Charts in this widget cannot load external data."));
  base.load = refuse;
  base.sanitize = refuse;
  base.http = refuse;
  base.file = refuse;
  return base;
}

/** True when JupyterLab (or VS Code) shows a dark theme. */
export function isDarkTheme(doc: Document = document): boolean {
  const body = doc.body;
  if (!body) return false;
  if (body.dataset.jpThemeLight === "false") return true;
  if (body.dataset.jpThemeLight === "true") return false;
  return body.classList.contains("vscode-dark") || body.classList.contains("vscode-high-contrast");
}

/** Draw `spec` into `el`; on failure, leave a one-line message instead of the chart. */
export async function renderChart(el: HTMLElement, spec: Record<string, unknown>): Promise<Result | null> {
  try {
    return await embed(el, spec as VisualizationSpec, {
      actions: false,
      renderer: "svg",
      mode: "vega-lite",
      theme: isDarkTheme() ? "dark" : undefined,
      config: { background: "transparent" }, // the widget's own background shows through
      defaultStyle: false,
      loader: offlineLoader(),
      ast: true,
      expr: expressionInterpreter,
      tooltip: true,
      logLevel: 0,
    });
  } catch (err) {
    const msg = document.createElement("div");
    msg.className = "tj-chart-error";
    msg.textContent = `The chart could not be drawn: ${err instanceof Error ? err.message : String(err)}`;
    el.replaceChildren(msg);
    return null;
  }
}
