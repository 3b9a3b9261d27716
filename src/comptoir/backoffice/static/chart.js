// Bar charts in SVG, drawn from the API's numbers: no library, nothing from elsewhere.
// Sizes and colours are SVG attributes and CSS classes, never inline style (the CSP has no
// 'unsafe-inline').

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

// series: [{label, cls, values: [number per day]}]; stacked bars, one per day.
export function barChart({ title, days, series, format = String }) {
  const width = 720, height = 220, left = 72, bottom = 24, top = 12;
  const totals = days.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
  const most = Math.max(1, ...totals);
  const step = (width - left) / Math.max(1, days.length);
  const scale = (v) => ((height - bottom - top) * v) / most;
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": `${title}: ${days.length} days, highest ${format(most)}`,
    class: "chart",
  });
  root.append(svg("title", {}, title));
  for (const fraction of [0, 0.5, 1]) {
    const y = height - bottom - scale(most * fraction);
    root.append(svg("line", { x1: left, x2: width, y1: y, y2: y, class: "grid" }));
    root.append(svg("text", { x: left - 6, y: y + 4, class: "axis", "text-anchor": "end" }, format(most * fraction)));
  }
  days.forEach((day, i) => {
    let y = height - bottom;
    for (const s of series) {
      const value = s.values[i] || 0;
      if (!value) continue;
      const h = scale(value);
      y -= h;
      const bar = svg("rect", { x: left + i * step + 1, y, width: Math.max(1, step - 2), height: h, class: `bar ${s.cls}` });
      bar.append(svg("title", {}, `${day} ${s.label}: ${format(value)}`));
      root.append(bar);
    }
    if (i % 7 === 0) {
      root.append(svg("text", { x: left + i * step + step / 2, y: height - 6, class: "axis", "text-anchor": "middle" }, day.slice(5)));
    }
  });
  const legend = document.createElement("ul");
  legend.className = "legend";
  for (const s of series) {
    const item = document.createElement("li");
    const swatch = svg("svg", { width: 10, height: 10, "aria-hidden": "true" });
    swatch.append(svg("rect", { width: 10, height: 10, class: `bar ${s.cls}` }));
    item.append(swatch, ` ${s.label}`);
    legend.append(item);
  }
  const figure = document.createElement("figure");
  const caption = document.createElement("figcaption");
  caption.textContent = title;
  figure.append(caption, root);
  if (series.length > 1) figure.append(legend);
  return figure;
}
