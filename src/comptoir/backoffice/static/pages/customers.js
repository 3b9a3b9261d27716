// Customers: search by email, a customer's detail with their orders, role change, erasure.

import { del, get, patch } from "../api.js";
import { alert, fill, confirmAction, field, h, money, status, table, when } from "../dom.js";

export async function customers(main, rest, params) {
  if (rest[0]) return detail(main, rest[0], params.get("email") ?? "");
  const q = params.get("email") ?? "";
  const search = h("input", { type: "search", name: "email", value: q, id: "customer-search" });
  const list = h("div");
  fill(main, 
    h("h1", {}, "Customers"),
    h("form", { class: "filters", onsubmit: (e) => {
      e.preventDefault();
      location.hash = `#/customers?${new URLSearchParams({ email: search.value })}`;
    } }, field("Email contains", search), h("button", { type: "submit" }, "Search")),
    list,
  );
  await page(list, q, null);
}

async function page(list, q, cursor) {
  const result = await get("/v1/admin/users", { email: q, limit: 25, cursor });
  list.append(table([
    { label: "Email", value: (u) => h("a", { href: `#/customers/${u.id}?${new URLSearchParams({ email: u.email })}` }, u.email) },
    { label: "Name", value: (u) => u.name ?? "" },
    { label: "Role", value: (u) => u.role },
    { label: "Since", value: (u) => when(u.created_at) },
  ], result.items));
  if (result.next_cursor) {
    const more = h("button", { type: "button", class: "more", onclick: async () => {
      more.remove();
      await page(list, q, result.next_cursor);
    } }, "More customers");
    list.append(more);
  }
}

async function detail(main, id, email) {
  const found = await get("/v1/admin/users", { email, limit: 100 });
  const user = found.items.find((u) => u.id === id);
  if (!user) {
    fill(main, h("h1", {}, "Customer"), alert("No such customer."));
    return;
  }
  const history = await get("/v1/admin/orders", { email: user.email, limit: 50 });
  const role = h("select", { name: "role", id: "customer-role" },
    ["customer", "admin"].map((r) => h("option", { value: r, selected: r === user.role }, r)));
  const feedback = h("div", { "aria-live": "polite" });
  fill(main, 
    h("p", {}, h("a", { href: "#/customers" }, "← Customers")),
    h("h1", {}, user.email),
    h("dl", { class: "facts" },
      h("dt", {}, "Name"), h("dd", {}, user.name ?? "—"),
      h("dt", {}, "Since"), h("dd", {}, when(user.created_at)),
      h("dt", {}, "Email confirmed"), h("dd", {}, user.email_verified ? "yes" : "no")),
    h("form", { class: "filters", onsubmit: async (e) => {
      e.preventDefault();
      if (!(await confirmAction(`Make ${user.email} ${role.value === "admin" ? "an admin" : "a customer"}?`, "Change role"))) return;
      try {
        await patch(`/v1/admin/users/${id}`, { role: role.value });
        fill(feedback, status("Role changed."));
      } catch (error) {
        fill(feedback, alert(error.message));
      }
    } }, field("Role", role), h("button", { type: "submit" }, "Change role")),
    h("div", { class: "actions" }, h("button", { type: "button", class: "danger", id: "erase", onclick: async () => {
      if (!(await confirmAction(`Erase ${user.email}? The account, its cart and its addresses go; its events lose their user.`, "Erase"))) return;
      try {
        await del(`/v1/admin/users/${id}`);
        location.hash = "#/customers";
      } catch (error) {
        fill(feedback, alert(error.message));
      }
    } }, "Erase account")),
    feedback,
    h("h2", {}, "Orders"),
    table([
      { label: "Order", value: (o) => h("a", { href: `#/orders/${o.id}` }, o.id.slice(0, 8)) },
      { label: "Placed", value: (o) => when(o.created_at) },
      { label: "Status", value: (o) => h("span", { class: `badge ${o.status}` }, o.status) },
      { label: "Total", value: (o) => money(o.total, o.currency), numeric: true },
    ], history.items),
  );
}
