// The client library against a real Natter (started by the Rust e2e test `client_library`, which sets
// NATTER_WEB_URL, NATTER_WS_URLS, NATTER_ROOM and NATTER_ALICE / NATTER_BOB as "username:password").
// Run alone: `node --experimental-websocket --test test/` with those set.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { Backoff } from "../src/lib/backoff.js";
import { FrameError, NatterClient } from "../src/lib/client.js";
import { TokenSource } from "../src/lib/tokens.js";

const env = process.env;
const webUrl = env.NATTER_WEB_URL ?? "";
const wsUrls = (env.NATTER_WS_URLS ?? "").split(",");
const room = Number(env.NATTER_ROOM);
const live = Boolean(webUrl && env.NATTER_ALICE && env.NATTER_BOB);

/** @param {string} credentials "username:password" */
async function login(credentials) {
  const [username, password] = credentials.split(":");
  const response = await fetch(`${webUrl}/api/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(response.status, 200, `login of ${username}`);
  const pair = await response.json();
  return { token: pair.access_token, expires_in: pair.expires_in };
}

/** A client as an API client makes it: REST login, message-host tokens bought with the access token. */
function apiClient(credentials, wsUrl) {
  const api = new TokenSource(() => login(credentials));
  const ws = new TokenSource(async () => {
    const response = await fetch(`${webUrl}/api/v1/ws-token`, { headers: { Authorization: `Bearer ${await api.get()}` } });
    assert.equal(response.status, 200);
    return response.json();
  });
  return new NatterClient({ webUrl, wsUrl, tokens: { api, ws }, backoff: new Backoff({ baseMs: 100, maxMs: 400 }) });
}

/** Collects a client's events of one type. */
function collect(client, type) {
  const seen = [];
  client.on(type, (event) => seen.push(event));
  return seen;
}

/** Resolves when `check()` is true, polling; fails after `ms`. */
async function until(check, what, ms = 15000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const texts = (events) => events.map((e) => e.message.text);

describe("TokenSource", () => {
  it("asks again shortly before expiry, and after a refusal", async () => {
    let now = 0;
    let issued = 0;
    const source = new TokenSource(async () => ({ token: `t${++issued}`, expires_in: 60 }), () => now);
    assert.equal(await source.get(), "t1");
    now = 29_000;
    assert.equal(await source.get(), "t1", "still fresh");
    now = 31_000;
    assert.equal(await source.get(), "t2", "renewed 30 s before expiry");
    source.invalidate();
    assert.equal(await source.get(), "t3");
  });

  it("shares one request between concurrent callers", async () => {
    let issued = 0;
    const source = new TokenSource(async () => ({ token: `t${++issued}`, expires_in: 300 }));
    const tokens = await Promise.all([source.get(), source.get(), source.get()]);
    assert.deepEqual(tokens, ["t1", "t1", "t1"]);
  });
});

describe("Backoff", () => {
  it("grows, stays under its ceiling, jitters, and resets", () => {
    const backoff = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 1 });
    assert.deepEqual([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()], [100, 200, 400, 800, 1000]);
    backoff.reset();
    assert.equal(backoff.next(), 100);
    const low = new Backoff({ baseMs: 1000, random: () => 0 });
    assert.equal(low.next(), 500, "at least half the ceiling");
  });
});

describe("against a running Natter", { skip: !live && "NATTER_WEB_URL and members not set" }, () => {
  /** @type {NatterClient} */ let alice;
  /** @type {NatterClient} */ let bob;
  let aliceMessages;
  let bobMessages;
  let aliceOutgoing;

  before(async () => {
    alice = apiClient(env.NATTER_ALICE, wsUrls[0]);
    bob = apiClient(env.NATTER_BOB, wsUrls[wsUrls.length - 1]);
    aliceMessages = collect(alice, "message");
    bobMessages = collect(bob, "message");
    aliceOutgoing = collect(alice, "outgoing");
    const newest = (await alice.history.before(room, null, 1)).at(-1)?.position ?? 0;
    for (const client of [alice, bob]) {
      client.join(room, newest);
      client.start();
    }
    await until(() => alice.rooms.get(room)?.subscribed && bob.rooms.get(room)?.subscribed, "both subscribed");
  });

  after(() => {
    alice?.close();
    bob?.close();
  });

  it("publishes: sending, then sent with the position; the other member gets it in order", async () => {
    const entries = ["one", "two", "three"].map((text) => alice.publish(room, { text }));
    assert.ok(entries.every((e) => e.state === "sending"));
    await until(() => texts(bobMessages).includes("three"), "bob sees three");
    assert.deepEqual(texts(bobMessages).slice(-3), ["one", "two", "three"]);
    const positions = bobMessages.slice(-3).map((e) => e.message.position);
    assert.deepEqual(positions, [positions[0], positions[0] + 1, positions[0] + 2], "consecutive positions");
    await until(() => aliceOutgoing.filter((e) => e.state === "sent").length >= 3, "three acks");
    const sent = aliceOutgoing.filter((e) => e.state === "sent").slice(-3);
    assert.deepEqual(sent.map((e) => e.position), positions);
    assert.deepEqual(sent.map((e) => e.clientMsgId), entries.map((e) => e.clientMsgId));
  });

  it("resumes after a dropped socket with no gap and no duplicate", async () => {
    const connections = collect(bob, "connection");
    bob.socket?.close(4001, "test drops the socket");
    await until(() => connections.some((c) => c.state === "waiting"), "bob notices");
    alice.publish(room, { text: "while bob was away 1" });
    alice.publish(room, { text: "while bob was away 2" });
    await until(() => texts(bobMessages).includes("while bob was away 2"), "bob catches up");
    await until(() => bob.state === "live", "bob live again");
    const positions = bobMessages.map((e) => e.message.position);
    assert.deepEqual(positions, [...new Set(positions)].sort((a, b) => a - b), "once each, in order");
    for (let i = 1; i < positions.length; i++) assert.equal(positions[i], positions[i - 1] + 1, "no gap");
  });

  it("keeps messages published while disconnected and sends each once when back", async () => {
    alice.socket?.close(4001, "test drops the socket");
    await until(() => alice.state !== "live", "alice notices");
    const first = alice.publish(room, { text: "offline 1" });
    const second = alice.publish(room, { text: "offline 2" });
    assert.equal(first.state, "sending");
    await until(() => texts(bobMessages).includes("offline 2"), "bob gets both");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(texts(bobMessages).filter((t) => t.startsWith("offline")).length, 2, "each once");
    assert.deepEqual(texts(bobMessages).slice(-2), ["offline 1", "offline 2"], "in the order written");
    await until(() => aliceOutgoing.some((e) => e.clientMsgId === second.clientMsgId && e.state === "sent"), "acked");
  });

  it("fills a gap from history when a message arrives past the next position", async () => {
    const state = bob.rooms.get(room);
    const last = state.last;
    const delivered = bobMessages.length;
    // Pretend bob missed the last three: rewind and feed him the newest again.
    const newest = bobMessages.at(-1).message;
    state.last = last - 3;
    bob.arrived(room, { ...newest }, false);
    await until(() => bobMessages.length === delivered + 3, "the three refilled");
    assert.deepEqual(bobMessages.slice(-3).map((e) => e.message.position), [last - 2, last - 1, last]);
    assert.ok(bobMessages.slice(-3, -1).every((e) => e.replayed), "refilled ones are marked as replayed");
  });

  it("edits and deletes; refuses an edit of another's message in words", async () => {
    const bobEdits = collect(bob, "edited");
    const bobDeletes = collect(bob, "deleted");
    const entry = alice.publish(room, { text: "typo heer" });
    await until(() => aliceOutgoing.some((e) => e.clientMsgId === entry.clientMsgId && e.state === "sent"), "acked");
    const placed = aliceOutgoing.find((e) => e.clientMsgId === entry.clientMsgId && e.state === "sent");
    await alice.edit(room, placed.messageId, "typo here");
    await until(() => bobEdits.some((e) => e.message_id === placed.messageId && e.text === "typo here"), "bob sees the edit");
    await assert.rejects(bob.edit(room, placed.messageId, "not yours"), (error) => {
      assert.ok(error instanceof FrameError);
      assert.equal(error.code, "forbidden");
      assert.ok(error.message.length > 0);
      return true;
    });
    await alice.delete(room, placed.messageId);
    await until(() => bobDeletes.some((e) => e.message_id === placed.messageId), "bob sees the deletion");
  });

  it("tells others who is typing, and that they stopped", async () => {
    const typing = collect(bob, "typing");
    alice.typing(room);
    await until(() => typing.some((t) => t.typing === true), "typing started");
    alice.stopTyping(room);
    await until(() => typing.some((t) => t.typing === false), "typing stopped");
    assert.equal(typing[0].room, room);
  });

  it("pages history both ways and serves an exact range", async () => {
    const newest = await alice.history.before(room, null, 5);
    assert.ok(newest.length > 0);
    const top = newest.at(-1).position;
    const older = await alice.history.before(room, newest[0].position, 2);
    assert.ok(older.every((m) => m.position < newest[0].position));
    const range = await alice.history.range(room, top - 4, top);
    assert.deepEqual(range.map((m) => m.position), [top - 3, top - 2, top - 1, top]);
    const next = await alice.history.after(room, top - 2, 50);
    assert.deepEqual(next.map((m) => m.position), [top - 1, top]);
  });

  it("marks read, and the member's other device hears of it", async () => {
    const otherDevice = apiClient(env.NATTER_ALICE, wsUrls[wsUrls.length - 1]);
    const reads = collect(otherDevice, "member_read");
    otherDevice.join(room, null);
    otherDevice.start();
    try {
      await until(() => otherDevice.rooms.get(room)?.subscribed, "second device subscribed");
      const position = bobMessages.at(-1).message.position;
      alice.markRead(room, position);
      await until(() => reads.some((r) => r.position === position), "member_read on the other device");
    } finally {
      otherDevice.close();
    }
  });
});
