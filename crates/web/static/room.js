// Natter room page: opens a WebSocket on the message host (another origin) with a short-lived token
// fetched from web, subscribes to the room, shows messages live and publishes what the member types.
// Message text is inserted with textContent only, never as HTML.
(function () {
  "use strict";
  const root = document.getElementById("room");
  const roomId = Number(root.dataset.room);
  const wsUrl = root.dataset.wsUrl + "/ws";
  const list = document.getElementById("messages");
  const status = document.getElementById("status");
  const errors = document.getElementById("errors");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  let socket = null;
  let nextId = 1;
  let retryDelay = 500;
  const seen = new Set();

  function show(message) {
    if (seen.has(message.message_id)) return;
    seen.add(message.message_id);
    const item = document.createElement("li");
    item.dataset.position = message.position;
    const sender = document.createElement("span");
    sender.className = "sender";
    sender.textContent = message.sender_name;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = message.text;
    item.append(sender, text);
    list.append(item);
    list.scrollTop = list.scrollHeight;
  }

  async function connect() {
    status.textContent = "connecting…";
    let token;
    try {
      const response = await fetch(root.dataset.tokenUrl, { credentials: "same-origin" });
      if (response.status === 401 || response.redirected) { window.location = "/"; return; }
      token = (await response.json()).token;
    } catch (e) {
      return retry();
    }
    socket = new WebSocket(wsUrl, ["natter.v1", "natter.token." + token]);
    socket.onopen = function () {
      retryDelay = 500;
      status.textContent = "connected";
      socket.send(JSON.stringify({ type: "subscribe", id: "s" + nextId++, room: roomId }));
    };
    socket.onmessage = function (event) {
      const frame = JSON.parse(event.data);
      if (frame.type === "message") show(frame.message);
      else if (frame.type === "subscribed") status.textContent = "live";
      else if (frame.type === "error") errors.textContent = frame.detail;
    };
    socket.onclose = function (event) {
      status.textContent = "disconnected" + (event.reason ? ": " + event.reason : "");
      retry();
    };
  }

  function retry() {
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
    errors.textContent = "";
    socket.send(JSON.stringify({
      type: "publish", id: "p" + nextId++, room: roomId, text: text,
      client_msg_id: (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()),
    }));
    input.value = "";
  });

  connect();
})();
