/*
 * chatcore customer chat widget.
 *
 * Embed with one line:   <script src="https://YOUR-CHATCORE-SERVER/widget.js" async></script>
 * Optional attributes on that tag: data-server (another server base URL), data-title (panel title),
 * data-accent (a CSS color for the launcher, header and your bubbles).
 *
 * One classic script, no dependencies. Everything lives in the open shadow root of <chatcore-widget>
 * so the host page's CSS cannot reach it; all text is set with textContent, styles come from a
 * constructable stylesheet (allowed under a strict style-src CSP).
 */
(function () {
  "use strict";

  // document.currentScript is only set while this script runs for the first time: capture it now.
  var CURRENT_SCRIPT = document.currentScript;
  var TAG = "chatcore-widget";

  if (!window.customElements || !document.documentElement.attachShadow || window.customElements.get(TAG)) {
    return;
  }

  // ---------------------------------------------------------------------------------------------
  // Where the server is
  // ---------------------------------------------------------------------------------------------

  function findScript() {
    if (CURRENT_SCRIPT && CURRENT_SCRIPT.src) return CURRENT_SCRIPT;
    var tagged = document.querySelector("script[data-server]");
    if (tagged) return tagged;
    var all = document.getElementsByTagName("script");
    for (var i = all.length - 1; i >= 0; i--) {
      if (/\/widget\.js(?:[?#].*)?$/.test(all[i].src || "")) return all[i];
    }
    return null;
  }

  function serverBase(script) {
    var attr = script && script.getAttribute("data-server");
    try {
      if (attr) return new URL(attr, location.href).href.replace(/\/+$/, "");
    } catch (e) {
      /* fall through */
    }
    try {
      if (script && script.src) {
        var url = new URL(script.src, location.href);
        // Normally the origin; a server mounted under a path prefix keeps the prefix.
        return url.origin + url.pathname.replace(/\/widget\.js$/, "").replace(/\/+$/, "");
      }
    } catch (e) {
      /* fall through */
    }
    return location.origin;
  }

  var SCRIPT = findScript();
  var SERVER = serverBase(SCRIPT);
  var WS_BASE = SERVER.replace(/^http(s?):/i, "ws$1:");
  var STORAGE_KEY = "chatcore-widget:v1:" + SERVER;
  var TITLE = (SCRIPT && SCRIPT.getAttribute("data-title")) || "Chat with us";
  var ACCENT = SCRIPT && SCRIPT.getAttribute("data-accent");

  var API = "/api/v1/customer";
  var SESSION_HEADER = "X-Customer-Session-Id";
  var REQUEST_TIMEOUT_MS = 15000;
  var BACKOFF_FIRST_MS = 500;
  var BACKOFF_MAX_MS = 15000;
  var TYPING_REFRESH_MS = 2000;
  var TYPING_IDLE_MS = 3000;
  var AGENT_TYPING_SAFETY_MS = 10000;
  var SEND_ATTEMPTS = 6;
  var PAGE_LIMIT = 500;
  var BODY_MAX = 4000;

  // ---------------------------------------------------------------------------------------------
  // Styles (constructable stylesheet inside the shadow root)
  // ---------------------------------------------------------------------------------------------

  var STYLES = [
    ":host{all:initial!important;display:block!important;position:fixed!important;top:auto!important;left:auto!important;",
    "right:0!important;bottom:0!important;width:0!important;height:0!important;margin:0!important;padding:0!important;",
    "border:0!important;overflow:visible!important;z-index:2147483000!important;transform:none!important;",
    "filter:none!important;opacity:1!important;visibility:visible!important;contain:none!important;}",
    "*,*::before,*::after{box-sizing:border-box;}",
    "[hidden]{display:none!important;}",
    ".root{--accent:var(--cc-accent,#4f46e5);--accent-dark:#3730a3;--ink:#1d2333;--muted:#667085;--line:#e5e7ef;",
    "--soft:#f5f6fa;--bg:#ffffff;color-scheme:light;font:400 15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,",
    "'Helvetica Neue',Arial,sans-serif;color:var(--ink);text-align:left;letter-spacing:normal;",
    "-webkit-font-smoothing:antialiased;-moz-osx-font-smoothing:grayscale;}",
    "button,textarea{font:inherit;color:inherit;margin:0;letter-spacing:normal;text-transform:none;}",
    "button{cursor:pointer;-webkit-tap-highlight-color:transparent;}",
    "button:disabled{cursor:default;}",
    "svg{display:block;flex:none;}",
    ".sr-only{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0;}",

    /* launcher */
    ".launcher{position:fixed;right:20px;bottom:20px;width:60px;height:60px;padding:0;border:0;border-radius:50%;",
    "background:var(--accent);color:#fff;display:flex;align-items:center;justify-content:center;",
    "box-shadow:0 10px 28px rgba(17,24,39,.28),0 2px 6px rgba(17,24,39,.16);",
    "transition:transform .18s ease,box-shadow .18s ease;}",
    ".launcher:hover{transform:translateY(-2px) scale(1.04);box-shadow:0 14px 32px rgba(17,24,39,.32),0 3px 8px rgba(17,24,39,.18);}",
    ".launcher:active{transform:scale(.97);}",
    ".launcher:focus-visible{outline:3px solid var(--accent);outline-offset:3px;}",
    ".launcher svg{width:28px;height:28px;transition:transform .2s ease,opacity .2s ease;}",
    ".launcher .i-close{display:none;}",
    ".root.is-open .launcher .i-chat{display:none;}",
    ".root.is-open .launcher .i-close{display:block;}",
    ".badge{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;",
    "background:#e11d48;color:#fff;font-size:12px;font-weight:700;line-height:18px;text-align:center;border:2px solid #fff;}",

    /* panel */
    ".panel{position:fixed;right:20px;bottom:92px;width:360px;height:560px;max-width:calc(100vw - 40px);",
    "max-height:calc(100vh - 112px);display:flex;flex-direction:column;background:var(--bg);border-radius:18px;",
    "overflow:hidden;box-shadow:0 24px 60px rgba(17,24,39,.26),0 4px 14px rgba(17,24,39,.12);",
    "transform-origin:bottom right;animation:cc-pop .22s cubic-bezier(.2,.9,.3,1.15);}",
    "@keyframes cc-pop{from{opacity:0;transform:translateY(14px) scale(.96);}to{opacity:1;transform:none;}}",

    ".head{flex:none;display:flex;align-items:center;gap:12px;padding:14px 12px 14px 16px;color:#fff;",
    "background:var(--accent);background:linear-gradient(135deg,var(--accent),color-mix(in srgb,var(--accent) 72%,#000));}",
    ".avatar{flex:none;width:40px;height:40px;border-radius:50%;background:rgba(255,255,255,.2);display:flex;",
    "align-items:center;justify-content:center;font-weight:700;font-size:17px;color:#fff;}",
    ".avatar svg{width:22px;height:22px;}",
    ".head-text{flex:1;min-width:0;}",
    ".title{margin:0;font-size:16px;font-weight:650;line-height:1.25;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;}",
    ".sub{margin:2px 0 0;font-size:13px;line-height:1.3;opacity:.92;display:flex;align-items:center;gap:6px;min-width:0;}",
    ".sub>span{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;}",
    ".agent{display:flex;align-items:center;gap:6px;min-width:0;}",
    ".agent-name{font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;}",
    ".presence{display:inline-flex;align-items:center;gap:5px;text-transform:capitalize;white-space:nowrap;}",
    ".presence::before{content:'';width:8px;height:8px;border-radius:50%;background:#a3aab8;box-shadow:0 0 0 2px rgba(255,255,255,.35);}",
    ".presence[data-presence=online]::before{background:#22c55e;}",
    ".presence[data-presence=away]::before{background:#f59e0b;}",
    ".close{flex:none;width:36px;height:36px;padding:0;border:0;border-radius:50%;background:transparent;color:#fff;",
    "display:flex;align-items:center;justify-content:center;transition:background .15s ease;}",
    ".close:hover{background:rgba(255,255,255,.16);}",
    ".close:focus-visible{outline:2px solid #fff;outline-offset:1px;}",
    ".close svg{width:20px;height:20px;}",

    ".conn{flex:none;padding:5px 12px;font-size:12.5px;text-align:center;background:#fffbeb;color:#92400e;border-bottom:1px solid #fde68a;}",

    ".scroller{flex:1;min-height:0;overflow-y:auto;overscroll-behavior:contain;padding:14px 14px 16px;background:var(--soft);}",
    ".log{display:flex;flex-direction:column;}",
    ".loading{display:flex;align-items:center;justify-content:center;gap:8px;padding:40px 0;color:var(--muted);font-size:13.5px;}",

    ".row{display:flex;flex-direction:column;align-items:flex-start;margin-top:3px;}",
    ".row.first{margin-top:12px;}",
    ".row.customer{align-items:flex-end;}",
    ".row.system{align-items:center;margin:12px 0 4px;}",
    ".label{margin:0 0 4px 4px;font-size:12px;color:var(--muted);}",
    ".bubble{max-width:84%;padding:9px 13px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere;}",
    ".row.bot .bubble,.row.agent .bubble{background:#fff;color:var(--ink);border:1px solid var(--line);",
    "border-bottom-left-radius:6px;box-shadow:0 1px 2px rgba(16,24,40,.05);}",
    ".row.agent .bubble{border-color:color-mix(in srgb,var(--accent) 22%,var(--line));}",
    ".row.customer .bubble{background:var(--accent);color:#fff;border-bottom-right-radius:6px;}",
    ".row.system .bubble{max-width:92%;padding:3px 10px;background:transparent;color:var(--muted);font-size:12.5px;text-align:center;}",
    ".row.pending .bubble{opacity:.72;}",
    ".state{margin:3px 4px 0;font-size:11.5px;color:var(--muted);}",
    ".state.failed{color:#b42318;}",
    ".linkish{padding:0;border:0;background:none;color:inherit;font:inherit;font-weight:600;text-decoration:underline;}",

    ".typing{display:flex;align-items:center;gap:8px;margin:10px 4px 0;font-size:13px;color:var(--muted);}",
    ".dots{display:inline-flex;gap:3px;padding:7px 9px;border-radius:12px;background:#fff;border:1px solid var(--line);}",
    ".dots i{width:6px;height:6px;border-radius:50%;background:#98a2b3;animation:cc-blink 1.2s infinite ease-in-out;}",
    ".dots i:nth-child(2){animation-delay:.15s;}.dots i:nth-child(3){animation-delay:.3s;}",
    "@keyframes cc-blink{0%,80%,100%{opacity:.3;transform:translateY(0);}40%{opacity:1;transform:translateY(-2px);}}",

    ".chips{display:flex;flex-wrap:wrap;gap:8px;margin-top:14px;}",
    ".chip{padding:7px 12px;border-radius:999px;border:1px solid color-mix(in srgb,var(--accent) 38%,transparent);",
    "background:#fff;color:var(--accent);font-size:13.5px;line-height:1.3;text-align:left;",
    "transition:background .15s ease,border-color .15s ease;}",
    ".chip:hover:not([aria-disabled=true]){background:color-mix(in srgb,var(--accent) 9%,#fff);border-color:var(--accent);}",
    ".chip:focus-visible{outline:2px solid var(--accent);outline-offset:2px;}",
    ".chip[aria-disabled=true]{opacity:.55;cursor:progress;}",

    ".foot{flex:none;padding:10px 12px 10px;background:#fff;border-top:1px solid var(--line);}",
    ".notice{margin:0 0 10px;padding:10px 12px;border-radius:12px;font-size:13.5px;line-height:1.4;}",
    ".notice p{margin:0;}",
    ".notice .actions{margin-top:8px;display:flex;gap:8px;}",
    ".no-agent{background:#fff7ed;border:1px solid #fed7aa;color:#7c2d12;}",
    ".error{background:#fef3f2;border:1px solid #fecdca;color:#b42318;}",
    ".btn{padding:7px 14px;border-radius:999px;border:0;background:var(--accent);color:#fff;font-size:13.5px;font-weight:600;",
    "transition:filter .15s ease;}",
    ".btn:hover:not(:disabled){filter:brightness(1.08);}",
    ".btn:focus-visible,.talk:focus-visible,.send:focus-visible,.linkish:focus-visible{outline:2px solid var(--accent);outline-offset:2px;}",
    ".btn:disabled,.btn[aria-disabled=true]{opacity:.6;}",
    ".talk{display:inline-flex;align-items:center;gap:7px;margin:0 0 10px;padding:7px 13px 7px 10px;border-radius:999px;",
    "border:1px solid var(--line);background:#fff;color:var(--ink);font-size:13.5px;font-weight:600;",
    "transition:background .15s ease,border-color .15s ease;}",
    ".talk:hover:not([aria-disabled=true]){border-color:var(--accent);background:color-mix(in srgb,var(--accent) 6%,#fff);}",
    ".talk[aria-disabled=true]{opacity:.65;cursor:progress;}",
    ".talk svg{width:18px;height:18px;color:var(--accent);}",
    ".composer{display:flex;align-items:flex-end;gap:8px;margin:0;padding:5px 5px 5px 12px;border-radius:14px;",
    "background:var(--soft);border:1px solid var(--line);transition:border-color .15s ease,box-shadow .15s ease;}",
    ".composer:focus-within{border-color:var(--accent);box-shadow:0 0 0 3px color-mix(in srgb,var(--accent) 18%,transparent);}",
    ".input{flex:1;min-width:0;min-height:34px;max-height:120px;padding:7px 0;border:0;outline:0;background:transparent;",
    "resize:none;font-size:15px;line-height:1.35;color:var(--ink);field-sizing:content;}",
    ".input::placeholder{color:#98a2b3;}",
    ".send{flex:none;width:36px;height:36px;padding:0;border:0;border-radius:50%;background:var(--accent);color:#fff;",
    "display:flex;align-items:center;justify-content:center;transition:opacity .15s ease,transform .15s ease;}",
    ".send:disabled{opacity:.35;}",
    ".send:not(:disabled):hover{transform:scale(1.06);}",
    ".send svg{width:18px;height:18px;margin-left:2px;}",
    ".closed{text-align:center;padding:4px 4px 2px;}",
    ".closed-title{margin:0;font-weight:650;font-size:15px;}",
    ".closed-sub{margin:2px 0 10px;font-size:13px;color:var(--muted);}",
    ".closed .btn{padding:9px 18px;}",
    ".brand{margin:8px 0 0;text-align:center;font-size:11px;color:#98a2b3;}",

    /* phones: the open panel takes the whole screen */
    "@media (max-width:479.98px){",
    ".panel{top:0;left:0;right:0;bottom:0;width:100%;height:100%;max-width:none;max-height:none;border-radius:0;",
    "transform-origin:bottom center;}",
    ".root.is-open .launcher{display:none;}",
    ".launcher{right:16px;bottom:16px;}",
    ".input{font-size:16px;}",
    ".bubble{max-width:88%;}",
    "}",

    "@media (prefers-reduced-motion:reduce){*,*::before,*::after{animation:none!important;transition:none!important;",
    "scroll-behavior:auto!important;}}",
  ].join("\n");

  // ---------------------------------------------------------------------------------------------
  // Small DOM helpers: createElement + textContent, never innerHTML
  // ---------------------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var name in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, name)) continue;
        var value = attrs[name];
        if (value === null || value === undefined || value === false) continue;
        if (name === "text") node.textContent = value;
        else if (name === "class") node.className = value;
        else if (value === true) node.setAttribute(name, "");
        else node.setAttribute(name, String(value));
      }
    }
    if (children) {
      for (var i = 0; i < children.length; i++) if (children[i]) node.appendChild(children[i]);
    }
    return node;
  }

  var SVG_NS = "http://www.w3.org/2000/svg";

  function icon(cls, paths, stroke) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    if (cls) svg.setAttribute("class", cls);
    for (var i = 0; i < paths.length; i++) {
      var p = document.createElementNS(SVG_NS, "path");
      p.setAttribute("d", paths[i]);
      if (stroke) {
        p.setAttribute("fill", "none");
        p.setAttribute("stroke", "currentColor");
        p.setAttribute("stroke-width", "2.2");
        p.setAttribute("stroke-linecap", "round");
        p.setAttribute("stroke-linejoin", "round");
      } else {
        p.setAttribute("fill", "currentColor");
      }
      svg.appendChild(p);
    }
    return svg;
  }

  var ICON_CHAT = [
    "M5 3.5h14A2.5 2.5 0 0 1 21.5 6v9a2.5 2.5 0 0 1-2.5 2.5h-7.2l-4.6 3.7c-.65.52-1.7.06-1.7-.78V17.5H5A2.5 2.5 0 0 1 2.5 15V6A2.5 2.5 0 0 1 5 3.5zM8 9.25a1.25 1.25 0 1 0 0 2.5 1.25 1.25 0 0 0 0-2.5zm4 0a1.25 1.25 0 1 0 0 2.5 1.25 1.25 0 0 0 0-2.5zm4 0a1.25 1.25 0 1 0 0 2.5 1.25 1.25 0 0 0 0-2.5z",
  ];
  var ICON_CLOSE = ["M6 6l12 12M18 6L6 18"];
  var ICON_SEND = [
    "M3.4 20.4l17.45-7.48a1 1 0 0 0 0-1.84L3.4 3.6a.99.99 0 0 0-1.39.91L2 9.12c0 .5.37.93.87.99L17 12 2.87 13.88c-.5.07-.87.5-.87 1l.01 4.61c0 .71.73 1.2 1.39.91z",
  ];
  var ICON_PERSON = [
    "M12 12a4.25 4.25 0 1 0 0-8.5 4.25 4.25 0 0 0 0 8.5zm0 2c-4.1 0-7.5 2.2-7.5 5v.75c0 .41.34.75.75.75h13.5c.41 0 .75-.34.75-.75V19c0-2.8-3.4-5-7.5-5z",
  ];

  // ---------------------------------------------------------------------------------------------
  // Utilities
  // ---------------------------------------------------------------------------------------------

  function uuid() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      try {
        return c.randomUUID();
      } catch (e) {
        /* not a secure context: build one by hand */
      }
    }
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = [];
    for (var j = 0; j < 16; j++) h.push((b[j] + 0x100).toString(16).slice(1));
    return (
      h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") + "-" +
      h.slice(8, 10).join("") + "-" + h.slice(10).join("")
    );
  }

  function backoff(attempt) {
    var base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, attempt));
    return Math.round(base / 2 + Math.random() * (base / 2)); // jitter: 50–100 % of the step
  }

  function timeOf(iso) {
    try {
      var d = new Date(iso);
      if (isNaN(d.getTime())) return "";
      return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    } catch (e) {
      return "";
    }
  }

  function fullTimeOf(iso) {
    try {
      var d = new Date(iso);
      return isNaN(d.getTime()) ? "" : d.toLocaleString();
    } catch (e) {
      return "";
    }
  }

  function readStore() {
    try {
      var raw = window.localStorage.getItem(STORAGE_KEY);
      if (!raw) return {};
      var v = JSON.parse(raw);
      return v && typeof v === "object" ? v : {};
    } catch (e) {
      return {};
    }
  }

  function writeStore(v) {
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(v));
    } catch (e) {
      /* storage blocked (private mode, sandbox): the chat still works for this page */
    }
  }

  function NetworkError(message) {
    this.name = "NetworkError";
    this.message = message || "network error";
  }

  // One JSON call to the customer API. Resolves {ok, status, data, code, message, retryAfter};
  // rejects with NetworkError when no answer came back (offline, DNS, timeout, CORS).
  function api(method, path, body, sessionId) {
    var headers = { Accept: "application/json" };
    if (sessionId) headers[SESSION_HEADER] = sessionId;
    var init = { method: method, headers: headers, credentials: "omit", cache: "no-store", mode: "cors" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var ctrl = typeof AbortController === "function" ? new AbortController() : null;
    var timer = null;
    if (ctrl) {
      init.signal = ctrl.signal;
      timer = setTimeout(function () {
        ctrl.abort();
      }, REQUEST_TIMEOUT_MS);
    }
    return fetch(SERVER + path, init).then(
      function (res) {
        return res.text().then(
          function (text) {
            if (timer) clearTimeout(timer);
            var data = null;
            try {
              data = text ? JSON.parse(text) : null;
            } catch (e) {
              data = null;
            }
            var err = data && data.error ? data.error : null;
            var retryAfter = parseFloat(res.headers.get("Retry-After") || "");
            return {
              ok: res.ok,
              status: res.status,
              data: data,
              code: err ? err.code : null,
              message: err ? err.message : null,
              retryAfter: isNaN(retryAfter) ? null : retryAfter,
            };
          },
          function () {
            if (timer) clearTimeout(timer);
            throw new NetworkError("the answer was cut off");
          }
        );
      },
      function () {
        if (timer) clearTimeout(timer);
        throw new NetworkError("no answer");
      }
    );
  }

  function convPath(id, rest) {
    return API + "/conversations/" + encodeURIComponent(id) + (rest || "");
  }

  // ---------------------------------------------------------------------------------------------
  // The widget
  // ---------------------------------------------------------------------------------------------

  function Widget(host) {
    this.host = host;
    this.root = host.shadowRoot || host.attachShadow({ mode: "open" });
    var stored = readStore();
    this.s = {
      gen: 0, // bumps whenever the conversation changes: late answers for an old one are dropped
      sessionId: typeof stored.session_id === "string" ? stored.session_id : null,
      conversationId: typeof stored.conversation_id === "string" ? stored.conversation_id : null,
      conversation: null,
      quickQuestions: [],
      quickLoaded: false,
      rows: new Map(), // seq -> row element
      contiguous: 0, // every seq 1..contiguous is on screen
      pending: new Map(), // client_message_id -> {cmid, body, row, attempt, timer}
      open: false,
      unread: 0,
      starting: null,
      startError: false,
      asking: false,
      escalating: false,
      noAgent: false,
      gone: false,
      error: null,
      historyLoading: false,
      typingAgent: null,
      typingTimer: null,
      selfTyping: false,
      selfTypingAt: 0,
      selfIdleTimer: null,
      ws: null,
      wsReady: false,
      reconnectAttempt: 0,
      reconnectTimer: null,
      connTimer: null,
      heartbeat: null,
      heartbeatMs: 20000,
      lastFrameAt: 0,
    };
    this.build();
    this.render();
    if (this.s.conversationId && this.s.sessionId) {
      this.s.historyLoading = true;
      this.connect(true);
    }
    var self = this;
    window.addEventListener("online", function () {
      self.wakeUp();
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") self.wakeUp();
    });
  }

  var W = Widget.prototype;

  // ---- DOM -------------------------------------------------------------------------------------

  W.build = function () {
    var self = this;
    var sheetOk = false;
    try {
      if ("adoptedStyleSheets" in Document.prototype && typeof CSSStyleSheet === "function") {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(STYLES);
        this.root.adoptedStyleSheets = [sheet];
        sheetOk = true;
      }
    } catch (e) {
      sheetOk = false;
    }
    if (!sheetOk) this.root.appendChild(el("style", { text: STYLES })); // old browsers only

    if (ACCENT && window.CSS && window.CSS.supports && window.CSS.supports("color", ACCENT)) {
      this.host.style.setProperty("--cc-accent", ACCENT);
    }

    var e = (this.e = {});
    e.badge = el("span", { class: "badge", "aria-hidden": "true", hidden: true });
    e.launcher = el(
      "button",
      {
        type: "button",
        class: "launcher",
        "data-testid": "launcher",
        "aria-label": "Open chat",
        "aria-expanded": "false",
        "aria-controls": "chatcore-panel",
      },
      [icon("i-chat", ICON_CHAT), icon("i-close", ICON_CLOSE, true), e.badge]
    );

    e.avatar = el("div", { class: "avatar", "aria-hidden": "true" }, [icon(null, ICON_CHAT)]);
    e.title = el("h2", { class: "title", id: "chatcore-title", text: TITLE });
    e.subText = el("span", { text: "" });
    e.agentName = el("span", { class: "agent-name", "data-testid": "agent-name" });
    e.presence = el("span", { class: "presence", "data-testid": "agent-presence" });
    e.agent = el("span", { class: "agent", hidden: true }, [e.agentName, e.presence]);
    e.sub = el("p", { class: "sub" }, [e.subText, e.agent]);
    e.close = el(
      "button",
      { type: "button", class: "close", "data-testid": "close-panel", "aria-label": "Close chat" },
      [icon(null, ICON_CLOSE, true)]
    );
    var head = el("header", { class: "head" }, [
      e.avatar,
      el("div", { class: "head-text" }, [e.title, e.sub]),
      e.close,
    ]);

    e.conn = el("div", { class: "conn", "data-testid": "connection-status", role: "status", hidden: true });

    e.log = el("div", {
      class: "log",
      "data-testid": "messages",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": "Conversation",
    });
    e.loading = el("div", { class: "loading", hidden: true }, [
      el("span", { class: "dots", "aria-hidden": "true" }, [el("i"), el("i"), el("i")]),
      el("span", { text: "Connecting…" }),
    ]);
    e.typingText = el("span", { text: "" });
    e.typing = el("div", { class: "typing", "data-testid": "typing", hidden: true }, [
      el("span", { class: "dots", "aria-hidden": "true" }, [el("i"), el("i"), el("i")]),
      e.typingText,
    ]);
    e.chips = el("div", { class: "chips", role: "group", "aria-label": "Quick questions", hidden: true });
    e.scroller = el("div", { class: "scroller" }, [e.loading, e.log, e.typing, e.chips]);

    e.errorText = el("p", { text: "" });
    e.errorRetry = el("button", { type: "button", class: "btn", "data-testid": "retry", text: "Try again" });
    e.error = el("div", { class: "notice error", "data-testid": "error", role: "alert", hidden: true }, [
      e.errorText,
      el("div", { class: "actions" }, [e.errorRetry]),
    ]);

    e.retryEscalate = el("button", {
      type: "button",
      class: "btn",
      "data-testid": "retry-escalate",
      text: "Try again",
    });
    e.noAgent = el("div", { class: "notice no-agent", "data-testid": "no-agent", role: "status", hidden: true }, [
      el("p", {
        text:
          "All our agents are busy right now. Sorry for the wait! Our assistant is still here for you, " +
          "or try again in a few minutes.",
      }),
      el("div", { class: "actions" }, [e.retryEscalate]),
    ]);

    e.talkText = el("span", { text: "Talk to an agent" });
    e.talk = el("button", { type: "button", class: "talk", "data-testid": "talk-to-agent", hidden: true }, [
      icon(null, ICON_PERSON),
      e.talkText,
    ]);

    e.input = el("textarea", {
      class: "input",
      "data-testid": "composer",
      rows: "1",
      maxlength: String(BODY_MAX),
      placeholder: "Write a message…",
      "aria-label": "Write a message",
      autocomplete: "off",
      enterkeyhint: "send",
    });
    e.send = el("button", { type: "submit", class: "send", "data-testid": "send", "aria-label": "Send", disabled: true }, [
      icon(null, ICON_SEND),
    ]);
    e.composer = el("form", { class: "composer", novalidate: true }, [e.input, e.send]);

    e.closedTitle = el("p", { class: "closed-title", text: "This conversation has ended" });
    e.closedSub = el("p", { class: "closed-sub", text: "Thanks for chatting with us. Need anything else?" });
    e.startAgain = el("button", {
      type: "button",
      class: "btn",
      "data-testid": "start-again",
      text: "Start a new conversation",
    });
    e.closed = el("div", { class: "closed", "data-testid": "closed-banner", role: "status", hidden: true }, [
      e.closedTitle,
      e.closedSub,
      e.startAgain,
    ]);

    var foot = el("footer", { class: "foot" }, [
      e.error,
      e.noAgent,
      e.talk,
      e.composer,
      e.closed,
      el("p", { class: "brand", text: "Powered by chatcore" }),
    ]);

    e.panel = el(
      "section",
      {
        class: "panel",
        id: "chatcore-panel",
        "data-testid": "panel",
        role: "dialog",
        "aria-labelledby": "chatcore-title",
        hidden: true,
      },
      [head, e.conn, e.scroller, foot]
    );

    e.wrap = el("div", { class: "root" }, [e.panel, e.launcher]);
    this.root.appendChild(e.wrap);

    // ---- events
    e.launcher.addEventListener("click", function () {
      if (self.s.open) self.close(true);
      else self.openPanel();
    });
    e.close.addEventListener("click", function () {
      self.close(true);
    });
    e.wrap.addEventListener("keydown", function (ev) {
      if ((ev.key === "Escape" || ev.key === "Esc") && self.s.open) {
        ev.preventDefault();
        ev.stopPropagation();
        self.close(true);
      }
    });
    e.composer.addEventListener("submit", function (ev) {
      ev.preventDefault();
      self.sendFromComposer();
    });
    e.input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        self.sendFromComposer();
      }
    });
    e.input.addEventListener("input", function () {
      self.onComposerInput();
    });
    e.talk.addEventListener("click", function () {
      self.escalate();
    });
    e.retryEscalate.addEventListener("click", function () {
      self.escalate();
    });
    e.startAgain.addEventListener("click", function () {
      self.startAgain();
    });
    e.errorRetry.addEventListener("click", function () {
      var again = self.s.error && self.s.error.retry;
      self.s.error = null;
      self.render();
      if (again) again();
    });
    this.autoGrow = !(window.CSS && window.CSS.supports && window.CSS.supports("field-sizing", "content"));
  };

  // ---- open / close ----------------------------------------------------------------------------

  W.openPanel = function () {
    var s = this.s;
    s.open = true;
    s.unread = 0;
    this.render();
    this.scrollToBottom();
    if (!s.conversationId && !s.gone) {
      this.ensureConversation().catch(function () {});
    }
    this.focusBest();
  };

  W.close = function (returnFocus) {
    this.s.open = false;
    this.stopSelfTyping();
    this.render();
    if (returnFocus) this.e.launcher.focus();
  };

  W.focusBest = function () {
    var e = this.e;
    var target = !e.composer.hidden ? e.input : !e.closed.hidden ? e.startAgain : e.close;
    try {
      target.focus({ preventScroll: true });
    } catch (err) {
      target.focus();
    }
  };

  // ---- rendering of everything but the messages ------------------------------------------------

  W.render = function () {
    var s = this.s;
    var e = this.e;
    var c = s.conversation;
    var status = c ? c.status : null;
    var agent = c && c.assigned_agent ? c.assigned_agent : null;
    var keep = this.nearBottom();
    var hadFocus = this.root.activeElement;

    e.wrap.classList.toggle("is-open", s.open);
    e.panel.hidden = !s.open;
    e.launcher.setAttribute("aria-expanded", s.open ? "true" : "false");
    e.launcher.setAttribute(
      "aria-label",
      s.open ? "Close chat" : s.unread ? "Open chat, " + s.unread + " new message" + (s.unread === 1 ? "" : "s") : "Open chat"
    );
    e.badge.hidden = s.open || !s.unread;
    e.badge.textContent = s.unread > 9 ? "9+" : String(s.unread || "");

    // header
    if (agent && !s.gone) {
      e.agent.hidden = false;
      e.agentName.textContent = agent.display_name || "Agent";
      var presence = agent.presence || "offline";
      e.presence.setAttribute("data-presence", presence);
      e.presence.textContent = presence;
      e.subText.textContent = "";
      e.subText.hidden = true;
      var initial = (agent.display_name || "?").trim().charAt(0).toUpperCase() || "?";
      if (e.avatar.textContent !== initial || e.avatar.firstChild.nodeType !== 3) {
        e.avatar.textContent = initial;
      }
    } else {
      e.agent.hidden = true;
      e.subText.hidden = false;
      e.subText.textContent =
        status === "closed" ? "Conversation ended" : "Our assistant replies right away";
      if (!e.avatar.firstChild || e.avatar.firstChild.nodeType === 3) {
        e.avatar.textContent = "";
        e.avatar.appendChild(icon(null, ICON_CHAT));
      }
    }

    // connection line
    e.conn.hidden = !s.connShown;
    e.conn.textContent = s.connShown ? "Connection lost. Reconnecting…" : "";

    var closed = status === "closed" || s.gone;
    var automated = status === "automated" && !s.gone;

    e.loading.hidden = !((s.starting || (s.conversationId && !c)) && s.rows.size === 0 && !s.gone && !s.startError);
    e.log.setAttribute("aria-busy", s.historyLoading ? "true" : "false");

    // typing
    var typing = s.typingAgent && status === "agent" && !s.gone;
    e.typing.hidden = !typing;
    e.typingText.textContent = typing ? (s.typingAgent.display_name || "The agent") + " is typing…" : "";

    // quick questions
    this.renderChips(automated && s.quickQuestions.length > 0);

    // footer
    e.talk.hidden = !automated || s.noAgent;
    e.talk.setAttribute("aria-disabled", s.escalating ? "true" : "false");
    e.talkText.textContent = s.escalating ? "Finding an agent…" : "Talk to an agent";
    e.noAgent.hidden = !(automated && s.noAgent);
    e.retryEscalate.setAttribute("aria-disabled", s.escalating ? "true" : "false");
    e.retryEscalate.textContent = s.escalating ? "Trying…" : "Try again";

    e.composer.hidden = closed;
    e.closed.hidden = !closed;
    e.closedTitle.textContent = s.gone ? "This conversation is no longer available" : "This conversation has ended";
    e.closedSub.textContent = s.gone
      ? "You can start a new one: we are happy to help."
      : "Thanks for chatting with us. Need anything else?";
    e.startAgain.disabled = !!s.starting;

    if (s.error) {
      e.error.hidden = false;
      e.errorText.textContent = s.error.text;
      e.errorRetry.hidden = !s.error.retry;
    } else {
      e.error.hidden = true;
    }
    this.updateSendEnabled();

    // Never leave the keyboard user's focus on something that just disappeared.
    if (s.open && hadFocus && isHiddenIn(hadFocus, e.panel)) {
      if (hadFocus === e.talk && !e.noAgent.hidden) e.retryEscalate.focus();
      else if (!e.composer.hidden) e.input.focus();
      else if (!e.closed.hidden) e.startAgain.focus();
    }
    if (keep) this.scrollToBottom();
  };

  function isHiddenIn(node, stop) {
    for (var n = node; n && n !== stop; n = n.parentNode) {
      if (n.hidden) return true;
    }
    return false;
  }

  W.renderChips = function (visible) {
    var s = this.s;
    var e = this.e;
    var key = s.quickQuestions
      .map(function (q) {
        return q.slug;
      })
      .join("\u0000");
    if (e.chips._key !== key) {
      e.chips._key = key;
      e.chips.textContent = "";
      var self = this;
      s.quickQuestions.forEach(function (q) {
        var chip = el("button", { type: "button", class: "chip", "data-testid": "quick-question", "data-slug": q.slug, text: q.question });
        chip.addEventListener("click", function () {
          self.askQuick(q);
        });
        e.chips.appendChild(chip);
      });
    }
    e.chips.hidden = !visible;
    var buttons = e.chips.children;
    for (var i = 0; i < buttons.length; i++) buttons[i].setAttribute("aria-disabled", s.asking ? "true" : "false");
  };

  W.nearBottom = function () {
    var sc = this.e && this.e.scroller;
    if (!sc || !this.s.open) return false;
    return sc.scrollHeight - sc.scrollTop - sc.clientHeight < 80;
  };

  W.scrollToBottom = function () {
    var sc = this.e.scroller;
    sc.scrollTop = sc.scrollHeight;
  };

  W.showError = function (text, retry) {
    this.s.error = { text: text, retry: retry || null };
    this.render();
  };

  // ---- messages --------------------------------------------------------------------------------

  function senderKey(row) {
    return row ? row._sender + ":" + (row._senderId || "") : "";
  }

  W.buildRow = function (msg) {
    var type = (msg.sender && msg.sender.type) || "system";
    if (["customer", "bot", "agent", "system"].indexOf(type) < 0) type = "system";
    var bubble = el("div", {
      class: "bubble",
      "data-testid": "message",
      "data-seq": String(msg.seq),
      "data-sender": type,
      title: fullTimeOf(msg.created_at),
      text: msg.body,
    });
    var row = el("div", { class: "row " + type }, [bubble]);
    row._seq = msg.seq;
    row._sender = type;
    row._senderId = msg.sender && msg.sender.id;
    row._name = (msg.sender && msg.sender.display_name) || (type === "bot" ? "Assistant" : "");
    row._time = timeOf(msg.created_at);
    row._bubble = bubble;
    return row;
  };

  // A label ("Alice · 14:05") above the first bubble of a run from the same bot or agent.
  W.refreshLabel = function (row) {
    if (!row || row._seq === undefined) return;
    var prev = row.previousElementSibling;
    var first = !prev || senderKey(prev) !== senderKey(row);
    row.classList.toggle("first", first);
    var wantsLabel = first && (row._sender === "bot" || row._sender === "agent");
    if (wantsLabel && !row._label) {
      row._label = el("div", {
        class: "label",
        text: row._name + (row._time ? " · " + row._time : ""),
      });
      row.insertBefore(row._label, row.firstChild);
    } else if (!wantsLabel && row._label) {
      row.removeChild(row._label);
      row._label = null;
    }
  };

  W.insertRow = function (row) {
    var log = this.e.log;
    var before = null;
    for (var n = log.lastElementChild; n; n = n.previousElementSibling) {
      if (n._seq > row._seq) before = n;
      else break;
    }
    log.insertBefore(row, before);
    this.refreshLabel(row);
    this.refreshLabel(row.nextElementSibling);
  };

  // Show one stored message: each seq once, in seq order; an optimistic bubble is replaced, not doubled.
  W.ingest = function (msg, history) {
    var s = this.s;
    if (!msg || typeof msg.seq !== "number" || msg.conversation_id !== s.conversationId) return;
    var cmid = msg.client_message_id;
    var p = cmid ? s.pending.get(cmid) : null;
    if (s.rows.has(msg.seq)) {
      if (p) this.dropPending(p);
      return;
    }
    var keep = this.nearBottom() || (msg.sender && msg.sender.type === "customer");
    var row = this.buildRow(msg);
    if (p) this.dropPending(p);
    this.insertRow(row);
    s.rows.set(msg.seq, row);
    var before = s.contiguous;
    while (s.rows.has(s.contiguous + 1)) s.contiguous++;
    if (s.contiguous !== before) this.save();

    var type = msg.sender && msg.sender.type;
    if (type === "agent" && s.typingAgent && (!msg.sender.id || msg.sender.id === s.typingAgent.agent_id)) {
      this.hideAgentTyping();
    }
    if (!history && !s.open && (type === "agent" || type === "bot")) {
      s.unread++;
      this.render();
    }
    if (keep && s.open) this.scrollToBottom();
  };

  W.dropPending = function (p) {
    clearTimeout(p.timer);
    this.s.pending.delete(p.cmid);
    if (p.row.parentNode) p.row.parentNode.removeChild(p.row);
  };

  W.clearMessages = function () {
    var s = this.s;
    s.pending.forEach(function (p) {
      clearTimeout(p.timer);
    });
    s.pending.clear();
    s.rows.clear();
    s.contiguous = 0;
    this.e.log.textContent = "";
  };

  W.save = function () {
    var s = this.s;
    writeStore({
      session_id: s.sessionId,
      conversation_id: s.conversationId,
      last_seq: s.contiguous,
    });
  };

  W.applyConversation = function (conv) {
    var s = this.s;
    if (!conv || conv.id !== s.conversationId) return;
    var cur = s.conversation;
    if (cur && conv.updated_at && cur.updated_at && conv.updated_at < cur.updated_at) return; // stale
    s.conversation = conv;
    if (conv.status !== "automated") s.noAgent = false;
    if (conv.status !== "agent") this.hideAgentTyping(true);
    if (conv.status === "closed") this.stopSelfTyping();
    if (conv.status === "automated" && !s.quickLoaded) this.loadQuickQuestions();
    this.render();
  };

  W.patchConversation = function (patch) {
    var c = this.s.conversation;
    if (!c) return;
    var next = {};
    for (var k in c) if (Object.prototype.hasOwnProperty.call(c, k)) next[k] = c[k];
    for (var j in patch) if (Object.prototype.hasOwnProperty.call(patch, j)) next[j] = patch[j];
    this.s.conversation = next;
    if (next.status !== "automated") this.s.noAgent = false;
    if (next.status !== "agent") this.hideAgentTyping(true);
    this.render();
  };

  // ---- starting a conversation -----------------------------------------------------------------

  W.ensureConversation = function () {
    var s = this.s;
    if (s.conversationId) return Promise.resolve(s.conversationId);
    if (s.starting) return s.starting;
    var self = this;
    s.startError = false;
    s.error = null;
    s.starting = this.doStart(true).then(
      function (id) {
        s.starting = null;
        self.render();
        return id;
      },
      function (err) {
        s.starting = null;
        s.startError = true;
        self.showError(
          err instanceof NetworkError
            ? "We couldn't reach the chat right now. Please check your connection."
            : "Sorry, the chat could not be started.",
          function () {
            self.ensureConversation().catch(function () {});
          }
        );
        throw err;
      }
    );
    this.render();
    return s.starting;
  };

  W.doStart = function (mayDropSession) {
    var self = this;
    var s = this.s;
    return api("POST", API + "/conversations/start", {}, s.sessionId).then(function (res) {
      if (res.status === 403 && s.sessionId && mayDropSession) {
        s.sessionId = null; // the server no longer knows our session: begin a fresh one
        return self.doStart(false);
      }
      if (!res.ok || !res.data || !res.data.conversation) {
        throw new Error(res.message || "start failed");
      }
      var d = res.data;
      s.sessionId = d.customer_session_id;
      s.conversationId = d.conversation.id;
      s.conversation = null;
      s.gone = false;
      self.applyConversation(d.conversation);
      if (Array.isArray(d.quick_questions)) {
        s.quickQuestions = d.quick_questions;
        s.quickLoaded = true;
      }
      (d.messages || []).forEach(function (m) {
        self.ingest(m, true);
      });
      self.save();
      self.connect(false);
      self.render();
      return s.conversationId;
    });
  };

  // Forget everything about the current conversation (not the session).
  W.resetConversation = function () {
    var s = this.s;
    s.gen++;
    this.dropSocket();
    clearTimeout(s.reconnectTimer);
    s.reconnectAttempt = 0;
    this.setConnShown(false);
    this.clearMessages();
    this.hideAgentTyping(true);
    this.stopSelfTyping();
    s.conversation = null;
    s.conversationId = null;
    s.noAgent = false;
    s.escalating = false;
    s.asking = false;
    s.error = null;
    s.unread = 0;
    s.historyLoading = false;
  };

  W.startAgain = function () {
    var s = this.s;
    if (s.starting) return;
    var self = this;
    this.resetConversation();
    s.gone = false;
    this.save();
    this.render();
    this.ensureConversation().then(
      function () {
        if (s.open) self.focusBest();
      },
      function () {}
    );
  };

  // The server says this conversation is not ours or not there (4403/4404, or 403/404 over REST).
  W.conversationGone = function () {
    var s = this.s;
    this.resetConversation();
    this.save();
    s.gone = s.open; // visible: say so and offer a new start; invisible: start fresh on next open
    this.render();
  };

  // ---- quick questions, posting, escalation ----------------------------------------------------

  W.loadQuickQuestions = function () {
    var s = this.s;
    if (s.quickLoaded || s.quickLoading) return;
    s.quickLoading = true;
    var self = this;
    api("GET", API + "/quick-questions").then(
      function (res) {
        s.quickLoading = false;
        if (res.ok && res.data && Array.isArray(res.data.items)) {
          s.quickQuestions = res.data.items;
          s.quickLoaded = true;
          self.render();
        }
      },
      function () {
        s.quickLoading = false;
      }
    );
  };

  W.askQuick = function (q) {
    var s = this.s;
    if (s.asking || !s.conversationId) return;
    var self = this;
    var gen = s.gen;
    s.asking = true;
    s.error = null;
    this.render();
    api("POST", convPath(s.conversationId, "/quick-replies/" + encodeURIComponent(q.slug)), undefined, s.sessionId).then(
      function (res) {
        if (gen !== s.gen) return;
        s.asking = false;
        if (res.ok && res.data) {
          self.ingest(res.data.message);
          (res.data.replies || []).forEach(function (m) {
            self.ingest(m);
          });
          self.catchUpIfOffline();
          self.render();
          self.scrollToBottom();
        } else if (res.status === 409) {
          self.refreshConversation();
          self.render();
        } else if (res.status === 403) {
          self.conversationGone();
        } else if (res.status === 404) {
          // Most likely the question was removed meanwhile (refreshConversation notices a vanished chat).
          s.quickLoaded = false;
          self.loadQuickQuestions();
          self.refreshConversation();
          self.showError("That question is no longer available. Please pick another one.");
        } else {
          self.showError(res.message || "Something went wrong. Please try again.");
        }
      },
      function () {
        if (gen !== s.gen) return;
        s.asking = false;
        self.showError("We couldn't send that. Please check your connection and try again.", function () {
          self.askQuick(q);
        });
      }
    );
  };

  W.sendFromComposer = function () {
    var s = this.s;
    var e = this.e;
    var body = e.input.value;
    if (!body.trim()) return;
    if (s.conversation && s.conversation.status === "closed") return;
    if (body.length > BODY_MAX) body = body.slice(0, BODY_MAX);
    e.input.value = "";
    this.onComposerInput();
    this.stopSelfTyping();
    var cmid = uuid();
    var bubble = el("div", {
      class: "bubble",
      "data-testid": "message",
      "data-sender": "customer",
      "data-pending": "true",
      text: body,
    });
    var state = el("div", { class: "state", text: "Sending…" });
    var row = el("div", { class: "row customer pending" }, [bubble, state]);
    row._seq = Infinity;
    row._sender = "customer";
    row._state = state;
    var p = { cmid: cmid, body: body, row: row, attempt: 0, timer: null, inflight: false, failed: false };
    s.pending.set(cmid, p);
    this.e.log.appendChild(row);
    this.refreshLabel(row);
    this.scrollToBottom();
    this.postPending(p);
  };

  W.setPendingState = function (p, text, failed) {
    var st = p.row._state;
    st.textContent = "";
    st.classList.toggle("failed", !!failed);
    st.appendChild(document.createTextNode(text));
    if (failed) {
      var self = this;
      var retry = el("button", { type: "button", class: "linkish", text: "Retry" });
      retry.addEventListener("click", function () {
        p.attempt = 0;
        self.postPending(p);
      });
      st.appendChild(document.createTextNode(" "));
      st.appendChild(retry);
    }
  };

  W.markFailed = function (p, text) {
    if (!this.s.pending.has(p.cmid)) return;
    p.failed = true;
    this.setPendingState(p, text, true);
  };

  // POST the message; the same client_message_id on every retry, so it is stored at most once.
  W.postPending = function (p) {
    var s = this.s;
    var self = this;
    if (!s.pending.has(p.cmid) || p.inflight) return;
    clearTimeout(p.timer);
    p.timer = null;
    if (!s.conversationId) {
      this.setPendingState(p, "Sending…");
      this.ensureConversation().then(
        function () {
          if (s.pending.has(p.cmid)) self.postPending(p);
        },
        function () {
          self.markFailed(p, "Not sent.");
        }
      );
      return;
    }
    p.failed = false;
    p.inflight = true;
    p.attempt++;
    this.setPendingState(p, p.attempt > 1 ? "Retrying…" : "Sending…");
    var gen = s.gen;
    var retryLater = function (ms, text) {
      if (p.attempt >= SEND_ATTEMPTS) {
        self.markFailed(p, "Not sent.");
        return;
      }
      self.setPendingState(p, text);
      p.timer = setTimeout(function () {
        p.timer = null;
        self.postPending(p);
      }, ms);
    };
    api("POST", convPath(s.conversationId, "/messages"), { body: p.body, client_message_id: p.cmid }, s.sessionId).then(
      function (res) {
        p.inflight = false;
        if (gen !== s.gen || (!s.pending.has(p.cmid) && !res.ok)) return;
        if (res.ok && res.data && res.data.message) {
          self.ingest(res.data.message);
          (res.data.replies || []).forEach(function (m) {
            self.ingest(m);
          });
          self.catchUpIfOffline();
        } else if (res.status === 429 || res.status === 503 || res.status >= 500) {
          var wait = res.retryAfter !== null ? res.retryAfter * 1000 : backoff(p.attempt);
          retryLater(Math.min(wait, 60000), "Waiting to send…");
        } else if (res.status === 409) {
          self.markFailed(p, "Not sent: this conversation has ended.");
          self.refreshConversation();
        } else if (res.status === 403 || res.status === 404) {
          self.conversationGone();
        } else {
          self.markFailed(p, "Not sent: " + (res.message || "please try again") + ".");
        }
      },
      function () {
        p.inflight = false;
        if (gen !== s.gen) return;
        retryLater(backoff(p.attempt), "No connection. Retrying…");
      }
    );
  };

  W.escalate = function () {
    var s = this.s;
    if (s.escalating || !s.conversationId) return;
    var self = this;
    var gen = s.gen;
    s.escalating = true;
    s.error = null;
    this.render();
    api("POST", convPath(s.conversationId, "/escalate"), undefined, s.sessionId).then(
      function (res) {
        if (gen !== s.gen) return;
        s.escalating = false;
        if (res.ok && res.data) {
          s.noAgent = false;
          self.applyConversation(res.data);
          self.catchUpIfOffline();
        } else if (res.status === 409 && res.code === "no_agent_available") {
          s.noAgent = true;
        } else if (res.status === 409) {
          self.refreshConversation();
        } else if (res.status === 403 || res.status === 404) {
          self.conversationGone();
          return;
        } else {
          s.error = { text: res.message || "Something went wrong. Please try again.", retry: null };
        }
        self.render();
        self.scrollToBottom();
      },
      function () {
        if (gen !== s.gen) return;
        s.escalating = false;
        self.showError("We couldn't reach the chat. Please check your connection and try again.", function () {
          self.escalate();
        });
      }
    );
  };

  W.refreshConversation = function () {
    var s = this.s;
    var self = this;
    var gen = s.gen;
    if (!s.conversationId) return;
    api("GET", convPath(s.conversationId), undefined, s.sessionId).then(
      function (res) {
        if (gen !== s.gen) return;
        if (res.ok) self.applyConversation(res.data);
        else if (res.status === 403 || res.status === 404) self.conversationGone();
        self.catchUpIfOffline();
      },
      function () {}
    );
  };

  // Fetch the messages after `after` over REST until none are left (has_more paging).
  W.pageMessages = function (after, history) {
    var s = this.s;
    var self = this;
    var gen = s.gen;
    var step = function (from) {
      var q = "/messages?after_seq=" + from + "&limit=" + PAGE_LIMIT;
      return api("GET", convPath(s.conversationId, q), undefined, s.sessionId).then(function (res) {
        if (gen !== s.gen) return;
        if (!res.ok || !res.data) {
          if (res.status === 403 || res.status === 404) self.conversationGone();
          return;
        }
        var items = res.data.items || [];
        items.forEach(function (m) {
          self.ingest(m, history);
        });
        if (res.data.has_more && items.length) return step(items[items.length - 1].seq);
      });
    };
    return step(after);
  };

  // Live updates normally come over the socket; while it is down, fetch what we would have missed.
  W.catchUpIfOffline = function () {
    var s = this.s;
    if (s.wsReady || !s.conversationId) return;
    this.pageMessages(s.contiguous, false).catch(function () {});
  };

  // ---- the WebSocket ---------------------------------------------------------------------------

  W.connect = function (fresh) {
    var s = this.s;
    var self = this;
    clearTimeout(s.reconnectTimer);
    s.reconnectTimer = null;
    if (!s.conversationId || !s.sessionId) return;
    this.dropSocket();
    var after = fresh ? 0 : s.contiguous;
    var url =
      WS_BASE +
      "/api/v1/realtime/ws?role=customer" +
      "&conversation_id=" + encodeURIComponent(s.conversationId) +
      "&customer_session_id=" + encodeURIComponent(s.sessionId) +
      "&after_seq=" + after;
    var ws;
    try {
      ws = new WebSocket(url);
    } catch (err) {
      this.scheduleReconnect();
      return;
    }
    s.ws = ws;
    s.wsReady = false;
    var gen = s.gen;
    ws.onopen = function () {
      s.lastFrameAt = Date.now();
    };
    ws.onmessage = function (ev) {
      if (s.ws !== ws || gen !== s.gen) return;
      s.lastFrameAt = Date.now();
      var frame;
      try {
        frame = JSON.parse(ev.data);
      } catch (err) {
        return;
      }
      if (frame && typeof frame === "object") self.onFrame(frame);
    };
    ws.onerror = function () {
      /* onclose follows */
    };
    ws.onclose = function (ev) {
      if (s.ws !== ws) return;
      s.ws = null;
      s.wsReady = false;
      self.stopHeartbeat();
      self.hideAgentTyping();
      var code = ev.code;
      if (code === 4403 || code === 4404 || code === 4400) {
        self.conversationGone();
      } else if (code === 4401) {
        self.showError("The chat connection was refused.", function () {
          self.connect(false);
        });
      } else {
        self.scheduleReconnect();
      }
    };
  };

  W.dropSocket = function () {
    var s = this.s;
    var ws = s.ws;
    s.ws = null;
    s.wsReady = false;
    this.stopHeartbeat();
    if (ws) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try {
        ws.close(1000);
      } catch (err) {
        /* already closed */
      }
    }
  };

  W.scheduleReconnect = function () {
    var s = this.s;
    var self = this;
    if (!s.conversationId) return;
    clearTimeout(s.reconnectTimer);
    var delay = backoff(s.reconnectAttempt);
    s.reconnectAttempt++;
    if (s.reconnectAttempt > 1) this.setConnShown(true);
    else {
      clearTimeout(s.connTimer);
      s.connTimer = setTimeout(function () {
        if (!s.wsReady && s.conversationId) self.setConnShown(true);
      }, 2500);
    }
    s.reconnectTimer = setTimeout(function () {
      s.reconnectTimer = null;
      self.connect(false);
    }, delay);
  };

  // Back online or back to the tab: do not wait for the backoff.
  W.wakeUp = function () {
    var s = this.s;
    if (s.conversationId && !s.ws && s.reconnectTimer) {
      s.reconnectAttempt = 0;
      this.connect(false);
    }
    var self = this;
    s.pending.forEach(function (p) {
      if (!p.inflight && (p.failed || p.timer)) {
        p.attempt = 0;
        self.postPending(p);
      }
    });
  };

  W.setConnShown = function (shown) {
    if (!shown) clearTimeout(this.s.connTimer);
    if (this.s.connShown === shown) return;
    this.s.connShown = shown;
    this.render();
  };

  W.startHeartbeat = function (seconds) {
    var s = this.s;
    var self = this;
    this.stopHeartbeat();
    s.heartbeatMs = Math.max(5, Math.min(120, Number(seconds) || 20)) * 1000;
    s.heartbeat = setInterval(function () {
      var ws = s.ws;
      if (!ws || ws.readyState !== 1) return;
      if (Date.now() - s.lastFrameAt > s.heartbeatMs * 2.5) {
        // Silent for too long: the connection is dead even if the browser has not noticed.
        self.dropSocket();
        self.scheduleReconnect();
        return;
      }
      self.sendFrame({ type: "ping" });
    }, s.heartbeatMs);
  };

  W.stopHeartbeat = function () {
    clearInterval(this.s.heartbeat);
    this.s.heartbeat = null;
  };

  W.sendFrame = function (frame) {
    var ws = this.s.ws;
    if (!ws || ws.readyState !== 1) return false;
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch (err) {
      return false;
    }
  };

  W.onFrame = function (f) {
    var s = this.s;
    var self = this;
    var d = f.data || {};
    if (f.conversation_id && f.conversation_id !== s.conversationId) return;
    switch (f.type) {
      case "system.connected":
        this.startHeartbeat(d.heartbeat_seconds);
        break;
      case "system.subscribed": {
        var history = s.historyLoading;
        s.wsReady = true;
        s.reconnectAttempt = 0;
        clearTimeout(s.connTimer);
        this.applyConversation(d.conversation);
        var keep = this.nearBottom() || history;
        var msgs = Array.isArray(d.messages) ? d.messages : [];
        msgs.forEach(function (m) {
          self.ingest(m, history);
        });
        var finish = function () {
          if (s.historyLoading) {
            s.historyLoading = false;
            self.render();
          }
          if (keep && s.open) self.scrollToBottom();
        };
        if (d.has_more) {
          var last = msgs.length ? msgs[msgs.length - 1].seq : s.contiguous;
          this.pageMessages(last, history).then(finish, finish);
        } else {
          finish();
        }
        this.setConnShown(false);
        if (s.pending.size) this.wakeUp();
        break;
      }
      case "message.created":
        this.ingest(d);
        break;
      case "conversation.updated":
        this.applyConversation(d);
        break;
      case "agent.assigned":
        if (d.agent) this.patchConversation({ status: "agent", assigned_agent: d.agent });
        break;
      case "chat.closed":
        this.patchConversation({ status: "closed", closed_at: d.closed_at || null });
        this.stopSelfTyping();
        break;
      case "agent.presence.changed": {
        var c = s.conversation;
        if (c && c.assigned_agent && c.assigned_agent.id === d.agent_id) {
          var agent = {};
          for (var k in c.assigned_agent) agent[k] = c.assigned_agent[k];
          agent.presence = d.presence;
          if (d.display_name) agent.display_name = d.display_name;
          this.patchConversation({ assigned_agent: agent });
        }
        break;
      }
      case "agent.typing":
        if (d.is_typing) this.showAgentTyping(d);
        else if (!s.typingAgent || !d.agent_id || s.typingAgent.agent_id === d.agent_id) this.hideAgentTyping();
        break;
      default:
        break; // system.pong, system.error, anything new: nothing to show
    }
  };

  W.showAgentTyping = function (d) {
    var s = this.s;
    var self = this;
    var keep = this.nearBottom();
    s.typingAgent = { agent_id: d.agent_id, display_name: d.display_name };
    clearTimeout(s.typingTimer);
    s.typingTimer = setTimeout(function () {
      self.hideAgentTyping();
    }, AGENT_TYPING_SAFETY_MS);
    this.render();
    if (keep) this.scrollToBottom();
  };

  W.hideAgentTyping = function (quiet) {
    var s = this.s;
    clearTimeout(s.typingTimer);
    if (!s.typingAgent) return;
    s.typingAgent = null;
    if (!quiet) this.render();
  };

  // ---- the customer's own typing ---------------------------------------------------------------

  W.onComposerInput = function () {
    var e = this.e;
    if (this.autoGrow) {
      e.input.style.height = "auto";
      e.input.style.height = Math.min(e.input.scrollHeight, 120) + "px";
    }
    this.updateSendEnabled();
    if (e.input.value.trim()) this.noteSelfTyping();
    else this.stopSelfTyping();
  };

  W.updateSendEnabled = function () {
    var c = this.s.conversation;
    this.e.send.disabled = !this.e.input.value.trim() || (c && c.status === "closed") || this.s.gone;
  };

  W.noteSelfTyping = function () {
    var s = this.s;
    var self = this;
    if (!s.conversation || s.conversation.status === "closed") return;
    var now = Date.now();
    if (!s.selfTyping || now - s.selfTypingAt >= TYPING_REFRESH_MS) {
      if (this.sendFrame({ type: "typing", is_typing: true })) {
        s.selfTyping = true;
        s.selfTypingAt = now;
      }
    }
    clearTimeout(s.selfIdleTimer);
    s.selfIdleTimer = setTimeout(function () {
      self.stopSelfTyping();
    }, TYPING_IDLE_MS);
  };

  W.stopSelfTyping = function () {
    var s = this.s;
    clearTimeout(s.selfIdleTimer);
    s.selfIdleTimer = null;
    if (s.selfTyping) {
      s.selfTyping = false;
      this.sendFrame({ type: "typing", is_typing: false });
    }
  };

  // ---------------------------------------------------------------------------------------------
  // The custom element
  // ---------------------------------------------------------------------------------------------

  class ChatcoreWidget extends HTMLElement {
    connectedCallback() {
      if (!this._chatcore) this._chatcore = new Widget(this);
    }
  }

  window.customElements.define(TAG, ChatcoreWidget);

  function mount() {
    if (document.querySelector(TAG)) return; // already on the page (or placed there by the host)
    document.body.appendChild(document.createElement(TAG));
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
