// Where the server is and what the page asked for, read from the <script> tag
// that loaded the widget.

// document.currentScript is only set while the widget's script runs for the first time: read it now.
const CURRENT_SCRIPT = document.currentScript;

function findScript() {
  if (CURRENT_SCRIPT && CURRENT_SCRIPT.src) return CURRENT_SCRIPT;
  const tagged = document.querySelector("script[data-server]");
  if (tagged) return tagged;
  const all = document.getElementsByTagName("script");
  for (let i = all.length - 1; i >= 0; i--) {
    if (/\/widget\.js(?:[?#].*)?$/.test(all[i].src || "")) return all[i];
  }
  return null;
}

function serverBase(script) {
  const attr = script && script.getAttribute("data-server");
  try {
    if (attr) return new URL(attr, location.href).href.replace(/\/+$/, "");
  } catch {
    /* fall through */
  }
  try {
    if (script && script.src) {
      const url = new URL(script.src, location.href);
      // Normally the origin; a server mounted under a path prefix keeps the prefix.
      return url.origin + url.pathname.replace(/\/widget\.js$/, "").replace(/\/+$/, "");
    }
  } catch {
    /* fall through */
  }
  return location.origin;
}

const SCRIPT = findScript();

export const SERVER = serverBase(SCRIPT);
export const STORAGE_KEY = "chatcore-widget:v1:" + SERVER;
export const TITLE = (SCRIPT && SCRIPT.getAttribute("data-title")) || "Chat with us";
export const ACCENT = SCRIPT && SCRIPT.getAttribute("data-accent");

export const TYPING_REFRESH_MS = 2000;
export const TYPING_IDLE_MS = 3000;
export const AGENT_TYPING_SAFETY_MS = 10000;
export const SEND_ATTEMPTS = 6;
export const PAGE_LIMIT = 500;
export const BODY_MAX = 4000;
