// Module loader hook (see register.mjs): the browser sources under static/ are ES modules.
export async function load(url, context, nextLoad) {
  if (url.startsWith("file:") && url.includes("/static/") && url.endsWith(".js")) {
    return nextLoad(url, { ...context, format: "module" });
  }
  return nextLoad(url, context);
}
