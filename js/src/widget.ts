/**
 * Entry point of the ChatWidget front end (anywidget's ESM module). esbuild bundles this file
 * with marked, DOMPurify and vega-embed into trellis_jupyter/static/widget.js.
 */

import { ChatView } from "./view";
import type { Model } from "./types";

export default {
  render({ model, el }: { model: Model; el: HTMLElement }) {
    const view = new ChatView(model, el);
    return () => view.dispose();
  },
};
