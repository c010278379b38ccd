// Small DOM helpers: createElement + textContent, never innerHTML.

export function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children || []) if (child) node.appendChild(child);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function icon(cls, paths, stroke) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  if (cls) svg.setAttribute("class", cls);
  for (const d of paths) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    if (stroke) {
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "2.2");
      path.setAttribute("stroke-linecap", "round");
      path.setAttribute("stroke-linejoin", "round");
    } else {
      path.setAttribute("fill", "currentColor");
    }
    svg.appendChild(path);
  }
  return svg;
}

export const ICON_CHAT = [
  "M5 3.5h14A2.5 2.5 0 0 1 21.5 6v9a2.5 2.5 0 0 1-2.5 2.5h-7.2l-4.6 3.7c-.65.52-1.7.06-1.7-.78V17.5H5A2.5 2.5 0 0 1 2.5 15V6A2.5 2.5 0 0 1 5 3.5zM8 9.25a1.25 1.25 0 1 0 0 2.5 1.25 1.25 0 0 0 0-2.5zm4 0a1.25 1.25 0 1 0 0 2.5 1.25 1.25 0 0 0 0-2.5zm4 0a1.25 1.25 0 1 0 0 2.5 1.25 1.25 0 0 0 0-2.5z",
];
export const ICON_CLOSE = ["M6 6l12 12M18 6L6 18"];
export const ICON_SEND = [
  "M3.4 20.4l17.45-7.48a1 1 0 0 0 0-1.84L3.4 3.6a.99.99 0 0 0-1.39.91L2 9.12c0 .5.37.93.87.99L17 12 2.87 13.88c-.5.07-.87.5-.87 1l.01 4.61c0 .71.73 1.2 1.39.91z",
];
export const ICON_PERSON = [
  "M12 12a4.25 4.25 0 1 0 0-8.5 4.25 4.25 0 0 0 0 8.5zm0 2c-4.1 0-7.5 2.2-7.5 5v.75c0 .41.34.75.75.75h13.5c.41 0 .75-.34.75-.75V19c0-2.8-3.4-5-7.5-5z",
];

/** Is `node` inside something hidden, looking no further up than `stop`? */
export function isHiddenIn(node, stop) {
  for (let n = node; n && n !== stop; n = n.parentNode) {
    if (n.hidden) return true;
  }
  return false;
}

/** Put the stylesheet in the shadow root: constructable where it exists (allowed under a strict
 * style-src CSP), a <style> element on old browsers only. */
export function adoptStyles(root, css) {
  try {
    if ("adoptedStyleSheets" in Document.prototype && typeof CSSStyleSheet === "function") {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
      return;
    }
  } catch {
    /* fall back below */
  }
  root.appendChild(el("style", { text: css }));
}
