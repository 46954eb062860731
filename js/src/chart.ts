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

function toolButton(label: string, aria: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "tj-button tj-small";
  b.textContent = label;
  b.setAttribute("aria-label", aria);
  b.addEventListener("click", onClick);
  return b;
}

/** The chart's title, for file names and the enlarged view's name. */
export function chartTitle(spec: Record<string, unknown>): string {
  const t = spec.title;
  if (typeof t === "string") return t;
  if (t && typeof t === "object" && typeof (t as { text?: unknown }).text === "string") return (t as { text: string }).text;
  return "chart";
}

/**
 * Save as SVG, save as PNG (twice the pixels) and View larger, drawn by the bundled Vega: no
 * network. The larger view is a modal <dialog> (the top layer, above JupyterLab's panels) with a
 * copy of the drawn SVG scaled to the window; Escape or Close returns focus to the button.
 */
export function chartTools(
  result: Result,
  title: string,
  save: (data: Blob | string, name: string) => void,
): HTMLElement {
  const tools = document.createElement("div");
  tools.className = "tj-chart-tools";
  const base = title.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "chart";
  const svg = toolButton("SVG", "Save chart as SVG", () => {
    void result.view.toSVG().then((text) => save(new Blob([text], { type: "image/svg+xml" }), `${base}.svg`));
  });
  const png = toolButton("PNG", "Save chart as PNG", () => {
    void result.view.toImageURL("png", 2).then((url) => save(url, `${base}.png`));
  });
  const larger = toolButton("View larger", "View chart larger", () => openLarger(result, title, larger));
  tools.append(svg, png, larger);
  return tools;
}

function openLarger(result: Result, title: string, opener: HTMLElement): void {
  const drawn = result.view.container()?.querySelector("svg");
  const dialog = document.createElement("dialog");
  dialog.className = "tj-chart-dialog";
  dialog.setAttribute("aria-label", `${title} (larger)`);
  const close = toolButton("Close", "Close the larger chart", () => dialog.close());
  const body = document.createElement("div");
  body.className = "tj-chart-large";
  if (drawn) {
    const copy = drawn.cloneNode(true) as SVGSVGElement;
    if (!copy.getAttribute("viewBox")) {
      copy.setAttribute("viewBox", `0 0 ${drawn.getAttribute("width") ?? 400} ${drawn.getAttribute("height") ?? 300}`);
    }
    copy.removeAttribute("width");
    copy.removeAttribute("height");
    body.append(copy);
  }
  dialog.append(close, body);
  dialog.addEventListener("close", () => {
    dialog.remove();
    opener.focus();
  });
  // Inside the widget (its keys stay there), shown in the top layer above everything.
  (opener.closest(".tj-chat") ?? document.body).append(dialog);
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", "");
  close.focus();
}
