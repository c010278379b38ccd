// The console's newestOnly (static/console/api.js): of overlapping loads of one
// admin list, only the answer to the latest call counts, whatever order they land.
import assert from "node:assert/strict";
import { test } from "node:test";

import { newestOnly } from "../../src/adapters/web/static/console/api.js";

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

test("an older answer arriving last is stale, the newer one counts", async () => {
  const pending = [deferred(), deferred()];
  let calls = 0;
  const load = newestOnly(() => pending[calls++].promise);
  const first = load();
  const second = load();
  pending[1].resolve(["gift-cards"]);
  pending[0].resolve([]);
  assert.deepEqual(await second, { stale: false, answer: ["gift-cards"] });
  assert.deepEqual(await first, { stale: true });
});

test("a lone call gets its answer, and its failure is thrown", async () => {
  const load = newestOnly(async (value) => {
    if (value === "boom") throw new Error("boom");
    return value;
  });
  assert.deepEqual(await load("rows"), { stale: false, answer: "rows" });
  await assert.rejects(load("boom"), /boom/);
});

test("the failure of a superseded call is stale, not thrown", async () => {
  const pending = [deferred(), deferred()];
  let calls = 0;
  const load = newestOnly(() => pending[calls++].promise);
  const first = load();
  const second = load();
  pending[0].reject(new Error("network"));
  pending[1].resolve("rows");
  assert.deepEqual(await first, { stale: true });
  assert.deepEqual(await second, { stale: false, answer: "rows" });
});
