// The back office: sign-in, then one page per hash route (#/orders, #/products/<id>...).

import { ApiError, call, get } from "./api.js";
import { alert, fill, field, h, status } from "./dom.js";
import { dashboard } from "./pages/dashboard.js";
import { orders } from "./pages/orders.js";
import { products } from "./pages/products.js";
import { customers } from "./pages/customers.js";
import { leads } from "./pages/leads.js";
import { analytics } from "./pages/analytics.js";
import { operations } from "./pages/operations.js";

const PAGES = [
  ["dashboard", "Dashboard", dashboard],
  ["orders", "Orders", orders],
  ["products", "Products", products],
  ["customers", "Customers", customers],
  ["leads", "Leads", leads],
  ["analytics", "Analytics", analytics],
  ["operations", "Operations", operations],
];

const root = document.getElementById("app");
let me = null;

// "#/orders/<id>?status=paid": the page, the rest of the path, the query.
function route() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [name = "dashboard", ...rest] = path.split("/");
  return { name, rest, params: new URLSearchParams(query) };
}

function signIn(message) {
  me = null;
  document.title = "Sign in · Comptoir back office";
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const feedback = h("div", { id: "signin-feedback", "aria-live": "assertive" }, message ? alert(message) : null);
  const form = h(
    "form",
    { id: "signin", class: "card narrow", onsubmit: submit },
    h("h1", {}, "Comptoir back office"),
    field("Email", email),
    field("Password", password),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    feedback,
  );
  async function submit(event) {
    event.preventDefault();
    fill(feedback, status("Signing in…"));
    try {
      await call("POST", "/v1/auth/session", { body: { email: email.value, password: password.value } });
      await start();
    } catch (error) {
      const text =
        error instanceof ApiError && error.status === 403
          ? "This account is not an administrator: the back office is for admins only."
          : error.message;
      fill(feedback, alert(text));
    }
  }
  fill(root, h("main", { id: "main" }, form));
  email.focus();
}

async function signOut() {
  try {
    await call("DELETE", "/v1/auth/session");
  } finally {
    location.hash = "";
    signIn("You are signed out.");
  }
}

function layout(current) {
  const nav = h(
    "nav",
    { "aria-label": "Back office" },
    h("ul", {}, PAGES.map(([name, label]) =>
      h("li", {}, h("a", { href: `#/${name}`, "aria-current": name === current ? "page" : null }, label)),
    )),
  );
  const header = h(
    "header",
    {},
    h("span", { class: "brand" }, "Comptoir"),
    nav,
    h("span", { class: "who" }, h("span", { id: "who" }, me.email), " ",
      h("button", { type: "button", id: "signout", onclick: signOut }, "Sign out")),
  );
  const main = h("main", { id: "main", tabindex: "-1" });
  fill(root, header, main);
  return main;
}

async function render() {
  if (!me) return;
  const { name, rest, params } = route();
  const page = PAGES.find(([n]) => n === name) ?? PAGES[0];
  document.title = `${page[1]} · Comptoir back office`;
  const main = layout(page[0]);
  main.append(status("Loading…"));
  try {
    await page[2](main, rest, params);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    main.append(alert(error.message));
  }
  // Which route the page finished drawing: what a test (or a screen reader's user) waits for.
  main.dataset.ready = page[0];
  main.dataset.route = location.hash || "#/";
  // When the page became usable, for the browser's performance tools (bench/backoffice.py).
  performance.mark(`comptoir:drawn:${page[0]}`);
  main.focus({ preventScroll: true });
}

async function start() {
  try {
    me = await get("/v1/me");
  } catch {
    signIn();
    return;
  }
  if (me.role !== "admin") {
    await call("DELETE", "/v1/auth/session").catch(() => {});
    signIn("This account is not an administrator: the back office is for admins only.");
    return;
  }
  await render();
}

window.addEventListener("hashchange", render);
window.addEventListener("comptoir:signed-out", () => {
  if (me) signIn("Your session has ended; sign in again.");
});
start();
