// Client-side routing: real <a href> links (keyboard, middle-click and "open in new tab" keep
// working), history.pushState for same-tab clicks, one <h1> per page that takes the focus after
// a navigation so screen-reader and keyboard users land on the new content.
import { h } from "../ui.js";

const routes = [];
let renderCount = 0;
let cleanups = [];

// route("/privacy/requests/:id", render): render({params, query}) → Node (or array of nodes).
export function route(pattern, render) {
  const keys = [];
  const source = pattern
    .split("/")
    .map((part) => (part.startsWith(":") ? (keys.push(part.slice(1)), "([^/]+)") : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  routes.push({ regex: new RegExp(`^${source}/?$`), keys, render });
}

// Called by a page for work to stop when the user leaves it (timers of live status).
export function onLeave(fn) {
  cleanups.push(fn);
}

// True while the page that started some async work is still shown.
export function stillOn(token) {
  return token === renderCount;
}

export function currentToken() {
  return renderCount;
}

export function navigate(href, { replace = false } = {}) {
  const target = new URL(href, location.origin);
  if (replace) history.replaceState(null, "", target.pathname + target.search + target.hash);
  else history.pushState(null, "", target.pathname + target.search + target.hash);
  return render({ focus: true });
}

// Same-origin links to the client's own pages are routed here; API links (/v1/...), downloads,
// assets, the console, new-tab clicks and links marked data-reload go to the browser.
function routable(anchor, event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return false;
  if (anchor.target || anchor.hasAttribute("download") || anchor.dataset.reload !== undefined) return false;
  const target = new URL(anchor.href, location.href);
  if (target.origin !== location.origin) return false;
  if (/^\/(v1|assets|ops|internal|healthz)(\/|$)/.test(target.pathname)) return false;
  if (target.pathname === location.pathname && target.search === location.search && target.hash) return false;
  return true;
}

let layout = () => {};
export function setLayout(fn) {
  layout = fn;
}

export async function render({ focus = false } = {}) {
  const token = ++renderCount;
  for (const fn of cleanups.splice(0)) {
    try { fn(); } catch { /* a stopped timer cannot fail the next page */ }
  }
  const main = document.getElementById("main");
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  let page = notFound;
  let params = {};
  for (const { regex, keys, render: view } of routes) {
    const match = regex.exec(path);
    if (match) {
      page = view;
      params = Object.fromEntries(keys.map((key, i) => [key, decodeURIComponent(match[i + 1])]));
      break;
    }
  }
  main.setAttribute("aria-busy", "true");
  await layout(path);
  let content;
  try {
    content = await page({ params, query, token });
  } catch (error) {
    content = errorPage(error);
  }
  if (token !== renderCount) return; // a newer navigation won
  main.replaceChildren(...[content].flat(Infinity).filter(Boolean));
  main.removeAttribute("aria-busy");
  const heading = main.querySelector("h1");
  if (heading) {
    document.title = `${heading.textContent} · AIFLUX`;
    heading.setAttribute("tabindex", "-1");
    if (focus) heading.focus();
  }
  if (focus) window.scrollTo(0, 0);
}

function notFound() {
  return [h("h1", {}, "Page not found"), h("p", {}, "There is no page at this address. ", h("a", { href: "/" }, "Go to the start page"), ".")];
}

function errorPage(error) {
  return [h("h1", {}, "Something went wrong"), h("p", { role: "alert" }, error.message || String(error)), h("p", {}, h("a", { href: "/" }, "Go to the start page"))];
}

export function start() {
  document.addEventListener("click", (event) => {
    const anchor = event.target.closest && event.target.closest("a[href]");
    if (!anchor || !routable(anchor, event)) return;
    event.preventDefault();
    navigate(anchor.href);
  });
  window.addEventListener("popstate", () => render({ focus: true }));
  return render();
}
