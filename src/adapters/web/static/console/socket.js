// The agent WebSocket: reconnects with backoff (0.5 s doubling to 15 s, with
// jitter), notices a dead link after sleep or network loss, and tells the app
// when to resync (each time the server says system.connected).

const FATAL = new Map([
  [4400, "The server refused the connection (bad request)."],
  [4403, "The server refused the connection (forbidden)."],
  [4404, "The server refused the connection (not found)."],
]);

const PROBE_EVERY_MS = 30000; // an application ping while idle
const PROBE_TIMEOUT_MS = 10000; // no frame this long after a ping: the link is dead
const WAKE_TICK_MS = 5000;

export function socketUrl(token) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const params = new URLSearchParams({ role: "agent", access_token: token });
  return `${scheme}//${window.location.host}/api/v1/realtime/ws?${params.toString()}`;
}

export class AgentSocket {
  /**
   * handlers: onFrame(frame), onConnected(data), onState(state, detail), onAuthDead()
   * states: "connecting" | "online" | "retrying" | "offline" | "failed" | "stopped"
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.ws = null;
    this.token = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.probeTimer = null;
    this.probeDeadline = null;
    this.lastFrameAt = 0;
    this.lastTick = Date.now();
    this.lastError = null;
    this.running = false;
    this.state = "stopped";

    this.onOnline = () => this.wake("network back");
    this.onOffline = () => {
      this.setState("offline", "No network");
      this.probe(); // the socket may survive a short outage; a pong says so
    };
    this.onVisible = () => {
      if (document.visibilityState === "visible") this.wake("visible");
    };
    this.tick = () => {
      const now = Date.now();
      const slept = now - this.lastTick > WAKE_TICK_MS * 3;
      this.lastTick = now;
      if (slept) this.wake("woke up");
    };
  }

  start(token) {
    this.stop();
    this.token = token;
    this.running = true;
    this.attempt = 0;
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    document.addEventListener("visibilitychange", this.onVisible);
    this.lastTick = Date.now();
    this.wakeTimer = window.setInterval(this.tick, WAKE_TICK_MS);
    this.connect();
  }

  stop() {
    this.running = false;
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    document.removeEventListener("visibilitychange", this.onVisible);
    if (this.wakeTimer) window.clearInterval(this.wakeTimer);
    this.wakeTimer = null;
    this.clearTimers();
    this.drop(1000, "logout");
    this.setState("stopped");
  }

  isOpen() {
    return Boolean(this.ws && this.ws.readyState === WebSocket.OPEN && this.state === "online");
  }

  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  // Internals

  setState(state, detail) {
    this.state = state;
    if (this.handlers.onState) this.handlers.onState(state, detail);
  }

  clearTimers() {
    if (this.retryTimer) window.clearTimeout(this.retryTimer);
    if (this.probeTimer) window.clearInterval(this.probeTimer);
    if (this.probeDeadline) window.clearTimeout(this.probeDeadline);
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
    if (!this.running || !this.token) return;
    this.clearTimers();
    this.drop(1000, "reconnect");
    this.lastError = null;
    this.connected = false;
    this.setState("connecting", this.attempt ? `attempt ${this.attempt + 1}` : "");
    let ws;
    try {
      ws = new WebSocket(socketUrl(this.token));
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onmessage = (event) => this.receive(event);
    ws.onclose = (event) => this.closed(event);
    ws.onerror = () => {
      /* a close event always follows */
    };
  }

  receive(event) {
    this.lastFrameAt = Date.now();
    if (this.probeDeadline) {
      window.clearTimeout(this.probeDeadline);
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
      this.probeTimer = window.setInterval(() => this.probeIfIdle(), PROBE_EVERY_MS);
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
    if (event.code === 4401) {
      this.running = false;
      this.setState("failed", "Signed out: the session has ended.");
      if (this.handlers.onAuthDead) this.handlers.onAuthDead();
      return;
    }
    if (FATAL.has(event.code)) {
      this.running = false;
      const message = (this.lastError && this.lastError.message) || FATAL.get(event.code);
      this.setState("failed", message);
      return;
    }
    this.scheduleRetry();
  }

  scheduleRetry() {
    if (!this.running) return;
    const base = Math.min(15000, 500 * 2 ** this.attempt);
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.attempt += 1;
    const offline = navigator.onLine === false;
    this.setState(offline ? "offline" : "retrying", { delay });
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  probeIfIdle() {
    if (Date.now() - this.lastFrameAt >= PROBE_EVERY_MS - 1000) this.probe();
  }

  /** Ask the server for a pong; silence means the link died quietly (sleep, NAT). */
  probe() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.probeDeadline) return;
    if (!this.send({ type: "ping" })) return;
    this.probeDeadline = window.setTimeout(() => {
      this.probeDeadline = null;
      this.drop(4000, "no pong");
      this.attempt = 0;
      this.scheduleRetry();
    }, PROBE_TIMEOUT_MS);
  }

  /** After sleep, a network change or the tab coming back: check the link now. */
  wake() {
    if (!this.running) return;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.probe();
      return;
    }
    if (this.ws && this.ws.readyState === WebSocket.CONNECTING) return;
    this.attempt = 0;
    this.connect();
  }
}
