// The realtime client the console and the widget share (static/shared/socket.js).
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { LiveSocket, backoffDelay, realtimeUrl } from "../../src/adapters/web/static/shared/socket.js";
import { FakeWebSocket, fakeEnvironment } from "./fakes.mjs";

let env;
let clock;
let seen;
let afterSeq;

function liveSocket() {
  const socket = new LiveSocket({
    url: () => `ws://chat.test/ws?after_seq=${afterSeq}`,
    env,
    handlers: {
      onFrame: (frame) => seen.frames.push(frame),
      onConnected: (data) => seen.connected.push(data),
      onState: (state, detail) => seen.states.push([state, detail]),
      onRefused: (code, message) => seen.refused.push([code, message]),
    },
  });
  socket.start();
  return socket;
}

const lastState = () => seen.states[seen.states.length - 1];

beforeEach(() => {
  ({ env, clock } = fakeEnvironment({ random: 0.5 }));
  seen = { frames: [], connected: [], states: [], refused: [] };
  afterSeq = 0;
});

describe("backoff", () => {
  test("doubles from 0.5 s to at most 15 s, jittered to 50-100 % of each step", () => {
    assert.equal(backoffDelay(0, () => 0), 250);
    assert.equal(backoffDelay(0, () => 1), 500);
    assert.equal(backoffDelay(3, () => 0.5), 3000);
    assert.equal(backoffDelay(10, () => 1), 15000);
    assert.equal(backoffDelay(10, () => 0), 7500);
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(2);
      assert.ok(d >= 1000 && d <= 2000, `${d} outside 1-2 s`);
    }
  });

  test("each failed connect waits one step longer; a connection that comes up starts over", () => {
    liveSocket();
    assert.equal(FakeWebSocket.all.length, 1);
    FakeWebSocket.last().serverClose(1006);
    assert.deepEqual(lastState(), ["retrying", { delay: 375, attempt: 1 }]);
    clock.advance(374);
    assert.equal(FakeWebSocket.all.length, 1, "no reconnect before the delay");
    clock.advance(1);
    assert.equal(FakeWebSocket.all.length, 2);
    FakeWebSocket.last().serverClose(1006);
    assert.deepEqual(lastState(), ["retrying", { delay: 750, attempt: 2 }]);
    clock.advance(750);
    FakeWebSocket.last().connected();
    assert.equal(lastState()[0], "online");
    FakeWebSocket.last().serverClose(1011);
    assert.deepEqual(lastState(), ["retrying", { delay: 375, attempt: 1 }]);
  });

  test("a retry while the browser says offline is reported as offline", () => {
    liveSocket();
    env.offline = true;
    FakeWebSocket.last().serverClose(1006);
    assert.deepEqual(lastState(), ["offline", { delay: 375, attempt: 1 }]);
  });

  test("a WebSocket constructor that throws is retried like a close", () => {
    env.WebSocket = class {
      constructor() {
        throw new SyntaxError("bad url");
      }
    };
    liveSocket();
    assert.deepEqual(lastState(), ["retrying", { delay: 375, attempt: 1 }]);
  });
});

describe("resync", () => {
  test("the URL is asked again at every connect, so it carries the owner's latest after_seq", () => {
    liveSocket();
    assert.equal(FakeWebSocket.last().url, "ws://chat.test/ws?after_seq=0");
    afterSeq = 7;
    FakeWebSocket.last().serverClose(1006);
    clock.advance(375);
    assert.equal(FakeWebSocket.last().url, "ws://chat.test/ws?after_seq=7");
  });

  test("system.connected tells the owner to resync, each time; other frames go to onFrame", () => {
    liveSocket();
    FakeWebSocket.last().connected({ heartbeat_seconds: 20, role: "agent" });
    FakeWebSocket.last().frame({ type: "message.created", data: { seq: 1 } });
    FakeWebSocket.last().frame({ type: "system.pong", data: {} });
    FakeWebSocket.last().serverClose(1006);
    clock.advance(375);
    FakeWebSocket.last().connected({ heartbeat_seconds: 20, role: "agent" });
    assert.deepEqual(seen.connected, [
      { heartbeat_seconds: 20, role: "agent" },
      { heartbeat_seconds: 20, role: "agent" },
    ]);
    assert.deepEqual(
      seen.frames.map((f) => f.type),
      ["message.created"],
      "connected and pong are the client's own business",
    );
  });

  test("frames that are not JSON objects are ignored", () => {
    liveSocket();
    const ws = FakeWebSocket.last();
    ws.connected();
    ws.onmessage({ data: "not json" });
    ws.onmessage({ data: "42" });
    ws.onmessage({ data: "null" });
    assert.deepEqual(seen.frames, []);
  });

  test("realtimeUrl turns the server base into ws(s) and encodes the query", () => {
    assert.equal(
      realtimeUrl("https://chat.example/sub", { role: "customer", after_seq: "3" }),
      "wss://chat.example/sub/api/v1/realtime/ws?role=customer&after_seq=3",
    );
    assert.equal(
      realtimeUrl("http://127.0.0.1:8000", { access_token: "a b&c" }),
      "ws://127.0.0.1:8000/api/v1/realtime/ws?access_token=a+b%26c",
    );
  });
});

describe("dead-link detection", () => {
  test("30 s of silence brings a ping; no answer within 10 s drops the link and reconnects", () => {
    liveSocket();
    const ws = FakeWebSocket.last();
    ws.connected();
    clock.advance(29_999);
    assert.deepEqual(ws.sent, []);
    clock.advance(1);
    assert.deepEqual(ws.sent, [{ type: "ping" }]);
    clock.advance(9_999);
    assert.equal(ws.closedWith, null);
    clock.advance(1);
    assert.equal(ws.closedWith, 4000);
    assert.deepEqual(lastState(), ["retrying", { delay: 375, attempt: 1 }]);
    clock.advance(375);
    assert.equal(FakeWebSocket.all.length, 2);
  });

  test("a pong (or any frame) in time keeps the link", () => {
    liveSocket();
    const ws = FakeWebSocket.last();
    ws.connected();
    clock.advance(30_000);
    ws.frame({ type: "system.pong", data: {} });
    clock.advance(20_000);
    assert.equal(ws.closedWith, null);
    assert.equal(FakeWebSocket.all.length, 1);
  });

  test("a busy link is not probed", () => {
    liveSocket();
    const ws = FakeWebSocket.last();
    ws.connected();
    for (let i = 0; i < 10; i++) {
      clock.advance(10_000);
      ws.frame({ type: "message.created", data: {} });
    }
    assert.deepEqual(ws.sent, []);
  });

  test("waking from sleep (the tick comes late) probes an open link", () => {
    liveSocket();
    const ws = FakeWebSocket.last();
    ws.connected();
    clock.time += 60_000; // the machine slept: no timer ran
    clock.advance(5_000);
    assert.deepEqual(ws.sent, [{ type: "ping" }]);
  });

  test("the tab coming back probes an open link; network back reconnects a closed one now", () => {
    liveSocket();
    const ws = FakeWebSocket.last();
    ws.connected();
    env.document.dispatchEvent(new Event("visibilitychange"));
    assert.deepEqual(ws.sent, [{ type: "ping" }]);
    ws.serverClose(1006);
    assert.deepEqual(lastState(), ["retrying", { delay: 375, attempt: 1 }]);
    clock.advance(1); // well before the backoff
    env.window.dispatchEvent(new Event("online"));
    assert.equal(FakeWebSocket.all.length, 2);
    FakeWebSocket.last().serverClose(1006);
    assert.deepEqual(lastState(), ["retrying", { delay: 375, attempt: 1 }], "the backoff started over");
  });

  test("going offline is reported and the open link is probed, not dropped", () => {
    liveSocket();
    const ws = FakeWebSocket.last();
    ws.connected();
    env.window.dispatchEvent(new Event("offline"));
    assert.deepEqual(lastState(), ["offline", "No network"]);
    assert.deepEqual(ws.sent, [{ type: "ping" }]);
    ws.frame({ type: "system.pong", data: {} });
    assert.equal(lastState()[0], "online");
  });
});

describe("refusals and stopping", () => {
  test("a refusal is final: the owner hears it, nothing retries", () => {
    liveSocket();
    FakeWebSocket.last().serverClose(4404);
    assert.deepEqual(seen.refused, [[4404, "The server refused the connection (not found)."]]);
    assert.equal(lastState()[0], "failed");
    clock.advance(120_000);
    assert.equal(FakeWebSocket.all.length, 1);
    env.window.dispatchEvent(new Event("online"));
    assert.equal(FakeWebSocket.all.length, 1);
  });

  test("the server's handshake error explains a refusal; 4401 always means signed out", () => {
    liveSocket();
    FakeWebSocket.last().frame({ type: "system.error", data: { code: "forbidden", message: "Not yours." } });
    FakeWebSocket.last().serverClose(4403);
    liveSocket();
    FakeWebSocket.last().serverClose(4401);
    assert.deepEqual(seen.refused, [
      [4403, "Not yours."],
      [4401, "Signed out: the session has ended."],
    ]);
  });

  test("stop closes the socket, cancels every timer and ignores the browser's events", () => {
    const socket = liveSocket();
    FakeWebSocket.last().connected();
    assert.ok(socket.isOpen());
    assert.equal(socket.send({ type: "typing", is_typing: true }), true);
    socket.stop();
    assert.equal(FakeWebSocket.last().closedWith, 1000);
    assert.equal(lastState()[0], "stopped");
    assert.equal(clock.pending(), 0);
    assert.equal(socket.send({ type: "ping" }), false);
    env.window.dispatchEvent(new Event("online"));
    clock.advance(120_000);
    assert.equal(FakeWebSocket.all.length, 1);
  });
});
