// The shop at a glance: GET /v1/admin/dashboard (orders and stock, read through indexes),
// the events' daily rollup, and the newest leads.

import { get } from "../api.js";
import { barChart } from "../chart.js";
import { fill, h, money, number, table, when } from "../dom.js";

function figure(id, label, value, shown) {
  return h("div", { class: "figure" }, h("span", { class: "label" }, label),
    h("strong", { id, "data-value": value }, shown));
}

export async function dashboard(main) {
  const weekAgo = new Date(Date.now() - 7 * 86400_000).toISOString();
  const [board, summary, newLeads] = await Promise.all([
    get("/v1/admin/dashboard"),
    get("/v1/admin/events/summary"),
    get("/v1/admin/leads", { from: weekAgo, limit: 5 }),
  ]);
  const cur = board.currency;
  const days = board.days.map((d) => d.day);
  fill(main, 
    h("h1", {}, "Dashboard"),
    h("section", { class: "figures", "aria-label": "Today and this month" },
      figure("today-orders", "Orders today", board.today.orders, number(board.today.orders)),
      figure("today-revenue", "Revenue today", board.today.revenue, money(board.today.revenue, cur)),
      figure("month-orders", "Orders this month", board.month.orders, number(board.month.orders)),
      figure("month-revenue", "Revenue this month", board.month.revenue, money(board.month.revenue, cur)),
    ),
    h("section", { "aria-labelledby": "by-status" },
      h("h2", { id: "by-status" }, "Orders by status (30 days)"),
      h("ul", { class: "statuses" }, Object.entries(board.by_status).map(([s, n]) =>
        h("li", {}, h("a", { href: `#/orders?status=${s}` }, h("span", { class: `badge ${s}` }, s), " ",
          h("strong", { "data-status": s, "data-value": n }, number(n))))))),
    h("section", { class: "charts" },
      barChart({ title: "Orders per day", days, series: [{ label: "orders", cls: "s0", values: board.days.map((d) => d.orders) }], format: (v) => number(Math.round(v)) }),
      barChart({ title: "Revenue per day", days, series: [{ label: "revenue", cls: "s1", values: board.days.map((d) => Number(d.revenue)) }], format: (v) => money(v, cur) }),
      eventsChart(summary),
    ),
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "new-leads" }, h("h2", { id: "new-leads" }, "New leads (7 days)"),
        table([
          { label: "When", value: (l) => when(l.created_at) },
          { label: "Name", value: (l) => l.name },
          { label: "Email", value: (l) => l.email },
        ], newLeads.items)),
      h("section", { "aria-labelledby": "low-stock" }, h("h2", { id: "low-stock" }, "Low on stock"),
        table([
          { label: "Product", value: (p) => h("a", { href: `#/products/${p.id}` }, p.name) },
          { label: "Stock", value: (p) => number(p.stock), numeric: true },
        ], board.low_stock)),
    ),
  );
}

// The rollup lists only the days and types that had events: every day of the period gets a
// bar, zero when it had none.
export function eventsChart(summary) {
  const days = [];
  for (let d = new Date(`${summary.from}T00:00:00Z`); d <= new Date(`${summary.to}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  const types = [...new Set(summary.items.map((i) => i.event_type))].sort();
  const counts = new Map(summary.items.map((i) => [`${i.day} ${i.event_type}`, i.count]));
  return barChart({
    title: "Events per day, by type",
    days,
    series: types.map((t, i) => ({ label: t, cls: `s${i % 6}`, values: days.map((d) => counts.get(`${d} ${t}`) ?? 0) })),
    format: (v) => number(Math.round(v)),
  });
}
