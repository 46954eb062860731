import { describe, expect, it } from "vitest";
import { MAX_MARKDOWN_CHARS, MAX_NESTING, renderMarkdown } from "../src/markdown";

function render(text: string): HTMLElement {
  const div = document.createElement("div");
  div.append(renderMarkdown(text));
  return div;
}

/** Nothing in `root` can run code: no script-like elements, no handlers, no unsafe URLs. */
function expectInert(root: HTMLElement): void {
  expect(root.querySelectorAll("script, iframe, object, embed, img, svg, style, form, base, meta, link").length).toBe(0);
  for (const node of Array.from(root.querySelectorAll("*"))) {
    for (const attr of Array.from(node.attributes)) {
      expect(attr.name.toLowerCase().startsWith("on"), `${node.tagName} has ${attr.name}`).toBe(false);
      if (["href", "src", "action", "formaction", "xlink:href"].includes(attr.name.toLowerCase())) {
        expect(attr.value.trim()).toMatch(/^(https?:|mailto:)/i);
      }
    }
  }
}

describe("renderMarkdown", () => {
  it("renders markdown: emphasis, lists, code and GFM tables", () => {
    const root = render("**East** leads\n\n- one\n- two\n\n`x`\n\n| a | b |\n|---|---|\n| 1 | 2 |");
    expect(root.querySelector("strong")?.textContent).toBe("East");
    expect(root.querySelectorAll("li").length).toBe(2);
    expect(root.querySelector("code")?.textContent).toBe("x");
    expect(root.querySelectorAll("table td").length).toBe(2);
  });

  it("shows raw HTML as text instead of running it", () => {
    const text = 'before <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned=2"> after';
    const root = render(text);
    expectInert(root);
    expect(root.textContent).toContain("<script>window.__pwned = 1</script>");
    expect(root.textContent).toContain('<img src=x onerror="window.__pwned=2">');
    expect((window as any).__pwned).toBeUndefined();
  });

  it("shows an HTML block as text", () => {
    const root = render('<div onclick="x()">\n<iframe src="https://evil.example"></iframe>\n</div>');
    expectInert(root);
    expect(root.textContent).toContain("<iframe");
  });

  it.each([
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "<javascript:alert(1)>",
    "[click][r]\n\n[r]: javascript:alert(1)",
  ])("drops unsafe link targets but keeps the text: %s", (text) => {
    const root = render(text);
    expectInert(root);
    for (const a of Array.from(root.querySelectorAll("a"))) expect(a.hasAttribute("href")).toBe(false);
    expect(root.textContent?.length).toBeGreaterThan(0);
  });

  it("opens safe links in a new tab without an opener", () => {
    const root = render("See [the docs](https://docs.trellis.sh) or <mailto:a@b.example>.");
    const links = Array.from(root.querySelectorAll("a"));
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["https://docs.trellis.sh", "mailto:a@b.example"]);
    for (const a of links) {
      expect(a.getAttribute("target")).toBe("_blank");
      expect(a.getAttribute("rel")).toBe("noopener noreferrer nofollow");
    }
  });

  it("shows images as their alt text and fetches nothing", () => {
    const root = render("![a <b>chart</b>](https://tracker.example/p.png)");
    expectInert(root);
    expect(root.textContent).toContain("a <b>chart</b>");
  });

  it("handles empty and partial markdown while streaming", () => {
    expect(render("").textContent).toBe("");
    const root = render("| a | b |\n|---|");
    expectInert(root);
    expect(render("**unfinished").textContent).toContain("unfinished");
  });
});

describe("a sanitizer that does nothing", () => {
  it("makes answers show as plain text (fail closed)", async () => {
    const { vi } = await import("vitest");
    const DOMPurify = (await import("dompurify")).default;
    const { resetSanitizerCheck } = await import("../src/markdown");
    const spy = vi.spyOn(DOMPurify, "sanitize").mockImplementation(((html: string) => {
      const t = document.createElement("template");
      t.innerHTML = html;
      return t.content;
    }) as any);
    try {
      resetSanitizerCheck();
      const root = render('**b** <img src=x onerror="window.__f=1"> [x](javascript:alert(1))');
      expect(root.querySelector("strong, img, a")).toBeNull();
      expect(root.textContent).toContain("<img src=x onerror=");
    } finally {
      spy.mockRestore();
      resetSanitizerCheck();
    }
    expect(render("**b**").querySelector("strong")).not.toBeNull();
  });
});

describe("renderMarkdown on hostile text: bounded in depth and time", () => {
  const depth = (root: HTMLElement, selector: string): number => {
    let deepest = 0;
    for (const node of Array.from(root.querySelectorAll(selector))) {
      let d = 0;
      for (let n: Element | null = node; n && n !== root; n = n.parentElement) if (n.matches(selector)) d++;
      deepest = Math.max(deepest, d);
    }
    return deepest;
  };

  it("cuts block quotes 5,000 deep at MAX_NESTING and keeps the text", () => {
    // Attack: marked recursed once per level and overflowed the stack.
    const root = render("> ".repeat(5000) + "deep");
    expect(depth(root, "blockquote")).toBe(MAX_NESTING);
    expect(root.textContent).toContain("deep");
  });

  it("cuts lists nested by markers or by indentation", () => {
    const markers = render("- ".repeat(3000) + "item");
    expect(depth(markers, "ul")).toBeLessThanOrEqual(MAX_NESTING);
    expect(markers.textContent).toContain("item");
    const indented = render(Array.from({ length: 500 }, (_, i) => " ".repeat(i * 2) + "- level " + i).join("\n"));
    expect(depth(indented, "ul")).toBeLessThanOrEqual(MAX_NESTING + 1);
    expect(indented.textContent).toContain("level 499");
  });

  it("renders pathological emphasis, links and code in linear time", { timeout: 60_000 }, () => {
    // Attack: "**a " * 20000 took 18 s in the Python renderer; each input here would take minutes if
    // rendering were quadratic. The vitest timeout is a hang guard, not a speed assertion.
    for (const text of ["**a ".repeat(20000), "*a ".repeat(20000), "`a ".repeat(20000), "[a".repeat(20000), "~~a ".repeat(20000)]) {
      const root = render(text);
      expectInert(root);
      expect(root.textContent!.length).toBeGreaterThan(20000);
    }
  });

  it("shows text past MAX_MARKDOWN_CHARS as plain text", () => {
    const text = "x".repeat(MAX_MARKDOWN_CHARS) + "**tail**";
    const root = render(text);
    expect(root.textContent).toContain("**tail**");
    expect(root.querySelector("strong")).toBeNull();
  });

  it("leaves ordinary nesting alone", () => {
    const root = render("> quote\n> > inner\n\n- a\n  - b\n    - c\n\n1. one\n2. two");
    expect(depth(root, "blockquote")).toBe(2);
    expect(depth(root, "ul")).toBe(3);
    expect(root.querySelectorAll("ol li").length).toBe(2);
  });
});
