// Products: the list by state (active, inactive, deleted), a product's form (price, stock,
// images, attributes), deactivate, delete and restore.

import { del, get, patch, post } from "../api.js";
import { alert, fill, confirmAction, field, h, money, number, status, table } from "../dom.js";

const STATES = ["active", "inactive", "deleted"];

function stateOf(p) {
  return p.state ?? (p.deleted_at ? "deleted" : p.active ? "active" : "inactive");
}

export async function products(main, rest, params) {
  if (rest[0] === "new") return edit(main, null);
  if (rest[0]) return edit(main, await get(`/v1/products/${rest[0]}`));
  const state = STATES.includes(params.get("state")) ? params.get("state") : "active";
  const q = params.get("q") ?? "";
  const search = h("input", { type: "search", name: "q", value: q });
  const tabs = h("ul", { class: "tabs" }, STATES.map((s) =>
    h("li", {}, h("a", { href: `#/products?state=${s}`, "aria-current": s === state ? "page" : null }, s))));
  const list = h("div");
  fill(main, 
    h("h1", {}, "Products"),
    h("div", { class: "actions" }, h("a", { href: "#/products/new", class: "button primary", id: "new-product" }, "New product")),
    h("nav", { "aria-label": "Product state" }, tabs),
    h("form", { class: "filters", onsubmit: (e) => {
      e.preventDefault();
      location.hash = `#/products?${new URLSearchParams({ state, q: search.value })}`;
    } }, field("Name", search), h("button", { type: "submit" }, "Search")),
    list,
  );
  await page(list, state, q, null);
}

async function page(list, state, q, cursor) {
  const result = await get("/v1/admin/products", { state, q, sort: "newest", limit: 25, cursor });
  list.append(table([
    { label: "Name", value: (p) => h("a", { href: `#/products/${p.id}` }, p.name) },
    { label: "SKU", value: (p) => p.sku ?? "" },
    { label: "Price", value: (p) => money(p.price, p.currency), numeric: true },
    { label: "Stock", value: (p) => number(p.stock), numeric: true },
    { label: "State", value: (p) => h("span", { class: `badge ${stateOf(p)}` }, stateOf(p)) },
  ], result.items));
  if (result.next_cursor) {
    const more = h("button", { type: "button", class: "more", onclick: async () => {
      more.remove();
      await page(list, state, q, result.next_cursor);
    } }, "More products");
    list.append(more);
  }
}

// Attributes as "key: value" lines; a value that reads as JSON (a number, true, a list)
// is kept as such.
function readAttributes(text) {
  const attributes = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf(":");
    if (at < 1) continue;
    const key = line.slice(0, at).trim();
    const raw = line.slice(at + 1).trim();
    try {
      attributes[key] = JSON.parse(raw);
    } catch {
      attributes[key] = raw;
    }
  }
  return attributes;
}

function writeAttributes(attributes) {
  return Object.entries(attributes ?? {})
    .filter(([key]) => key !== "images")
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join("\n");
}

function edit(main, product) {
  const creating = product === null;
  const p = product ?? { name: "", description: "", price: "", stock: 0, active: true, images: [], attributes: {} };
  const name = h("input", { name: "name", required: true, maxlength: 200, value: p.name });
  const description = h("textarea", { name: "description", rows: 3 });
  description.value = p.description;
  const price = h("input", { name: "price", required: true, inputmode: "decimal", pattern: "\\d+(\\.\\d{1,2})?", value: p.price });
  const stock = h("input", { name: "stock", type: "number", min: 0, required: true, value: p.stock });
  const sku = h("input", { name: "sku", value: p.sku ?? "" });
  const compare = h("input", { name: "compare_at_price", inputmode: "decimal", value: p.compare_at_price ?? "" });
  const active = h("input", { name: "active", type: "checkbox", checked: p.active });
  const images = h("textarea", { name: "images", rows: 3, "aria-describedby": "images-help" });
  images.value = (p.images ?? []).join("\n");
  const attributes = h("textarea", { name: "attributes", rows: 4, "aria-describedby": "attributes-help" });
  attributes.value = writeAttributes(p.attributes);
  const feedback = h("div", { "aria-live": "polite", id: "product-feedback" });
  const state = creating ? null : stateOf(p);

  function body() {
    const out = {
      name: name.value, description: description.value, price: price.value,
      stock: Number(stock.value), active: active.checked,
    };
    // Only what the admin filled or the product had: an empty SKU stays absent.
    const urls = images.value.split("\n").map((u) => u.trim()).filter(Boolean);
    if (urls.length || (p.images ?? []).length) out.images = urls;
    const attrs = readAttributes(attributes.value);
    if (Object.keys(attrs).length || Object.keys(p.attributes ?? {}).length) out.attributes = attrs;
    if (sku.value || p.sku) out.sku = sku.value || null;
    if (compare.value || p.compare_at_price) out.compare_at_price = compare.value || null;
    return out;
  }

  async function act(work, done) {
    fill(feedback, status("Saving…"));
    try {
      const saved = await work();
      if (saved && saved.id) {
        location.hash = `#/products/${saved.id}`;
        if (!creating) await products(main, [saved.id], new URLSearchParams());
      } else if (done) {
        await products(main, [p.id], new URLSearchParams());
      }
      main.querySelector("#product-feedback")?.append(status(done ?? "Saved."));
    } catch (error) {
      fill(feedback, alert(error.message));
    }
  }

  const form = h("form", { id: "product-form", class: "card", onsubmit: (e) => {
      e.preventDefault();
      act(() => (creating ? post("/v1/products", body()) : patch(`/v1/products/${p.id}`, body())));
    } },
    field("Name", name), field("Description", description),
    h("div", { class: "row" }, field("Price", price), field("Compare-at price", compare), field("Stock", stock), field("SKU", sku)),
    h("div", { class: "field inline" }, active, h("label", { for: (active.id = "product-active") }, "Active (on sale)")),
    field("Images", images), h("p", { class: "help", id: "images-help" }, "One URL per line."),
    field("Attributes", attributes), h("p", { class: "help", id: "attributes-help" }, "One per line: key: value."),
    h("button", { type: "submit", class: "primary" }, creating ? "Create product" : "Save"),
  );

  const actions = creating ? [] : [
    state === "deleted"
      ? h("button", { type: "button", id: "restore", class: "primary", onclick: () =>
          act(() => post(`/v1/admin/products/${p.id}/restore`), "Restored.") }, "Restore")
      : h("button", { type: "button", id: "delete", class: "danger", onclick: async () => {
          if (await confirmAction(`Delete “${p.name}”? It leaves the catalog; orders keep it.`, "Delete")) {
            await act(() => del(`/v1/products/${p.id}`), "Deleted.");
          }
        } }, "Delete"),
    state === "active"
      ? h("button", { type: "button", id: "deactivate", onclick: () => act(() => patch(`/v1/products/${p.id}`, { active: false }), "Deactivated.") }, "Deactivate")
      : null,
    state === "inactive"
      ? h("button", { type: "button", id: "activate", onclick: () => act(() => patch(`/v1/products/${p.id}`, { active: true }), "On sale again.") }, "Activate")
      : null,
  ];

  const gallery = (p.images ?? []).length
    ? h("ul", { class: "images", id: "product-images" }, p.images.map((url) => h("li", {}, h("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, url))))
    : null;

  fill(main, 
    h("p", {}, h("a", { href: "#/products" }, "← Products")),
    h("h1", { id: "product-title" }, creating ? "New product" : p.name),
    creating ? null : h("dl", { class: "facts" },
      h("dt", {}, "State"), h("dd", {}, h("span", { class: `badge ${state}`, id: "product-state" }, state)),
      h("dt", {}, "Price"), h("dd", {}, money(p.price, p.currency)),
      h("dt", {}, "Stock"), h("dd", { id: "product-stock", "data-value": p.stock }, number(p.stock))),
    gallery,
    h("div", { class: "actions" }, actions),
    feedback,
    form,
  );
}
