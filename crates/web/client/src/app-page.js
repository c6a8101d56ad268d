// App pages without a conversation (find rooms, settings, manage): the sidebar stays live over the
// page's WebSocket.

import { NatterClient } from "./lib/client.js";
import { sessionTokens } from "./lib/tokens.js";
import { startShell } from "./ui/shell.js";

const nav = /** @type {HTMLElement} */ (document.getElementById("sidebar"));
const client = new NatterClient({ webUrl: "", wsUrl: nav.dataset.wsUrl ?? "", tokens: sessionTokens("") });
startShell({ client });
client.start();
window.addEventListener("online", () => client.retryNow());
