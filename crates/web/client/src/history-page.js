// The history page: web renders every message's text as plain (escaped) text; this renders it as the
// live view does, with the same sanitised Markdown subset.

import { renderMarkdown } from "./ui/markdown.js";

for (const text of document.querySelectorAll(".history .text[data-markdown]")) {
  text.replaceChildren(renderMarkdown(text.textContent ?? ""));
  text.removeAttribute("data-markdown");
}
