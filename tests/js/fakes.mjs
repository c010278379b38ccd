// Fakes for what the browser gives the socket and transport modules: timers and
// a clock, WebSocket, window/document events. Time only moves when a test says.

export class FakeClock {
  constructor() {
    this.time = 1_000_000;
    this.timers = new Map();
    this.nextId = 1;
  }

  now() {
    return this.time;
  }

  setTimeout(fn, ms) {
    const id = this.nextId++;
    this.timers.set(id, { fn, at: this.time + ms, every: null });
    return id;
  }

  setInterval(fn, ms) {
    const id = this.nextId++;
    this.timers.set(id, { fn, at: this.time + ms, every: ms });
    return id;
  }

  clearTimeout(id) {
    this.timers.delete(id);
  }

  clearInterval(id) {
    this.timers.delete(id);
  }

  /** Move time on by `ms`, running every timer that falls due, in order. */
  advance(ms) {
    const end = this.time + ms;
    for (;;) {
      let next = null;
      for (const [id, t] of this.timers) if (t.at <= end && (!next || t.at < next[1].at)) next = [id, t];
      if (!next) break;
      const [id, t] = next;
      this.time = Math.max(this.time, t.at);
      if (t.every) t.at += t.every;
      else this.timers.delete(id);
      t.fn();
    }
    this.time = end;
  }

  pending() {
    return this.timers.size;
  }
}

export class FakeWebSocket {
  static all = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    FakeWebSocket.all.push(this);
  }

  static last() {
    return FakeWebSocket.all[FakeWebSocket.all.length - 1];
  }

  send(text) {
    this.sent.push(JSON.parse(text));
  }

  close(code) {
    this.closedWith = code;
    this.readyState = 3;
  }

  // What the server side does:

  open() {
    this.readyState = 1;
    if (this.onopen) this.onopen({});
  }

  frame(frame) {
    if (this.onmessage) this.onmessage({ data: JSON.stringify(frame) });
  }

  connected(data = { heartbeat_seconds: 20 }) {
    this.open();
    this.frame({ type: "system.connected", conversation_id: null, data });
  }

  serverClose(code) {
    this.readyState = 3;
    if (this.onclose) this.onclose({ code });
  }
}

/** Everything LiveSocket takes from the browser, faked; `random` fixed so jitter is known. */
export function fakeEnvironment({ random = 0.5 } = {}) {
  FakeWebSocket.all = [];
  const clock = new FakeClock();
  const document = new EventTarget();
  document.visibilityState = "visible";
  const env = {
    WebSocket: FakeWebSocket,
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (id) => clock.clearTimeout(id),
    setInterval: (fn, ms) => clock.setInterval(fn, ms),
    clearInterval: (id) => clock.clearInterval(id),
    now: () => clock.now(),
    random: () => random,
    window: new EventTarget(),
    document,
    offline: false,
    isOffline: () => env.offline,
  };
  return { env, clock };
}
