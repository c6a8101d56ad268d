// The room page: one client (one WebSocket) and the application shell for the page's life, and the
// open room (`room-view.js`). Choosing another room in the sidebar, the quick switcher or with
// Alt+Up/Down switches in place: the room's part of the page is fetched as HTML and replaces the old
// one, the address changes (Back works), and the socket, the sidebar and its subscriptions stay.

import { NatterClient } from "./lib/client.js";
import { sessionTokens } from "./lib/tokens.js";
import { openRoom } from "./room-view.js";
import { startShell } from "./ui/shell.js";

/** @template {HTMLElement} T @param {string} id @returns {T} */
const byId = (id) => /** @type {T} */ (document.getElementById(id));

const client = new NatterClient({ webUrl: "", wsUrl: byId("room").dataset.wsUrl ?? "", tokens: sessionTokens("") });
let detach = new AbortController();
/** @type {ReturnType<typeof openRoom> | null} */
let current = null;
const shell = startShell({
  client,
  onEscape: () => current?.markAllRead(),
  openRoom: (room) => void switchTo(`/rooms/${room}`, true),
});
current = openRoom({ client, shell, signal: detach.signal });
client.start();
window.addEventListener("online", () => client.retryNow());
window.addEventListener("popstate", () => void switchTo(location.pathname + location.hash, false));

/** Whether a switch is under way (a second choice waits for nothing: the last one wins). */
let switching = 0;

/**
 * Shows the room at `url` in place; anything but a room page is loaded as usual.
 * @param {string} url
 * @param {boolean} push add the address to the browser's history
 */
async function switchTo(url, push) {
  const ticket = ++switching;
  let page;
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok || response.redirected) throw new Error(`HTTP ${response.status}`);
    page = new DOMParser().parseFromString(await response.text(), "text/html");
  } catch {
    if (ticket === switching) location.assign(url);
    return;
  }
  if (ticket !== switching) return;
  const main = page.getElementById("app-main");
  const room = page.getElementById("room");
  if (!main || !room) {
    location.assign(url);
    return;
  }
  detach.abort();
  detach = new AbortController();
  byId("app-main").replaceWith(document.adoptNode(main));
  if (push) history.pushState(null, "", url);
  shell.attention.retitle(page.title);
  shell.sidebar.setCurrent(Number(room.dataset.room));
  shell.closeDrawer();
  current = openRoom({ client, shell, signal: detach.signal });
  byId("text")?.focus();
}
