// Notes are markdown written by users: parsed by marked, then sanitized by DOMPurify before insertion.
import DOMPurify from "dompurify";
import { marked } from "marked";

export function renderMarkdown(el, text) {
  const html = marked.parse(text || "", { async: false, gfm: true });
  // No style attributes or forms; links open safely.
  el.innerHTML = DOMPurify.sanitize(html, { FORBID_TAGS: ["style", "form", "input", "svg", "math"], FORBID_ATTR: ["style"] });
  for (const a of el.querySelectorAll("a[href]")) { a.target = "_blank"; a.rel = "noopener noreferrer"; }
  return el;
}
