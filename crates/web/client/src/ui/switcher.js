// The quick switcher (Ctrl/Cmd+K): type a few letters of a room or a person, pick with the arrows,
// Enter opens it. Matching is fuzzy (the letters in order, closer together and earlier scoring
// higher). People come from the direct chats and the open room's member list; any other username
// can be messaged with "Message @name", and any text searched for in messages (the last choice).

/** @typedef {{ label: string, detail: string, open: () => void }} Choice */

/**
 * How well `query` matches `text`: the letters of the query in order, or null.
 * @param {string} query @param {string} text
 * @returns {number | null} higher is better
 */
export function fuzzyScore(query, text) {
  const q = query.toLowerCase();
  const t = text.toLowerCase();
  if (!q) return 0;
  const direct = t.indexOf(q);
  if (direct >= 0) return 1000 - direct * 2 - (t.length - q.length) / 10;
  let score = 0;
  let at = -1;
  for (const char of q) {
    const next = t.indexOf(char, at + 1);
    if (next < 0) return null;
    score -= next - at - 1;
    at = next;
  }
  return 500 + score - t.length / 10;
}

const USERNAME = /^@?[A-Za-z0-9._-]{3,32}$/;

export class Switcher {
  /**
   * @param {{
   *   dialog: HTMLDialogElement, input: HTMLInputElement, results: HTMLUListElement,
   *   choices: () => Choice[], messagePerson: (username: string) => void
   * }} options
   */
  constructor({ dialog, input, results, choices, messagePerson }) {
    this.dialog = dialog;
    this.input = input;
    this.results = results;
    this.choices = choices;
    this.messagePerson = messagePerson;
    /** @type {Choice[]} */
    this.shown = [];
    this.selected = 0;
    input.addEventListener("input", () => this.render());
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        this.select((this.selected + step + this.shown.length) % Math.max(1, this.shown.length));
      } else if (event.key === "Enter") {
        event.preventDefault();
        this.shown[this.selected]?.open();
      }
    });
    results.addEventListener("click", (event) => {
      const item = /** @type {HTMLElement} */ (event.target).closest("li");
      if (item) this.shown[Number(item.dataset.index)]?.open();
    });
  }

  open() {
    if (this.dialog.open) return;
    this.input.value = "";
    this.render();
    this.dialog.showModal();
    this.input.focus();
  }

  render() {
    const query = this.input.value.trim();
    const scored = this.choices()
      .map((choice) => ({ choice, score: fuzzyScore(query, choice.label) }))
      .filter((s) => s.score !== null)
      .sort((a, b) => /** @type {number} */ (b.score) - /** @type {number} */ (a.score))
      .slice(0, 12)
      .map((s) => s.choice);
    if (USERNAME.test(query)) {
      const username = query.replace(/^@/, "");
      scored.push({ label: `Message @${username}`, detail: "start a direct chat", open: () => this.messagePerson(username) });
    }
    if (query) {
      scored.push({
        label: `Search messages for “${query}”`,
        detail: "search",
        open: () => location.assign(`/search?q=${encodeURIComponent(query)}`),
      });
    }
    this.shown = scored;
    this.results.replaceChildren(
      ...scored.map((choice, index) => {
        const li = document.createElement("li");
        li.id = `switcher-choice-${index}`;
        li.setAttribute("role", "option");
        li.dataset.index = String(index);
        const label = document.createElement("span");
        label.textContent = choice.label;
        const detail = document.createElement("span");
        detail.className = "meta";
        detail.textContent = choice.detail;
        li.append(label, detail);
        return li;
      }),
    );
    if (!scored.length) {
      const li = document.createElement("li");
      li.className = "meta";
      li.textContent = "Type a room, a person, or words to search for.";
      this.results.append(li);
    }
    this.select(0);
  }

  /** @param {number} index */
  select(index) {
    this.selected = index;
    this.results.querySelectorAll("li[role=option]").forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    const active = this.results.querySelector(`#switcher-choice-${index}`);
    if (active) {
      this.input.setAttribute("aria-activedescendant", active.id);
      active.scrollIntoView({ block: "nearest" });
    } else this.input.removeAttribute("aria-activedescendant");
  }
}
