// The one realtime client of the console and the widget: reconnects with
// backoff (0.5 s doubling to 15 s, with jitter), notices a dead link after
// sleep or network loss, and tells its owner when to resync (each time the
// server says system.connected). The owner gives the URL as a function, asked
// at every connect, so a reconnect carries the owner's latest after_seq.

const REFUSALS = new Map([
  [4400, "The server refused the connection (bad request)."],
  [4401, "Signed out: the session has ended."],
  [4403, "The server refused the connection (forbidden)."],
  [4404, "The server refused the connection (not found)."],
]);

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15000;
const PROBE_EVERY_MS = 30000; // an application ping while idle (realtime.md, "Heartbeats")
const PROBE_TIMEOUT_MS = 10000; // no frame this long after a ping: the link is dead
const WAKE_TICK_MS = 5000;
const OPEN = 1;
const CONNECTING = 0;

/** Wait before retry number `attempt` (0-based): 50–100 % of the doubling step, so a
 * crowd of clients cut off together does not come back together. */
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return Math.round(base / 2 + random() * (base / 2));
}

/** The realtime endpoint under an http(s) server base, with the given query. */
export function realtimeUrl(serverBase, params) {
  const ws = serverBase.replace(/^http(s?):/i, "ws$1:");
  return `${ws}/api/v1/realtime/ws?${new URLSearchParams(params).toString()}`;
}

// What a browser offers; the tests pass fakes for all of it.
function browserEnvironment() {
  return {
    WebSocket: globalThis.WebSocket,
    setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: (id) => globalThis.clearTimeout(id),
    setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
    clearInterval: (id) => globalThis.clearInterval(id),
    now: () => Date.now(),
    random: Math.random,
    window: globalThis.window,
    document: globalThis.document,
    isOffline: () => globalThis.navigator.onLine === false,
  };
}

export class LiveSocket {
  /**
   * url(): the address for the next connect.
   * handlers: onFrame(frame), onConnected(data), onState(state, detail), onRefused(code, message)
   * states: "connecting" | "online" | "retrying" | "offline" | "failed" | "stopped";
   * "retrying" and "offline" carry {delay, attempt} (attempt counts from 1).
   */
  constructor({ url, handlers, env = browserEnvironment() }) {
    this.url = url;
    this.handlers = handlers;
    this.env = env;
    this.ws = null;
    this.attempt = 0;
    this.connected = false;
    this.retryTimer = null;
    this.probeTimer = null;
    this.probeDeadline = null;
    this.wakeTimer = null;
    this.lastFrameAt = 0;
    this.lastTick = env.now();
    this.lastError = null;
    this.running = false;
    this.state = "stopped";

    this.onOnline = () => this.wake();
    this.onOffline = () => {
      this.setState("offline", "No network");
      this.probe(); // the socket may survive a short outage; a pong says so
    };
    this.onVisible = () => {
      if (this.env.document.visibilityState === "visible") this.wake();
    };
    this.tick = () => {
      const now = this.env.now();
      const slept = now - this.lastTick > WAKE_TICK_MS * 3;
      this.lastTick = now;
      if (slept) this.wake();
    };
  }

  start() {
    this.stop();
    const { window, document } = this.env;
    this.running = true;
    this.attempt = 0;
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    document.addEventListener("visibilitychange", this.onVisible);
    this.lastTick = this.env.now();
    this.wakeTimer = this.env.setInterval(this.tick, WAKE_TICK_MS);
    this.connect();
  }

  stop() {
    const { window, document } = this.env;
    this.running = false;
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    document.removeEventListener("visibilitychange", this.onVisible);
    if (this.wakeTimer) this.env.clearInterval(this.wakeTimer);
    this.wakeTimer = null;
    this.clearTimers();
    this.drop(1000, "stop");
    this.setState("stopped");
  }

  isOpen() {
    return Boolean(this.ws && this.ws.readyState === OPEN && this.state === "online");
  }

  send(frame) {
    if (!this.ws || this.ws.readyState !== OPEN) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** After sleep, a network change or the tab coming back: check the link now. */
  wake() {
    if (!this.running) return;
    if (this.ws && this.ws.readyState === OPEN) {
      this.probe();
      return;
    }
    if (this.ws && this.ws.readyState === CONNECTING) return;
    this.attempt = 0;
    this.connect();
  }

  // Internals

  setState(state, detail) {
    this.state = state;
    if (this.handlers.onState) this.handlers.onState(state, detail);
  }

  clearTimers() {
    const env = this.env;
    if (this.retryTimer) env.clearTimeout(this.retryTimer);
    if (this.probeTimer) env.clearInterval(this.probeTimer);
    if (this.probeDeadline) env.clearTimeout(this.probeDeadline);
    this.retryTimer = this.probeTimer = this.probeDeadline = null;
  }

  /** Forget the current socket without waiting for its close handshake. */
  drop(code, reason) {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(code, reason);
    } catch {
      /* already closed */
    }
  }

  connect() {
    if (!this.running) return;
    this.clearTimers();
    this.drop(1000, "reconnect");
    this.lastError = null;
    this.connected = false;
    this.setState("connecting", this.attempt ? `attempt ${this.attempt + 1}` : "");
    let ws;
    try {
      ws = new this.env.WebSocket(this.url());
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.lastFrameAt = this.env.now();
    };
    ws.onmessage = (event) => this.receive(event);
    ws.onclose = (event) => this.closed(event);
    ws.onerror = () => {
      /* a close event always follows */
    };
  }

  receive(event) {
    this.lastFrameAt = this.env.now();
    if (this.probeDeadline) {
      this.env.clearTimeout(this.probeDeadline);
      this.probeDeadline = null;
    }
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "system.connected") {
      this.connected = true;
      this.attempt = 0;
      this.setState("online");
      this.probeTimer = this.env.setInterval(() => this.probeIfIdle(), PROBE_EVERY_MS);
      if (this.handlers.onConnected) this.handlers.onConnected(frame.data || {});
      return;
    }
    if (this.connected && this.state !== "online") this.setState("online"); // alive after all
    if (frame.type === "system.pong") return;
    if (frame.type === "system.error" && this.state !== "online") {
      this.lastError = frame.data || null; // the handshake refusal; its close follows
    }
    if (this.handlers.onFrame) this.handlers.onFrame(frame);
  }

  closed(event) {
    this.ws = null;
    this.clearTimers();
    if (!this.running) return;
    if (REFUSALS.has(event.code)) {
      // Retrying cannot help: the owner decides (sign in again, start a new chat).
      this.running = false;
      const refusal = (this.lastError && this.lastError.message) || REFUSALS.get(event.code);
      const message = event.code === 4401 ? REFUSALS.get(4401) : refusal;
      this.setState("failed", message);
      if (this.handlers.onRefused) this.handlers.onRefused(event.code, message);
      return;
    }
    this.scheduleRetry();
  }

  scheduleRetry() {
    if (!this.running) return;
    const delay = backoffDelay(this.attempt, this.env.random);
    this.attempt += 1;
    this.setState(this.env.isOffline() ? "offline" : "retrying", { delay, attempt: this.attempt });
    this.retryTimer = this.env.setTimeout(() => this.connect(), delay);
  }

  probeIfIdle() {
    if (this.env.now() - this.lastFrameAt >= PROBE_EVERY_MS - 1000) this.probe();
  }

  /** Ask the server for a pong; silence means the link died quietly (sleep, NAT). */
  probe() {
    if (!this.ws || this.ws.readyState !== OPEN) return;
    if (this.probeDeadline) return;
    if (!this.send({ type: "ping" })) return;
    this.probeDeadline = this.env.setTimeout(() => {
      this.probeDeadline = null;
      this.drop(4000, "no pong");
      this.attempt = 0;
      this.scheduleRetry();
    }, PROBE_TIMEOUT_MS);
  }
}
