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
  return sanitize(marked.parse(text ?? "") as string);
}

/** For tests: check the sanitizer again on the next render. */
export function resetSanitizerCheck(): void {
  safe = null;
}

/** Replace the children of `el` with the rendered markdown of `text`. */
export function setMarkdown(el: HTMLElement, text: string): void {
  el.replaceChildren(renderMarkdown(text));
}
