// Orders: the list with the API's filters, an order's detail, its status moves (with a
// confirmation), and the CSV export.

import { dayAfter, dayStart, download, get, post } from "../api.js";
import { alert, fill, confirmAction, field, h, money, status, table, when } from "../dom.js";

const STATUSES = ["pending", "paid", "shipped", "cancelled"];
// What each move is called, and what the confirmation says happens.
const MOVES = {
  pending: [["paid", "Mark as paid"], ["cancelled", "Cancel"]],
  paid: [["shipped", "Ship"], ["cancelled", "Cancel"]],
};

function filters(params) {
  return {
    status: params.get("status") ?? "",
    email: params.get("email") ?? "",
    from: params.get("from") ?? "",
    to: params.get("to") ?? "",
  };
}

function query(f) {
  return { status: f.status, email: f.email, from: dayStart(f.from), to: dayAfter(f.to) };
}

export async function orders(main, rest, params) {
  if (rest[0]) return detail(main, rest[0]);
  const f = filters(params);
  const statusSelect = h("select", { name: "status", id: "order-status" },
    h("option", { value: "" }, "Any status"),
    STATUSES.map((s) => h("option", { value: s, selected: s === f.status }, s)));
  const email = h("input", { type: "email", name: "email", value: f.email });
  const from = h("input", { type: "date", name: "from", value: f.from });
  const to = h("input", { type: "date", name: "to", value: f.to });
  const feedback = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "filters", onsubmit: (e) => {
      e.preventDefault();
      const next = new URLSearchParams({ status: statusSelect.value, email: email.value, from: from.value, to: to.value });
      location.hash = `#/orders?${next}`;
    } },
    field("Status", statusSelect), field("Customer email", email), field("From", from), field("To", to),
    h("button", { type: "submit" }, "Filter"),
    h("button", { type: "button", id: "orders-csv", onclick: async () => {
      fill(feedback, status("Exporting…"));
      try {
        await download("/v1/admin/orders", query(f), "orders.csv");
        fill(feedback, status("orders.csv saved."));
      } catch (error) {
        fill(feedback, alert(error.message));
      }
    } }, "Export CSV"));
  const list = h("div");
  fill(main, h("h1", {}, "Orders"), form, feedback, list);
  await page(list, query(f), null);
}

async function page(list, q, cursor) {
  const result = await get("/v1/admin/orders", { ...q, limit: 25, cursor });
  list.append(table([
    { label: "Order", value: (o) => h("a", { href: `#/orders/${o.id}` }, o.id.slice(0, 8)) },
    { label: "Placed", value: (o) => when(o.created_at) },
    { label: "Customer", value: (o) => o.customer.email },
    { label: "Status", value: (o) => h("span", { class: `badge ${o.status}` }, o.status) },
    { label: "Lines", value: (o) => o.items.length, numeric: true },
    { label: "Total", value: (o) => money(o.total, o.currency), numeric: true },
  ], result.items));
  if (result.next_cursor) {
    const more = h("button", { type: "button", class: "more", onclick: async () => {
      more.remove();
      await page(list, q, result.next_cursor);
    } }, "More orders");
    list.append(more);
  }
}

function address(label, a) {
  if (!a) return h("div", {}, h("h3", {}, label), h("p", {}, "None given."));
  return h("div", {}, h("h3", {}, label), h("address", {},
    [a.name, a.line1, a.line2, `${a.postal_code ?? ""} ${a.city ?? ""}`.trim(), a.country, a.phone]
      .filter(Boolean).flatMap((line) => [line, h("br")])));
}

// The payment: provider, status, refund, the provider's intent and what each event did.
function payment(order) {
  const p = order.payment;
  const events = p.events ?? [];
  return h("dl", { id: "payment", class: "facts" },
    h("dt", {}, "Provider"), h("dd", {}, p.provider ?? "—"),
    h("dt", {}, "Status"), h("dd", {}, h("span", { class: `badge ${p.status}`, id: "payment-status" }, p.status)),
    p.payment_intent_id ? [h("dt", {}, "Intent"), h("dd", {}, h("code", {}, p.payment_intent_id))] : null,
    h("dt", {}, "Refund"), h("dd", { id: "payment-refund" },
      p.refund ? `${p.refund.status}, ${money(p.refund.amount, order.currency)}` : "none"),
    events.length ? [h("dt", {}, "Events"), h("dd", {}, h("ul", {}, events.map((e) =>
      h("li", {}, `${when(e.received_at)} ${e.type}${e.result ? ` (${e.result})` : ""}`))))] : null);
}

async function detail(main, id) {
  // The admin form: the customer, and the payment with the provider's ids and events.
  const order = await get(`/v1/admin/orders/${id}`);
  const feedback = h("div", { "aria-live": "polite", id: "order-feedback" });
  const paidOnline = order.payment?.status === "succeeded";
  const moves = (MOVES[order.status] ?? []).map(([target, label]) =>
    h("button", { type: "button", class: target === "cancelled" ? "danger" : "primary", "data-move": target,
      onclick: async () => {
        const refund = target === "cancelled" && order.status === "paid";
        const question = target === "cancelled"
          ? `Cancel this order? Its stock goes back${refund && paidOnline ? " and the customer is refunded" : ""}.`
          : `${label} this order?`;
        if (!(await confirmAction(question, label))) return;
        fill(feedback, status("Saving…"));
        try {
          await post(`/v1/admin/orders/${id}/status`, { status: target });
          await detail(main, id);
          main.querySelector("#order-feedback").append(status(`Order ${target}.`));
        } catch (error) {
          fill(feedback, alert(error.message));
        }
      } }, label));
  fill(main, 
    h("p", {}, h("a", { href: "#/orders" }, "← Orders")),
    h("h1", {}, `Order ${order.id.slice(0, 8)}`),
    h("dl", { class: "facts" },
      h("dt", {}, "Status"), h("dd", {}, h("span", { class: `badge ${order.status}`, id: "order-status-now" }, order.status)),
      h("dt", {}, "Placed"), h("dd", {}, when(order.created_at)),
      h("dt", {}, "Customer"), h("dd", {}, order.customer
        ? h("a", { href: `#/customers/${order.customer.id}?${new URLSearchParams({ email: order.customer.email })}` }, `${order.customer.name ?? ""} <${order.customer.email}>`) : "—"),
      h("dt", {}, "Total"), h("dd", {}, money(order.total, order.currency))),
    h("div", { class: "actions" }, moves),
    feedback,
    h("h2", {}, "Lines"),
    table([
      { label: "Product", value: (l) => h("a", { href: `#/products/${l.product_id}` }, l.name) },
      { label: "Quantity", value: (l) => l.quantity, numeric: true },
      { label: "Unit price", value: (l) => money(l.unit_price, order.currency), numeric: true },
      { label: "Line total", value: (l) => money(l.line_total, order.currency), numeric: true },
    ], order.items),
    h("h2", {}, "Payment"), payment(order),
    h("div", { class: "columns" }, address("Shipping address", order.shipping_address), address("Billing address", order.billing_address)),
  );
}
