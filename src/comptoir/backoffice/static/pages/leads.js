// Leads: by period and email, and the CSV export of the same filters.

import { dayAfter, dayStart, download, get } from "../api.js";
import { alert, fill, field, h, status, table, when } from "../dom.js";

export async function leads(main, rest, params) {
  const f = { from: params.get("from") ?? "", to: params.get("to") ?? "", email: params.get("email") ?? "" };
  const query = { from: dayStart(f.from), to: dayAfter(f.to), email: f.email };
  const from = h("input", { type: "date", name: "from", value: f.from });
  const to = h("input", { type: "date", name: "to", value: f.to });
  const email = h("input", { type: "email", name: "email", value: f.email });
  const feedback = h("div", { "aria-live": "polite", id: "leads-feedback" });
  const list = h("div");
  fill(main, 
    h("h1", {}, "Leads"),
    h("form", { class: "filters", onsubmit: (e) => {
      e.preventDefault();
      location.hash = `#/leads?${new URLSearchParams({ from: from.value, to: to.value, email: email.value })}`;
    } }, field("From", from), field("To", to), field("Email", email),
      h("button", { type: "submit" }, "Filter"),
      h("button", { type: "button", id: "leads-csv", onclick: async () => {
        fill(feedback, status("Exporting…"));
        try {
          await download("/v1/admin/leads", query, "leads.csv");
          fill(feedback, status("leads.csv saved."));
        } catch (error) {
          fill(feedback, alert(error.message));
        }
      } }, "Export CSV")),
    feedback,
    list,
  );
  await page(list, query, null);
}

async function page(list, query, cursor) {
  const result = await get("/v1/admin/leads", { ...query, limit: 25, cursor });
  list.append(table([
    { label: "When", value: (l) => when(l.created_at) },
    { label: "Name", value: (l) => l.name },
    { label: "Email", value: (l) => l.email },
    { label: "Message", value: (l) => h("span", { class: "message" }, l.message) },
  ], result.items));
  if (result.next_cursor) {
    const more = h("button", { type: "button", class: "more", onclick: async () => {
      more.remove();
      await page(list, query, result.next_cursor);
    } }, "More leads");
    list.append(more);
  }
}
