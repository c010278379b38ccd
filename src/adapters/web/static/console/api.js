// The REST side: one fetch wrapper that adds the bearer token and turns the
// error envelope {"error": {code, message, fields}} into an ApiError.
// The token lives in sessionStorage only (never in a URL the page shows).

const TOKEN_KEY = "chatcore.console.token";

let token = null;
try {
  token = window.sessionStorage.getItem(TOKEN_KEY);
} catch {
  token = null; // storage blocked: memory only
}

const unauthorizedListeners = new Set();

export function getToken() {
  return token;
}

export function setToken(value) {
  token = value || null;
  try {
    if (token) window.sessionStorage.setItem(TOKEN_KEY, token);
    else window.sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* memory only */
  }
}

export function forgetToken() {
  setToken(null);
}

/** Called with no arguments whenever an authenticated call answers 401. */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message || `Request failed (${status})`);
    this.name = "ApiError";
    this.status = status;
    this.code = code || "error";
    this.fields = fields || null;
  }
}

export class NetworkError extends Error {
  constructor(cause) {
    super("The server could not be reached.");
    this.name = "NetworkError";
    this.cause = cause;
  }
}

/**
 * request("GET", "/api/v1/agent/me") → parsed JSON (or null on 204).
 * options: {auth: boolean = true, query: object}
 */
export async function request(method, path, body, options = {}) {
  const auth = options.auth !== false;
  let url = path;
  if (options.query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query)) {
      if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
    }
    const text = params.toString();
    if (text) url += (url.includes("?") ? "&" : "?") + text;
  }
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const sentToken = auth ? token : null;
  if (sentToken) headers.Authorization = `Bearer ${sentToken}`;

  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (error) {
    throw new NetworkError(error);
  }

  if (response.status === 204) return null;
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (response.ok) return data;

  const envelope = data && data.error ? data.error : {};
  const error = new ApiError(response.status, envelope.code, envelope.message, envelope.fields);
  if (response.status === 401 && sentToken && sentToken === token) {
    for (const listener of unauthorizedListeners) listener(error);
  }
  throw error;
}

export const api = {
  get: (path, query) => request("GET", path, undefined, { query }),
  post: (path, body) => request("POST", path, body),
  put: (path, body) => request("PUT", path, body),
  del: (path) => request("DELETE", path),

  setup: () => request("GET", "/api/v1/setup", undefined, { auth: false }),
  login: (email, password) =>
    request("POST", "/api/v1/agent/auth/login", { email, password }, { auth: false }),
  registerFirst: (body) => request("POST", "/api/v1/agent/register", body, { auth: false }),
  register: (body) => request("POST", "/api/v1/agent/register", body),
  logout: () => request("POST", "/api/v1/agent/auth/logout"),
  me: () => request("GET", "/api/v1/agent/me"),
  presence: (presence) => request("POST", "/api/v1/agent/presence", { presence }),

  conversations: (status, cursor, limit = 50) =>
    request("GET", "/api/v1/agent/conversations", undefined, {
      query: { status, cursor, limit },
    }),
  messages: (id, afterSeq, limit = 100) =>
    request("GET", `/api/v1/agent/conversations/${encodeURIComponent(id)}/messages`, undefined, {
      query: { after_seq: afterSeq, limit },
    }),
  send: (id, body, clientMessageId) =>
    request("POST", `/api/v1/agent/conversations/${encodeURIComponent(id)}/messages`, {
      body,
      client_message_id: clientMessageId,
    }),
  close: (id) => request("POST", `/api/v1/agent/conversations/${encodeURIComponent(id)}/close`),

  agents: () => request("GET", "/api/v1/admin/agents"),
  deactivate: (id) => request("POST", `/api/v1/admin/agents/${encodeURIComponent(id)}/deactivate`),
  faqs: () => request("GET", "/api/v1/admin/faqs"),
  addFaq: (body) => request("POST", "/api/v1/admin/faqs", body),
  editFaq: (slug, body) => request("PUT", `/api/v1/admin/faqs/${encodeURIComponent(slug)}`, body),
  deleteFaq: (slug) => request("DELETE", `/api/v1/admin/faqs/${encodeURIComponent(slug)}`),
};

/** A readable one-liner for any error thrown by request(). */
export function describeError(error) {
  if (error instanceof ApiError) return error.message;
  if (error instanceof NetworkError) return "The server could not be reached. Check the connection and try again.";
  return "Something went wrong.";
}

// An admin list loads when its page opens and again after every change. The two
// answers can arrive out of order (the first read may be served after the change's
// read), and the older one must not overwrite the newer: only the answer to the
// latest call counts. The wrapped call resolves to { stale: true } for the others.
export function newestOnly(call) {
  let newest = 0;
  return async (...args) => {
    const ticket = ++newest;
    try {
      const answer = await call(...args);
      return ticket === newest ? { stale: false, answer } : { stale: true };
    } catch (error) {
      if (ticket !== newest) return { stale: true };
      throw error;
    }
  };
}
