// The room's call: who is in it (shown before joining too), joining with microphone and camera,
// one tile per participant, mute, camera and leave. Media goes peer to peer (a mesh: one
// RTCPeerConnection per other participant); Natter relays the signalling (`signal` frames).
//
// Who calls whom: of two participants, the one with the greater session id (the pod's ids grow with
// time, so the later joiner) sends the offer; the other answers. A newcomer offers only once it sees
// itself in the call state, so everyone it calls has the newer state too, or soon will. A peer that
// appears in no state yet (its offer came first) is kept until a state confirms or it is 5 s old.

import { avatarColour, initials } from "./format.js";
import { el } from "./message-view.js";

/**
 * @typedef {import("../lib/events.js").CallParticipant} CallParticipant
 * @typedef {import("../lib/events.js").CallMedia} CallMedia
 * @typedef {{
 *   pc: RTCPeerConnection, tile: HTMLElement, video: HTMLVideoElement, remoteSet: boolean,
 *   pending: RTCIceCandidateInit[], confirmed: boolean, createdAt: number, queue: Promise<void>,
 *   bytesIn: number, grewAt: number,
 * }} Peer
 */

/** How long a peer no call state has listed yet is kept. */
const UNCONFIRMED_MS = 5000;
/** How often media statistics are read (the "no media" warning on a tile). */
const STATS_EVERY_MS = 2000;
/** Rejoining after a reconnect: tries, and the wait before each (the room's subscription comes first). */
const REJOIN_ATTEMPTS = 20;
const REJOIN_EVERY_MS = 500;

export class CallBar {
  /**
   * @param {{
   *   root: HTMLElement, startButton: HTMLButtonElement | null,
   *   client: import("../lib/client.js").NatterClient, room: number, me: number, canTalk: boolean,
   *   iceServers: () => Promise<RTCIceServer[]>, signal: AbortSignal,
   * }} options
   */
  constructor({ root, startButton, client, room, me, canTalk, iceServers, signal }) {
    this.root = root;
    this.startButton = startButton;
    this.client = client;
    this.room = room;
    this.me = me;
    this.canTalk = canTalk;
    this.iceServers = iceServers;
    this.version = 0;
    /** @type {CallParticipant[]} */
    this.participants = [];
    /** This device's session while in the call. @type {string | null} */
    this.session = null;
    /** @type {MediaStream | null} */
    this.local = null;
    /** @type {CallMedia} */
    this.media = { audio: false, video: false, screen: false, muted: false };
    /** @type {RTCIceServer[]} */
    this.ice = [];
    /** @type {Map<string, Peer>} */
    this.peers = new Map();
    /** Tiles of participants without a peer connection (before joining, or oneself). @type {Map<string, HTMLElement>} */
    this.plainTiles = new Map();
    /** @type {HTMLVideoElement | null} */
    this.previewVideo = null;
    this.joining = false;
    /** Set while the connection is down after this device was in the call. @type {{ video: boolean } | null} */
    this.rejoin = null;

    this.summary = /** @type {HTMLElement} */ (root.querySelector(".call-summary"));
    this.tiles = /** @type {HTMLElement} */ (root.querySelector(".call-tiles"));
    this.problem = /** @type {HTMLElement} */ (root.querySelector(".call-problem"));
    this.joinAudio = /** @type {HTMLButtonElement} */ (root.querySelector(".call-join"));
    this.joinVideo = /** @type {HTMLButtonElement} */ (root.querySelector(".call-join-video"));
    this.muteButton = /** @type {HTMLButtonElement} */ (root.querySelector(".call-mute"));
    this.cameraButton = /** @type {HTMLButtonElement} */ (root.querySelector(".call-camera"));
    this.leaveButton = /** @type {HTMLButtonElement} */ (root.querySelector(".call-leave"));

    startButton?.addEventListener("click", () => void this.join(true));
    this.joinAudio.addEventListener("click", () => void this.join(false));
    this.joinVideo.addEventListener("click", () => void this.join(true));
    this.leaveButton.addEventListener("click", () => void this.leave());
    this.muteButton.addEventListener("click", () => void this.toggle("audio"));
    this.cameraButton.addEventListener("click", () => void this.toggle("video"));

    client.on("call_state", (state) => {
      if (state.room !== this.room || state.version <= this.version) return;
      this.version = state.version;
      this.participants = state.participants;
      this.sync();
    });
    client.on("signal", (s) => {
      if (s.room === this.room) this.onSignal(s.from, s.data);
    });
    client.on("connection", ({ state }) => {
      if (state !== "live" && this.session) {
        // The seat went with the connection; this device joins again, with the same camera choice,
        // as soon as it is back (a new session: the others' peers re-form through the call state).
        this.rejoin = { video: this.media.video };
        this.hangUp("The call dropped with the connection; rejoining when it is back…");
      }
      // A new connection subscribes again and is told the call afresh.
      if (state === "live") {
        this.version = 0;
        if (this.rejoin) void this.rejoinSoon();
      }
    });
    client.on("removed", (r) => {
      if (r.room !== this.room) return;
      this.rejoin = null;
      this.hangUp("You left the call: you no longer have access to this room.");
    });
    const stats = setInterval(() => void this.readStats(), STATS_EVERY_MS);
    signal.addEventListener("abort", () => {
      clearInterval(stats);
      if (this.session) void this.client.leaveCall(this.room).catch(() => {});
      this.hangUp("");
    });
    this.render();
  }

  /** Joins with the microphone, and the camera when `video`; listening only when not allowed. */
  /** @param {boolean} video */
  async join(video) {
    if (this.session || this.joining) return;
    this.joining = true;
    this.say("");
    try {
      this.local = this.canTalk ? await this.capture(video) : null;
      const tracks = this.local?.getTracks() ?? [];
      this.media = {
        audio: tracks.some((t) => t.kind === "audio"),
        video: tracks.some((t) => t.kind === "video"),
        screen: false,
        muted: false,
      };
      this.ice = await this.iceServers().catch(() => []);
      const joined = await this.client.joinCall(this.room, this.media);
      this.session = joined.session;
      if (!this.canTalk) this.say("You are listening: your role in this room does not send media.");
    } catch (error) {
      this.stopLocal();
      this.say(`Could not join the call: ${/** @type {Error} */ (error).message}`);
    } finally {
      this.joining = false;
    }
    this.sync();
  }

  /** Joins again once the room's subscription is back (the client subscribes after reconnecting). */
  async rejoinSoon() {
    const wanted = this.rejoin;
    for (let attempt = 0; wanted && this.rejoin === wanted && attempt < REJOIN_ATTEMPTS; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, REJOIN_EVERY_MS));
      if (this.rejoin !== wanted || this.session) return;
      await this.join(wanted.video);
      if (this.session) {
        this.rejoin = null;
        return;
      }
    }
    if (this.rejoin === wanted) {
      this.rejoin = null;
      this.say("Could not rejoin the call; join again when you are ready.");
      this.render();
    }
  }

  /** @param {boolean} video @returns {Promise<MediaStream | null>} */
  async capture(video) {
    const devices = navigator.mediaDevices;
    if (!devices?.getUserMedia) {
      this.say("This browser cannot capture media here: you are listening.");
      return null;
    }
    try {
      return await devices.getUserMedia({ audio: true, video });
    } catch {
      if (video) {
        try {
          const audio = await devices.getUserMedia({ audio: true });
          this.say("No camera: you joined with your microphone.");
          return audio;
        } catch {
          // fall through
        }
      }
      this.say("No microphone or camera allowed: you are listening.");
      return null;
    }
  }

  async leave() {
    this.rejoin = null;
    if (!this.session) return;
    try {
      await this.client.leaveCall(this.room);
    } catch {
      // Leaving locally is what matters; the server drops the seat with the connection anyway.
    }
    this.hangUp("");
  }

  /** Ends this device's part in the call locally, saying `why`. @param {string} why */
  hangUp(why) {
    for (const session of [...this.peers.keys()]) this.drop(session);
    this.stopLocal();
    this.session = null;
    this.say(why);
    this.render();
  }

  stopLocal() {
    for (const track of this.local?.getTracks() ?? []) track.stop();
    this.local = null;
  }

  /** Mutes or unmutes the microphone, or turns the camera off or on. @param {"audio" | "video"} kind */
  async toggle(kind) {
    if (!this.session || !this.local) return;
    const tracks = kind === "audio" ? this.local.getAudioTracks() : this.local.getVideoTracks();
    if (!tracks.length) return;
    const on = !tracks[0].enabled;
    for (const track of tracks) track.enabled = on;
    if (kind === "audio") this.media = { ...this.media, muted: !on };
    else this.media = { ...this.media, video: on };
    this.render();
    try {
      await this.client.joinCall(this.room, this.media);
    } catch (error) {
      this.say(`Not changed: ${/** @type {Error} */ (error).message}`);
    }
  }

  /** Brings the peer connections in line with the call state, then redraws. */
  sync() {
    const listed = new Set(this.participants.map((p) => p.session));
    const mine = this.session;
    if (mine && listed.has(mine)) {
      for (const p of this.participants) {
        if (p.session === mine) continue;
        const peer = this.peers.get(p.session);
        if (peer) peer.confirmed = true;
        else if (mine > p.session) this.connect(p.session, true);
      }
    }
    for (const [session, peer] of this.peers) {
      const young = !peer.confirmed && Date.now() - peer.createdAt < UNCONFIRMED_MS;
      if (!listed.has(session) && !young) this.drop(session);
    }
    this.render();
  }

  /** A peer connection to `session`; `offering`: this side sends the offer. @param {string} session @param {boolean} offering @returns {Peer} */
  connect(session, offering) {
    const pc = new RTCPeerConnection({ iceServers: this.ice });
    const video = /** @type {HTMLVideoElement} */ (el("video"));
    video.autoplay = true;
    video.setAttribute("playsinline", "");
    /** @type {Peer} */
    const peer = {
      pc, video, tile: el("li", "call-tile"), remoteSet: false, pending: [], confirmed: false,
      createdAt: Date.now(), queue: Promise.resolve(), bytesIn: 0, grewAt: Date.now(),
    };
    peer.tile.dataset.session = session;
    peer.tile.dataset.state = "new";
    this.peers.set(session, peer);
    pc.onicecandidate = (event) => {
      if (event.candidate) this.client.signal(this.room, session, { candidate: event.candidate.toJSON() });
    };
    pc.ontrack = (event) => {
      const stream = event.streams[0] ?? new MediaStream([event.track]);
      if (video.srcObject !== stream) video.srcObject = stream;
      this.render();
    };
    pc.onconnectionstatechange = () => {
      peer.tile.dataset.state = pc.connectionState;
      if (pc.connectionState === "failed") this.say("A participant could not be reached (no route between you).");
      this.render();
    };
    if (offering) {
      peer.queue = peer.queue.then(async () => {
        this.attachLocal(pc, true);
        await pc.setLocalDescription(await pc.createOffer());
        this.client.signal(this.room, session, { description: pc.localDescription?.toJSON() });
      }).catch((error) => this.say(`Call setup failed: ${error.message}`));
    }
    return peer;
  }

  /**
   * Sends this device's tracks on `pc`; a kind it does not send is still received. `offering`: add
   * transceivers; answering: use the ones the offer made.
   * @param {RTCPeerConnection} pc @param {boolean} offering
   */
  attachLocal(pc, offering) {
    for (const kind of ["audio", "video"]) {
      const track = this.local?.getTracks().find((t) => t.kind === kind) ?? null;
      if (offering) {
        if (track && this.local) pc.addTrack(track, this.local);
        else pc.addTransceiver(kind, { direction: "recvonly" });
        continue;
      }
      const transceiver = pc.getTransceivers().find((t) => t.receiver.track.kind === kind && !t.sender.track);
      if (transceiver && track && this.local) {
        void transceiver.sender.replaceTrack(track);
        transceiver.sender.setStreams?.(this.local);
        transceiver.direction = "sendrecv";
      }
    }
  }

  /** Signalling from `from`, handled in arrival order. @param {string} from @param {any} data */
  onSignal(from, data) {
    if (!this.session || from === this.session) return;
    const peer = this.peers.get(from) ?? this.connect(from, false);
    peer.queue = peer.queue.then(async () => {
      const { pc } = peer;
      if (data?.description) {
        await pc.setRemoteDescription(data.description);
        peer.remoteSet = true;
        for (const candidate of peer.pending.splice(0)) await pc.addIceCandidate(candidate);
        if (data.description.type === "offer") {
          this.attachLocal(pc, false);
          await pc.setLocalDescription(await pc.createAnswer());
          this.client.signal(this.room, from, { description: pc.localDescription?.toJSON() });
        }
      } else if (data?.candidate) {
        if (peer.remoteSet) await pc.addIceCandidate(data.candidate);
        else peer.pending.push(data.candidate);
      }
    }).catch((error) => this.say(`Call setup failed: ${error.message}`));
  }

  /** @param {string} session */
  drop(session) {
    const peer = this.peers.get(session);
    if (!peer) return;
    peer.pc.close();
    peer.video.srcObject = null;
    this.peers.delete(session);
  }

  /** Inbound media bytes per peer, shown on the tile; a tile whose media stopped says so. */
  async readStats() {
    for (const peer of this.peers.values()) {
      if (peer.pc.connectionState !== "connected") continue;
      let bytes = 0;
      const report = await peer.pc.getStats();
      report.forEach((stat) => {
        if (stat.type === "inbound-rtp") bytes += stat.bytesReceived ?? 0;
      });
      if (bytes > peer.bytesIn) peer.grewAt = Date.now();
      peer.bytesIn = bytes;
      peer.tile.dataset.bytesIn = String(bytes);
      peer.tile.classList.toggle("stalled", Date.now() - peer.grewAt > 3 * STATS_EVERY_MS);
    }
  }

  /** @param {string} text */
  say(text) {
    this.problem.textContent = text;
  }

  render() {
    const inCall = this.session !== null;
    const others = this.participants.filter((p) => p.session !== this.session);
    const ongoing = this.participants.length > 0 || inCall;
    this.root.hidden = !ongoing && !this.problem.textContent;
    this.root.classList.toggle("joined", inCall);
    if (this.startButton) {
      this.startButton.hidden = ongoing;
    }
    const names = others.map((p) => (p.member_id === this.me ? `${p.name} (your other device)` : p.name));
    this.summary.textContent = inCall
      ? others.length ? `In the call with ${list(names)}` : "You are in the call; waiting for others to join"
      : this.participants.length ? `${list(names)} ${this.participants.length === 1 ? "is" : "are"} in a call` : "";
    this.joinAudio.hidden = inCall || !this.participants.length;
    this.joinVideo.hidden = inCall || !this.participants.length || !this.canTalk;
    this.joinAudio.textContent = this.canTalk ? "Join" : "Listen";
    this.leaveButton.hidden = !inCall;
    const audio = this.local?.getAudioTracks().length ?? 0;
    const camera = this.local?.getVideoTracks().length ?? 0;
    this.muteButton.hidden = !inCall || !audio;
    this.muteButton.textContent = this.media.muted ? "Unmute" : "Mute";
    this.muteButton.setAttribute("aria-pressed", String(this.media.muted));
    this.cameraButton.hidden = !inCall || !camera;
    this.cameraButton.textContent = this.media.video ? "Camera off" : "Camera on";
    this.cameraButton.setAttribute("aria-pressed", String(!this.media.video));
    this.renderTiles(inCall);
  }

  /** @param {boolean} inCall */
  renderTiles(inCall) {
    /** @type {HTMLElement[]} */
    const order = [];
    for (const p of this.participants) {
      const mine = p.session === this.session;
      const peer = this.peers.get(p.session);
      const tile = peer?.tile ?? this.plainTiles.get(p.session) ?? this.plainTile(p.session);
      tile.classList.toggle("mine", mine);
      const video = mine ? (this.local ? this.preview() : null) : (peer?.video ?? null);
      const showVideo = mine ? this.media.video && !!this.local : p.media.video && !!peer?.video.srcObject;
      let face = /** @type {HTMLElement | null} */ (tile.querySelector(".call-face"));
      let label = /** @type {HTMLElement | null} */ (tile.querySelector(".call-name"));
      if (!face || !label) {
        face = el("span", "call-face");
        face.setAttribute("aria-hidden", "true");
        label = el("span", "call-name");
        tile.append(face, label);
      }
      if (video && video.parentElement !== tile) tile.prepend(video);
      if (video) video.hidden = !showVideo;
      face.hidden = showVideo;
      face.textContent = initials(p.name);
      face.style.background = avatarColour(p.member_id);
      const flags = [];
      if (!p.media.audio && !p.media.video) flags.push("listening");
      else if (p.media.muted || !p.media.audio) flags.push("muted");
      if (!mine && inCall && peer && peer.pc.connectionState !== "connected") {
        flags.push(peer.pc.connectionState === "failed" ? "unreachable" : "connecting…");
      }
      label.textContent = `${mine ? "You" : p.name}${flags.length ? ` · ${flags.join(" · ")}` : ""}`;
      tile.setAttribute("aria-label", label.textContent);
      order.push(tile);
    }
    const current = [...this.tiles.children];
    if (current.length !== order.length || current.some((tile, i) => tile !== order[i])) {
      this.tiles.replaceChildren(...order);
      // Moving a playing video pauses it.
      for (const video of this.tiles.querySelectorAll("video")) void video.play().catch(() => {});
    }
    for (const session of [...this.plainTiles.keys()]) {
      if (!this.participants.some((p) => p.session === session)) this.plainTiles.delete(session);
    }
  }

  /** The tile of a participant this device has no connection with. @param {string} session @returns {HTMLElement} */
  plainTile(session) {
    const tile = el("li", "call-tile");
    tile.dataset.session = session;
    this.plainTiles.set(session, tile);
    return tile;
  }

  /** The local camera's preview (muted: one does not hear oneself). @returns {HTMLVideoElement} */
  preview() {
    if (!this.previewVideo) {
      this.previewVideo = /** @type {HTMLVideoElement} */ (el("video", "call-preview"));
      this.previewVideo.muted = true;
      this.previewVideo.autoplay = true;
      this.previewVideo.setAttribute("playsinline", "");
    }
    if (this.previewVideo.srcObject !== this.local) this.previewVideo.srcObject = this.local;
    return this.previewVideo;
  }
}

/** "Ann", "Ann and Ben", "Ann, Ben and Cat". @param {string[]} names */
function list(names) {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}
