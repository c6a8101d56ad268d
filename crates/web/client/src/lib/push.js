// Web Push for this browser: the service worker (`/sw.js`) shows what the server pushes while Natter
// is closed or in the background; the subscription is kept on the server for the member
// (`PUT /api/v1/push/subscription`). Subscribing again whenever the page loads keeps it current: a
// subscription made with another server key (the server's changed) is replaced.

/** @param {string} text base64url @returns {ArrayBuffer} */
function fromBase64Url(text) {
  const plain = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  return Uint8Array.from(plain, (c) => c.charCodeAt(0)).buffer;
}

/** @param {ArrayBuffer | null | undefined} buffer */
function toBase64Url(buffer) {
  if (!buffer) return "";
  return btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Makes sure this browser's push subscription is the server's, for the member.
 * @param {string} webUrl
 * @param {import("./tokens.js").TokenSource} apiTokens
 * @returns {Promise<"on" | "unsupported" | "off">} "off" when the server has no push
 */
export async function keepPushSubscription(webUrl, apiTokens) {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) return "unsupported";
  const call = async (/** @type {string} */ method, /** @type {string} */ path, /** @type {unknown} */ body = undefined) => {
    const token = await apiTokens.get();
    return fetch(webUrl + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      cache: "no-store",
    });
  };
  const keyAnswer = await call("GET", "/api/v1/push/key");
  if (keyAnswer.status === 404) return "off";
  if (!keyAnswer.ok) throw new Error(`push key: HTTP ${keyAnswer.status}`);
  const { public_key: serverKey } = await keyAnswer.json();
  const registration = await navigator.serviceWorker.register("/sw.js");
  await navigator.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && toBase64Url(subscription.options.applicationServerKey) !== serverKey) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: fromBase64Url(serverKey),
  });
  const saved = await call("PUT", "/api/v1/push/subscription", subscription.toJSON());
  if (!saved.ok) throw new Error(`push subscription: HTTP ${saved.status}`);
  return "on";
}
