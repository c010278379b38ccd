// The widget's state (static/widget/state.js): one declared shape, and the rules that need no page.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  badgeText,
  clientMessageId,
  createChatState,
  forCurrentConversation,
  forgetConversation,
  isOlderConversation,
  launcherLabel,
  patchedConversation,
  readStoredChat,
  recordSeq,
  writeStoredChat,
} from "../../src/adapters/web/static/widget/state.js";

const KEY = "chatcore-widget:v1:http://chat.test";

function memoryStorage(initial = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (k) => (data.has(k) ? data.get(k) : null),
    setItem: (k, v) => data.set(k, String(v)),
  };
}

const settled = (promise) =>
  Promise.race([
    promise.then(
      (value) => ({ value }),
      (error) => ({ error }),
    ),
    new Promise((resolve) => setTimeout(() => resolve("unsettled"), 20)),
  ]);

describe("the state", () => {
  test("starts from what an earlier visit stored, ignoring values of the wrong type", () => {
    const s = createChatState({ session_id: "S", conversation_id: "C", last_seq: 4 });
    assert.equal(s.sessionId, "S");
    assert.equal(s.conversationId, "C");
    assert.equal(s.contiguous, 0, "what is on screen is counted afresh");
    const odd = createChatState({ session_id: 12, conversation_id: { id: "C" } });
    assert.equal(odd.sessionId, null);
    assert.equal(odd.conversationId, null);
  });

  test("no rule adds a field: every field is declared in createChatState", () => {
    const s = createChatState({});
    const declared = Object.keys(s).sort();
    recordSeq(s, 1, {});
    forgetConversation(s);
    assert.deepEqual(Object.keys(s).sort(), declared);
    for (const field of ["quickLoading", "connShown", "live", "gen", "pending", "rows"]) {
      assert.ok(declared.includes(field), `${field} is declared`);
    }
  });

  test("contiguous counts the unbroken run of seqs from 1, whatever order they arrive in", () => {
    const s = createChatState({});
    assert.equal(recordSeq(s, 2, "row2"), false);
    assert.equal(s.contiguous, 0);
    assert.equal(recordSeq(s, 1, "row1"), true);
    assert.equal(s.contiguous, 2);
    assert.equal(recordSeq(s, 4, "row4"), false);
    assert.equal(recordSeq(s, 3, "row3"), true);
    assert.equal(s.contiguous, 4);
    assert.equal(s.rows.get(3), "row3");
  });

  test("forgetting the conversation keeps the session and makes older answers stale", () => {
    const s = createChatState({ session_id: "S", conversation_id: "C" });
    recordSeq(s, 1, "row");
    s.pending.set("m", {});
    Object.assign(s, { unread: 3, noAgent: true, escalating: true, asking: true, error: { text: "x" } });
    forgetConversation(s);
    assert.equal(s.gen, 1);
    assert.equal(s.sessionId, "S");
    assert.equal(s.conversationId, null);
    assert.equal(s.contiguous, 0);
    assert.equal(s.rows.size + s.pending.size, 0);
    assert.deepEqual([s.unread, s.noAgent, s.escalating, s.asking, s.error], [0, false, false, false, null]);
  });
});

describe("the stale-answer guard", () => {
  test("an answer for the conversation still shown arrives", async () => {
    const s = createChatState({});
    assert.deepEqual(await settled(forCurrentConversation(s, Promise.resolve(42))), { value: 42 });
    const failure = await settled(forCurrentConversation(s, Promise.reject(new Error("down"))));
    assert.equal(failure.error.message, "down");
  });

  test("an answer or failure that comes after the conversation changed never reaches a handler", async () => {
    const s = createChatState({});
    let answer;
    let fail;
    const ok = forCurrentConversation(s, new Promise((resolve) => (answer = resolve)));
    const ko = forCurrentConversation(s, new Promise((_, reject) => (fail = reject)));
    forgetConversation(s);
    answer({ ok: true });
    fail(new Error("late"));
    assert.equal(await settled(ok), "unsettled");
    assert.equal(await settled(ko), "unsettled");
  });
});

describe("conversation updates", () => {
  test("an update older than the one held is recognised; missing times never count as older", () => {
    const held = { updated_at: "2026-01-01T10:00:00.000Z" };
    assert.equal(isOlderConversation(held, { updated_at: "2026-01-01T09:59:59.999Z" }), true);
    assert.equal(isOlderConversation(held, { updated_at: "2026-01-01T10:00:00.000Z" }), false);
    assert.equal(isOlderConversation(held, {}), false);
    assert.equal(isOlderConversation(null, { updated_at: "2026-01-01T09:00:00.000Z" }), false);
  });

  test("a patch makes a new object and leaves the old one as it was", () => {
    const held = { id: "C", status: "automated", assigned_agent: null };
    const next = patchedConversation(held, { status: "agent", assigned_agent: { id: "A" } });
    assert.deepEqual(next, { id: "C", status: "agent", assigned_agent: { id: "A" } });
    assert.equal(held.status, "automated");
  });
});

describe("storage", () => {
  test("reads what was written; garbage, absence and blocked storage read as nothing", () => {
    const storage = memoryStorage();
    const s = createChatState({ session_id: "S", conversation_id: "C" });
    recordSeq(s, 1, {});
    writeStoredChat(storage, KEY, s);
    assert.deepEqual(readStoredChat(storage, KEY), { session_id: "S", conversation_id: "C", last_seq: 1 });
    assert.deepEqual(readStoredChat(memoryStorage({ [KEY]: "{not json" }), KEY), {});
    assert.deepEqual(readStoredChat(memoryStorage({ [KEY]: "7" }), KEY), {});
    assert.deepEqual(readStoredChat(memoryStorage(), KEY), {});
    assert.deepEqual(readStoredChat(null, KEY), {});
  });

  test("a storage that refuses writes does not stop the chat", () => {
    const full = {
      setItem() {
        throw new Error("QuotaExceededError");
      },
    };
    assert.doesNotThrow(() => writeStoredChat(full, KEY, createChatState({})));
    assert.doesNotThrow(() => writeStoredChat(null, KEY, createChatState({})));
  });
});

describe("small rules", () => {
  test("the launcher says how many new messages wait; the badge stops counting at 9", () => {
    const s = createChatState({});
    assert.equal(launcherLabel(s), "Open chat");
    s.unread = 1;
    assert.equal(launcherLabel(s), "Open chat, 1 new message");
    s.unread = 3;
    assert.equal(launcherLabel(s), "Open chat, 3 new messages");
    s.open = true;
    assert.equal(launcherLabel(s), "Close chat");
    assert.deepEqual([badgeText(0), badgeText(4), badgeText(10)], ["", "4", "9+"]);
  });

  test("client message ids are v4 UUIDs, also where randomUUID is missing (plain http)", () => {
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    assert.match(clientMessageId(), v4);
    const insecure = { getRandomValues: (b) => b.fill(0xff) };
    assert.equal(clientMessageId(insecure), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    const ids = new Set(Array.from({ length: 100 }, () => clientMessageId({})));
    assert.equal(ids.size, 100);
    for (const id of ids) assert.match(id, v4);
  });
});
