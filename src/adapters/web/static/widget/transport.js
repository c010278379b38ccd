// The widget's two ways to the server: the customer REST API (one JSON call at
// a time, with a timeout) and the customer's realtime socket (the shared client).

import { LiveSocket, realtimeUrl } from "../shared/socket.js";

const CUSTOMER_API = "/api/v1/customer";
const SESSION_HEADER = "X-Customer-Session-Id";
const REQUEST_TIMEOUT_MS = 15000;

/** No answer came back at all: offline, DNS, timeout, CORS. */
export class NetworkError extends Error {
  constructor(message) {
    super(message || "network error");
    this.name = "NetworkError";
  }
}

export function conversationPath(id, rest) {
  return CUSTOMER_API + "/conversations/" + encodeURIComponent(id) + (rest || "");
}

export const START_PATH = CUSTOMER_API + "/conversations/start";
export const QUICK_QUESTIONS_PATH = CUSTOMER_API + "/quick-questions";

function answerOf(res, text) {
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  const err = data && data.error ? data.error : null;
  const retryAfter = parseFloat(res.headers.get("Retry-After") || "");
  return {
    ok: res.ok,
    status: res.status,
    data,
    code: err ? err.code : null,
    message: err ? err.message : null,
    retryAfter: isNaN(retryAfter) ? null : retryAfter,
  };
}

/**
 * A caller of the customer API on `server`. The call resolves
 * {ok, status, data, code, message, retryAfter} for any HTTP answer and rejects
 * with NetworkError when none came back.
 */
export function customerApi(server, env = globalThis) {
  return async function call(method, path, body, sessionId) {
    const headers = { Accept: "application/json" };
    if (sessionId) headers[SESSION_HEADER] = sessionId;
    const init = { method, headers, credentials: "omit", cache: "no-store", mode: "cors" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const ctrl = new env.AbortController();
    init.signal = ctrl.signal;
    const timer = env.setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
    try {
      let res;
      try {
        res = await env.fetch(server + path, init);
      } catch {
        throw new NetworkError("no answer");
      }
      let text;
      try {
        text = await res.text();
      } catch {
        throw new NetworkError("the answer was cut off");
      }
      return answerOf(res, text);
    } finally {
      env.clearTimeout(timer);
    }
  };
}

/** The socket of one conversation; it resumes after the last seq the widget holds in order. */
export function customerSocket({ server, chat, handlers, env }) {
  const url = () =>
    realtimeUrl(server, {
      role: "customer",
      conversation_id: chat.conversationId,
      customer_session_id: chat.sessionId,
      after_seq: String(chat.contiguous),
    });
  return new LiveSocket(env ? { url, handlers, env } : { url, handlers });
}
