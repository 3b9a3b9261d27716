// Analytics: events by type, period, user and payload, with the daily chart of the rollup.

import { dayAfter, dayStart, get } from "../api.js";
import { fill, field, h, table, when } from "../dom.js";
import { eventsChart } from "./dashboard.js";

export async function analytics(main, rest, params) {
  const f = Object.fromEntries(["type", "from", "to", "user_id", "payload"].map((k) => [k, params.get(k) ?? ""]));
  const inputs = {
    type: h("input", { name: "type", value: f.type }),
    from: h("input", { type: "date", name: "from", value: f.from }),
    to: h("input", { type: "date", name: "to", value: f.to }),
    user_id: h("input", { name: "user_id", value: f.user_id, placeholder: "a user's id" }),
    payload: h("input", { name: "payload", value: f.payload, placeholder: '{"q": "lampe"}' }),
  };
  const summaryQuery = f.from && f.to ? { from: f.from, to: f.to } : {};
  const [summary] = await Promise.all([get("/v1/admin/events/summary", summaryQuery)]);
  const list = h("div");
  fill(main, 
    h("h1", {}, "Analytics"),
    eventsChart(summary),
    h("form", { class: "filters", onsubmit: (e) => {
      e.preventDefault();
      const next = new URLSearchParams(Object.entries(inputs).map(([k, el]) => [k, el.value]));
      location.hash = `#/analytics?${next}`;
    } },
      field("Type", inputs.type), field("From", inputs.from), field("To", inputs.to),
      field("User", inputs.user_id), field("Payload contains", inputs.payload),
      h("button", { type: "submit" }, "Filter")),
    list,
  );
  const query = { type: f.type, from: dayStart(f.from), to: dayAfter(f.to), user_id: f.user_id, payload: f.payload };
  await page(list, query, null);
}

async function page(list, query, cursor) {
  const result = await get("/v1/admin/events", { ...query, limit: 25, cursor });
  list.append(table([
    { label: "When", value: (e) => when(e.created_at) },
    { label: "Type", value: (e) => e.event_type },
    { label: "User", value: (e) => (e.user_id ? h("a", { href: `#/analytics?user_id=${e.user_id}` }, e.user_id.slice(0, 8)) : "—") },
    { label: "Payload", value: (e) => h("code", { class: "payload" }, JSON.stringify(e.payload)) },
  ], result.items));
  if (result.next_cursor) {
    const more = h("button", { type: "button", class: "more", onclick: async () => {
      more.remove();
      await page(list, query, result.next_cursor);
    } }, "More events");
    list.append(more);
  }
}
