// The widget's transport (static/widget/transport.js): REST calls and the customer's socket.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import {
  NetworkError,
  START_PATH,
  conversationPath,
  customerApi,
  customerSocket,
} from "../../src/adapters/web/static/widget/transport.js";
import { createChatState, recordSeq } from "../../src/adapters/web/static/widget/state.js";
import { FakeClock, FakeWebSocket, fakeEnvironment } from "./fakes.mjs";

function answer(status, body, headers = {}) {
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: new Headers(headers),
    text: async () => body,
  };
}

/** A fetch that records its calls and answers with `respond(url, init)`. */
function fakeNetwork(respond) {
  const clock = new FakeClock();
  const calls = [];
  const env = {
    AbortController,
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (id) => clock.clearTimeout(id),
    fetch: async (url, init) => {
      calls.push({ url, init });
      return respond(url, init);
    },
  };
  return { env, calls, clock };
}

describe("REST calls", () => {
  test("send the session header, JSON only when there is a body, and no cookies", async () => {
    const { env, calls } = fakeNetwork(() => answer(200, '{"items": []}'));
    const call = customerApi("http://chat.test", env);
    const res = await call("POST", conversationPath("c/1", "/messages"), { body: "hi" }, "S");
    assert.deepEqual(res, { ok: true, status: 200, data: { items: [] }, code: null, message: null, retryAfter: null });
    const { url, init } = calls[0];
    assert.equal(url, "http://chat.test/api/v1/customer/conversations/c%2F1/messages");
    assert.equal(init.method, "POST");
    assert.equal(init.headers["X-Customer-Session-Id"], "S");
    assert.equal(init.headers["Content-Type"], "application/json");
    assert.equal(init.body, '{"body":"hi"}');
    assert.equal(init.credentials, "omit");
    assert.equal(init.cache, "no-store");
    await call("GET", START_PATH);
    assert.deepEqual(calls[1].init.headers, { Accept: "application/json" });
    assert.equal(calls[1].init.body, undefined);
  });

  test("an error answer resolves with its code, message and Retry-After", async () => {
    const body = '{"error": {"code": "rate_limited", "message": "Slow down."}}';
    const { env } = fakeNetwork(() => answer(429, body, { "Retry-After": "2.5" }));
    const res = await customerApi("http://chat.test", env)("POST", START_PATH, {});
    assert.equal(res.ok, false);
    assert.equal(res.status, 429);
    assert.equal(res.code, "rate_limited");
    assert.equal(res.message, "Slow down.");
    assert.equal(res.retryAfter, 2.5);
  });

  test("a body that is not JSON gives data null, not an exception", async () => {
    const { env } = fakeNetwork(() => answer(502, "<html>Bad gateway</html>"));
    const res = await customerApi("http://chat.test", env)("GET", START_PATH);
    assert.equal(res.status, 502);
    assert.equal(res.data, null);
    assert.equal(res.code, null);
  });

  test("no answer at all, or one cut off, rejects with NetworkError", async () => {
    const down = fakeNetwork(() => {
      throw new TypeError("Failed to fetch");
    });
    await assert.rejects(customerApi("http://chat.test", down.env)("GET", START_PATH), NetworkError);
    const cut = fakeNetwork(() => ({ ...answer(200, ""), text: async () => Promise.reject(new Error("reset")) }));
    await assert.rejects(customerApi("http://chat.test", cut.env)("GET", START_PATH), {
      name: "NetworkError",
      message: "the answer was cut off",
    });
  });

  test("a call with no answer in 15 s is aborted; an answered call leaves no timer behind", async () => {
    const hung = fakeNetwork(
      (url, init) =>
        new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new Error("aborted")))),
    );
    const pending = customerApi("http://chat.test", hung.env)("GET", START_PATH);
    hung.clock.advance(14_999);
    assert.equal(hung.calls[0].init.signal.aborted, false);
    hung.clock.advance(1);
    await assert.rejects(pending, NetworkError);
    const quick = fakeNetwork(() => answer(200, "{}"));
    await customerApi("http://chat.test", quick.env)("GET", START_PATH);
    assert.equal(quick.clock.pending(), 0);
  });
});

describe("the customer's socket", () => {
  let env;
  let clock;

  beforeEach(() => {
    ({ env, clock } = fakeEnvironment({ random: 0.5 }));
  });

  test("names the conversation and session, and resumes after the last seq held in order", () => {
    const chat = createChatState({ session_id: "S 1", conversation_id: "C" });
    const socket = customerSocket({ server: "https://shop.test/chat", chat, env, handlers: {} });
    socket.start();
    assert.equal(
      FakeWebSocket.last().url,
      "wss://shop.test/chat/api/v1/realtime/ws?role=customer&conversation_id=C&customer_session_id=S+1&after_seq=0",
    );
    recordSeq(chat, 1, {});
    recordSeq(chat, 2, {});
    recordSeq(chat, 4, {}); // 3 is missing: resume after 2, the server sends 3 and 4 again
    FakeWebSocket.last().serverClose(1006);
    clock.advance(375);
    assert.match(FakeWebSocket.last().url, /&after_seq=2$/);
    socket.stop();
  });
});
