// The <chatcore-widget> element, put on the page once.
//
// Embed with one line:   <script src="https://YOUR-CHATCORE-SERVER/widget.js" async></script>
// Optional attributes on that tag: data-server (another server base URL), data-title (panel title),
// data-accent (a CSS color for the launcher, header and your bubbles).

import { ChatWidget } from "./chat.js";

const TAG = "chatcore-widget";

class ChatcoreWidgetElement extends HTMLElement {
  connectedCallback() {
    if (!this._chatcore) this._chatcore = new ChatWidget(this);
  }
}

function mount() {
  if (document.querySelector(TAG)) return; // already on the page (or placed there by the host)
  document.body.appendChild(document.createElement(TAG));
}

// Old browsers get no widget rather than a broken one; a second copy of the script does nothing.
if (window.customElements && document.documentElement.attachShadow && !window.customElements.get(TAG)) {
  window.customElements.define(TAG, ChatcoreWidgetElement);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
}
