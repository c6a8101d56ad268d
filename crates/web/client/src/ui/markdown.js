// Message text as a safe Markdown subset: bold, italic, strike, inline code, fenced code, quotes,
// lists and links (bare URLs become links). Everything else shows as the text it is: headings, tables,
// images and raw HTML are never rendered (raw HTML is escaped before DOMPurify even sees it, and
// DOMPurify then keeps only the tags below). The live view and the history page both use this one
// function, so a message looks the same in both.

import DOMPurify from "dompurify";
import { Marked } from "marked";

const ALLOWED_TAGS = ["p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a"];

/** @param {string} text */
function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** @param {string} raw */
const asText = (raw) => `<p>${escapeHtml(raw)}</p>`;

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    html: ({ text }) => escapeHtml(text),
    heading: ({ raw }) => asText(raw.trim()),
    hr: ({ raw }) => asText(raw.trim()),
    table: ({ raw }) => asText(raw.trim()),
    image: ({ raw }) => escapeHtml(raw),
    checkbox: () => "",
  },
});

let hooked = false;
function purifier() {
  if (!hooked) {
    // Links open in a new tab and tell the target nothing about us.
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A") {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    });
    hooked = true;
  }
  return DOMPurify;
}

/**
 * The message text as DOM nodes, safe to append anywhere.
 * @param {string} text
 * @returns {DocumentFragment}
 */
export function renderMarkdown(text) {
  const html = /** @type {string} */ (marked.parse(text)).trim();
  return purifier().sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ["href", "target", "rel"],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
    RETURN_DOM_FRAGMENT: true,
  });
}
