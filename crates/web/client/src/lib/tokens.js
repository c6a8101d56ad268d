// Short-lived tokens, fetched when needed and again shortly before they expire, so a long session never
// ends because a token did: the page's session (or an API client's refresh token) mints new ones.

/** @typedef {{ token: string, expires_in: number }} IssuedToken */

/** Seconds before expiry at which a token counts as spent. */
const EARLY_RENEWAL_SECS = 30;

export class TokenSource {
  /**
   * @param {() => Promise<IssuedToken>} issue asks the server for a new token
   * @param {() => number} [now] milliseconds, for tests
   */
  constructor(issue, now = Date.now) {
    this.issue = issue;
    this.now = now;
    /** @type {{ token: string, renewAt: number } | null} */
    this.current = null;
    /** @type {Promise<string> | null} */
    this.pending = null;
  }

  /** A token valid for at least the next half minute. */
  async get() {
    if (this.current && this.now() < this.current.renewAt) return this.current.token;
    if (!this.pending) {
      this.pending = this.issue()
        .then((issued) => {
          const lifetime = Math.max(1, issued.expires_in - EARLY_RENEWAL_SECS);
          this.current = { token: issued.token, renewAt: this.now() + lifetime * 1000 };
          return issued.token;
        })
        .finally(() => {
          this.pending = null;
        });
    }
    return this.pending;
  }

  /** Forgets the token (the server refused it): the next `get` asks for a new one. */
  invalidate() {
    this.current = null;
  }
}

/** Thrown when the session is gone: the person has to log in again. */
export class LoggedOut extends Error {
  constructor() {
    super("the session has ended; log in again");
    this.name = "LoggedOut";
  }
}

/**
 * Token sources for a browser page: the session cookie (same origin) buys both tokens.
 * @param {string} webUrl the web host, "" for the page's own origin
 */
export function sessionTokens(webUrl = "") {
  /** @param {string} path */
  const fetchToken = async (path) => {
    const response = await fetch(webUrl + path, { credentials: "same-origin", cache: "no-store" });
    if (response.status === 401 || response.redirected) throw new LoggedOut();
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return /** @type {IssuedToken} */ (await response.json());
  };
  return {
    ws: new TokenSource(() => fetchToken("/ws-token")),
    api: new TokenSource(() => fetchToken("/api-token")),
  };
}
