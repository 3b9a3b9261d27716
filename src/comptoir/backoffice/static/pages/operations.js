// Operations: what `comptoir db stats` shows, read-only.

import { get } from "../api.js";
import { fill, h, table } from "../dom.js";

export async function operations(main) {
  const stats = await get("/v1/admin/db/stats");
  fill(main, 
    h("h1", {}, "Operations"),
    h("p", {}, "The database's health, as `comptoir db stats` shows it. Read-only: `comptoir db maintain` acts on it."),
    stats.sections.map((section) => {
      const columns = Object.keys(section.rows[0] ?? {}).map((key) => ({
        label: key,
        value: (row) => (row[key] === null ? "" : String(row[key])),
        numeric: typeof section.rows[0][key] === "number",
      }));
      return h("section", { class: "stats" },
        h("h2", {}, section.title),
        section.hint ? h("p", { class: "hint" }, section.hint)
          : section.rows.length ? table(columns, section.rows) : h("p", {}, "None."));
    }),
  );
}
