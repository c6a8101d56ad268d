// Natter room page: opens a WebSocket on the message host (another origin) with a short-lived token
// fetched from web, subscribes to the room, shows messages live and publishes what the member types.
// Message text is inserted with textContent only, never as HTML. What the member has seen is
// reported to web as their read position (at most once a second, while the page is visible).
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
  const replying = document.getElementById("replying");
  const fileInput = document.getElementById("file");
  // The message the next publish answers: { id, sender }, or null.
  let replyTarget = null;
  let socket = null;
  let nextId = 1;
  let retryDelay = 500;
  // The highest position shown: a reconnect subscribes with `since` and gets what it missed.
  let lastPosition = null;
  let stopped = false;
  const seen = new Set();

  // Read positions: the highest position shown, sent to web debounced.
  const READ_INTERVAL_MS = 1000;
  let readSeen = -1;
  let readSent = -1;
  let readTimer = null;
  let readLastAt = 0;

  function scheduleRead() {
    if (readTimer !== null || readSeen <= readSent) return;
    const wait = Math.max(0, readLastAt + READ_INTERVAL_MS - Date.now());
    readTimer = setTimeout(sendRead, wait);
  }

  async function sendRead() {
    readTimer = null;
    if (readSeen <= readSent) return;
    if (document.visibilityState === "hidden") return; // sent when the page is shown again
    const position = readSeen;
    readLastAt = Date.now();
    try {
      const response = await fetch(root.dataset.readUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
        body: JSON.stringify({ position: position }),
      });
      if (response.ok) readSent = Math.max(readSent, position);
    } catch (e) {
      // Not fatal: the next message tries again.
    }
    scheduleRead();
  }

  function markSeen(position) {
    if (typeof position !== "number" || position <= readSeen) return;
    readSeen = position;
    scheduleRead();
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") scheduleRead();
  });

  // The member was removed from the room (left elsewhere, kicked, banned, or the room was deleted).
  function removed(reason) {
    stopped = true;
    status.textContent = "removed";
    errors.textContent = "You can no longer use this room" + (reason ? ": " + reason : ".");
    input.disabled = true;
    form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
    if (socket) socket.close(1000, "removed from the room");
  }

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
    if (message.reply_to) {
      const quote = document.createElement("span");
      quote.className = "reply-to";
      quote.dataset.position = message.reply_to.position;
      quote.textContent = "↪ " + message.reply_to.sender_name;
      item.append(quote);
    }
    const answer = document.createElement("button");
    answer.type = "button";
    answer.className = "reply";
    answer.textContent = "Reply";
    answer.addEventListener("click", function () {
      replyTarget = { id: message.message_id, sender: message.sender_name };
      replying.hidden = false;
      replying.querySelector(".name").textContent = message.sender_name;
      input.focus();
    });
    item.append(sender, text);
    if (message.file && message.deleted !== true) item.append(attachment(message.file));
    item.append(answer);
    render(item, message.text, message.edited_at_ms !== undefined, message.deleted === true);
    list.append(item);
    list.scrollTop = list.scrollHeight;
    markSeen(message.position);
    if (lastPosition === null || message.position > lastPosition) lastPosition = message.position;
  }

  // A shared file: a download link (web checks membership on every download) and, for images, its
  // thumbnail. Names and types are text, never markup.
  function attachment(file) {
    const box = document.createElement("span");
    box.className = "file";
    const url = "/files/" + encodeURIComponent(file.file_id);
    if (file.thumbnail) {
      const image = document.createElement("img");
      image.src = url + "/thumbnail";
      image.width = file.thumbnail.width;
      image.height = file.thumbnail.height;
      image.alt = file.name;
      box.append(image);
    }
    const link = document.createElement("a");
    link.href = url;
    link.className = "file-link";
    link.textContent = file.name;
    const size = document.createElement("span");
    size.className = "meta";
    size.textContent = " (" + file.content_type + ", " + Math.max(1, Math.round(file.size / 1024)) + " KiB)";
    box.append(link, size);
    return box;
  }

  // Shows a message's current state: its text, "(edited)", or a placeholder once deleted.
  function render(item, value, edited, deleted) {
    const text = item.querySelector(".text");
    text.textContent = deleted ? "message deleted" : value;
    text.classList.toggle("deleted", deleted);
    if (deleted) item.querySelectorAll(".file").forEach(function (box) { box.remove(); });
    let mark = item.querySelector(".edited");
    if (edited && !deleted && !mark) {
      mark = document.createElement("span");
      mark.className = "edited";
      mark.textContent = " (edited)";
      item.append(mark);
    } else if (deleted && mark) {
      mark.remove();
    }
  }

  // An `edited` or `deleted` frame: changes the message shown at that position, if it is shown.
  function changed(frame) {
    const item = list.querySelector('li[data-position="' + Number(frame.position) + '"]');
    if (!item) return;
    if (frame.type === "edited") render(item, frame.text, true, false);
    else render(item, "", false, true);
  }

  async function connect() {
    if (stopped) return;
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
      const subscribe = { type: "subscribe", id: "s" + nextId++, room: roomId };
      if (lastPosition !== null) subscribe.since = lastPosition;
      socket.send(JSON.stringify(subscribe));
    };
    socket.onmessage = function (event) {
      const frame = JSON.parse(event.data);
      if (frame.type === "message") show(frame.message);
      else if ((frame.type === "edited" || frame.type === "deleted") && frame.room === roomId) changed(frame);
      else if (frame.type === "subscribed") status.textContent = "live";
      else if (frame.type === "presence" && frame.room === roomId) presenceChanged(frame);
      else if (frame.type === "member_read" && frame.room === roomId) readMoved(frame);
      else if (frame.type === "removed" && frame.room === roomId) removed(frame.reason);
      else if (frame.type === "error") errors.textContent = frame.detail;
      // The pod is shutting down: come back (to another pod) after the delay it asks for.
      else if (frame.type === "reconnect") retryDelay = frame.retry_after_ms;
      // Away too long to replay: the history page has everything.
      else if (frame.type === "reload_history" && frame.room === roomId) {
        errors.textContent = "You missed messages while away: ";
        const link = document.createElement("a");
        link.href = "/rooms/" + roomId + "/history";
        link.textContent = "see the history";
        errors.append(link);
      }
    };
    socket.onclose = function (event) {
      if (stopped) return;
      status.textContent = "disconnected" + (event.reason ? ": " + event.reason : "");
      retry();
    };
  }

  // The people list: presence and read positions pushed by the server.
  const people = document.getElementById("people");
  function person(memberId) {
    return people ? people.querySelector('li[data-member-id="' + Number(memberId) + '"]') : null;
  }

  function presenceChanged(frame) {
    const item = person(frame.member_id);
    if (!item) return;
    item.dataset.state = frame.state;
    item.querySelector(".dot").className = "dot " + frame.state;
    const when = frame.last_seen_ms ? new Date(frame.last_seen_ms).toISOString() : null;
    item.querySelector(".presence").textContent = frame.state === "offline" && when
      ? "last seen " + when.slice(0, 10) + " " + when.slice(11, 16) + " UTC"
      : frame.state;
  }

  function readMoved(frame) {
    const item = person(frame.member_id);
    if (!item || (item.dataset.read && Number(item.dataset.read) >= frame.position)) return;
    item.dataset.read = String(frame.position);
    item.querySelector(".read").textContent = "read to #" + frame.position;
  }

  function retry() {
    if (stopped) return;
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  }

  // A chosen file is uploaded to web first; the message then shares it, with the text as caption.
  async function upload(file) {
    const body = new FormData();
    body.append("file", file, file.name);
    const response = await fetch("/rooms/" + roomId + "/files", {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRF-Token": root.dataset.csrf },
    });
    const answer = await response.json().catch(function () { return null; });
    if (!response.ok) {
      const detail = answer && answer.errors && answer.errors[0] ? answer.errors[0].detail : response.statusText;
      throw new Error(detail);
    }
    return answer;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const text = input.value.trim();
    const chosen = fileInput && fileInput.files.length > 0 ? fileInput.files[0] : null;
    if (stopped || (!text && !chosen) || !socket || socket.readyState !== WebSocket.OPEN) return;
    errors.textContent = "";
    const frame = {
      type: "publish", id: "p" + nextId++, room: roomId, text: text,
      client_msg_id: (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()),
    };
    if (replyTarget) frame.reply_to = replyTarget.id;
    if (chosen) {
      status.textContent = "uploading " + chosen.name + "…";
      try {
        frame.file = (await upload(chosen)).file_id;
      } catch (error) {
        errors.textContent = "Upload refused: " + error.message;
        status.textContent = "live";
        return;
      }
      status.textContent = "live";
      fileInput.value = "";
    }
    socket.send(JSON.stringify(frame));
    input.value = "";
    cancelReply();
  });

  function cancelReply() {
    replyTarget = null;
    replying.hidden = true;
  }
  replying.querySelector("button").addEventListener("click", cancelReply);

  connect();
})();
