/**
 * Answer text is untrusted: it is markdown written by a model from database content. It is turned
 * into HTML by marked and then cleaned by DOMPurify, and only the cleaned DOM fragment ever reaches
 * the page. Two lines of defence:
 *
 * 1. marked never passes raw HTML through: an HTML block or tag in the answer is escaped, so
 *    `<script>` or `<img onerror=...>` shows as the text it is.
 * 2. DOMPurify then removes anything executable that markdown itself can produce (event handler
 *    attributes, `javascript:` and `data:` URLs, iframes, forms, styles), and every link that
 *    survives opens in a new tab with `rel="noopener noreferrer nofollow"`.
 *
 * Images are shown as their alt text: an answer must not make the browser fetch a URL.
 *
 * Rendering is bounded in depth and time whatever the text (see `boundMarkdown`): marked recurses
 * once per nested block quote or list (`"> ".repeat(5000)` overflowed the stack) and slows
 * quadratically with deep list indentation, so nesting is cut at MAX_NESTING levels (deeper markers
 * show as text) and only the first MAX_MARKDOWN_CHARS characters are parsed as markdown.
 */

import DOMPurify from "dompurify";
import { Marked, type Tokens } from "marked";

/** Characters that must not reach HTML unescaped. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    // Raw HTML from the answer is shown as text, never parsed.
    html(token: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(token.text);
    },
    image(token: Tokens.Image): string {
      return escapeHtml(token.text || "");
    },
  },
});

/** Block quotes and lists nest at most this deep; deeper markers show as text. */
export const MAX_NESTING = 8;
/** Markdown parsed per answer; the rest shows as plain text. */
export const MAX_MARKDOWN_CHARS = 200_000;

const CONTAINER = /^[ \t]{0,3}(?:>[ \t]?|(?:[-*+]|\d{1,9}[.)])[ \t]+)/;
const MAX_INDENT = 2 * MAX_NESTING;

function boundLine(line: string): string {
  // Deep indentation nests lists too: keep at most MAX_INDENT leading blanks.
  const lead = /^[ \t]*/.exec(line)![0];
  if (lead.length > MAX_INDENT) line = lead.slice(0, MAX_INDENT) + line.slice(lead.length);
  let at = 0;
  for (let depth = 0; depth < MAX_NESTING; depth++) {
    const marker = CONTAINER.exec(line.slice(at, at + 16));
    if (!marker) return line;
    at += marker[0].length;
  }
  // Past the limit: a further marker is escaped, so marked reads it as text and stops nesting.
  const rest = line.slice(at);
  const next = /^([ \t]*)([>\-*+]|\d{1,9}[.)])/.exec(rest);
  return next ? line.slice(0, at) + next[1] + "\\" + rest.slice(next[1].length) : line;
}

/** The text with nesting cut at MAX_NESTING levels: linear in its length. */
export function boundMarkdown(text: string): string {
  return text.split("\n").map(boundLine).join("\n");
}

/** Link schemes a reader may follow; everything else (javascript:, data:, vbscript:, relative) is dropped. */
const SAFE_URL = /^(?:https?:|mailto:)/i;

const PURIFY_CONFIG = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: [
    "style", "img", "svg", "math", "form", "input", "button", "textarea", "select", "option",
    "iframe", "frame", "object", "embed", "video", "audio", "source", "picture", "link", "meta", "base",
  ],
  FORBID_ATTR: ["style", "srcset", "action", "formaction", "target", "id", "name"],
  ALLOWED_URI_REGEXP: SAFE_URL,
  ALLOW_DATA_ATTR: false,
};

let hooked = false;

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook("afterSanitizeAttributes", (node: Element) => {
    if (node.tagName === "A") {
      const href = node.getAttribute("href");
      if (href && SAFE_URL.test(href.trim())) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer nofollow");
      } else {
        node.removeAttribute("href");
      }
    }
  });
}

function sanitize(html: string): DocumentFragment {
  return DOMPurify.sanitize(html, { ...PURIFY_CONFIG, RETURN_DOM_FRAGMENT: true }) as DocumentFragment;
}

/**
 * Fail closed: some DOM implementations make DOMPurify return its input unchanged (happy-dom
 * does). Check once that a known-bad snippet comes out clean; if not, answers show as plain text.
 */
export function sanitizerWorks(): boolean {
  try {
    const probe = document.createElement("div");
    probe.append(sanitize('<p><a href="javascript:void 0" onclick="void 0">x</a><script>void 0</script></p>'));
    const link = probe.querySelector("a");
    return (
      probe.querySelector("p") !== null &&
      probe.querySelector("script") === null &&
      link !== null &&
      !link.hasAttribute("href") &&
      !link.hasAttribute("onclick")
    );
  } catch {
    return false;
  }
}

let safe: boolean | null = null;

/** The answer's markdown as a sanitized DOM fragment, ready to append. */
export function renderMarkdown(text: string): DocumentFragment {
  installHooks();
  if (safe === null) safe = sanitizerWorks();
  if (!safe) {
    const fragment = document.createDocumentFragment();
    const pre = document.createElement("div");
    pre.style.whiteSpace = "pre-wrap";
    pre.textContent = text ?? "";
    fragment.append(pre);
    return fragment;
  }
  const source = text ?? "";
  const fragment = sanitize(marked.parse(boundMarkdown(source.slice(0, MAX_MARKDOWN_CHARS))) as string);
  if (source.length > MAX_MARKDOWN_CHARS) {
    const rest = document.createElement("div");
    rest.style.whiteSpace = "pre-wrap";
    rest.textContent = source.slice(MAX_MARKDOWN_CHARS);
    fragment.append(rest);
  }
  return fragment;
}

/** For tests: check the sanitizer again on the next render. */
export function resetSanitizerCheck(): void {
  safe = null;
}

/** Replace the children of `el` with the rendered markdown of `text`. */
export function setMarkdown(el: HTMLElement, text: string): void {
  el.replaceChildren(renderMarkdown(text));
}
