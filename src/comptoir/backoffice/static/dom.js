// Building the page: every value goes in as text (textContent, attribute values), never as
// HTML, so that a product name or a lead message holding markup is shown, not run.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// Replace what `el` holds (lists of children flattened, values as text).
export function fill(el, ...children) {
  return append(clear(el), children);
}

const moneyFormats = new Map();

export function money(amount, currency) {
  if (amount === null || amount === undefined) return "—";
  if (!moneyFormats.has(currency)) {
    moneyFormats.set(currency, new Intl.NumberFormat(undefined, { style: "currency", currency }));
  }
  return moneyFormats.get(currency).format(Number(amount));
}

const numbers = new Intl.NumberFormat();
export const number = (n) => numbers.format(n);

const stamps = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
export const when = (iso) => (iso ? stamps.format(new Date(iso)) : "—");

export function table(columns, rows, onPick) {
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)));
  const body = rows.map((row) => {
    const cells = columns.map((c, i) => {
      const value = c.value(row);
      if (i === 0 && onPick) {
        return h("td", {}, h("button", { class: "link", type: "button", onclick: () => onPick(row) }, value));
      }
      return h("td", c.numeric ? { class: "num" } : {}, value);
    });
    return h("tr", { "data-id": row.id ?? null }, cells);
  });
  if (!rows.length) {
    body.push(h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, "Nothing here.")));
  }
  return h("div", { class: "scroll" }, h("table", {}, h("thead", {}, head), h("tbody", {}, body)));
}

export function field(label, control) {
  const id = control.id || `f-${Math.random().toString(36).slice(2)}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

export function status(text) {
  return h("p", { role: "status", class: "loading" }, text);
}

export function alert(text) {
  return h("p", { role: "alert", class: "error" }, text);
}

// A confirmation in a modal <dialog>: resolves true when the admin confirms.
export function confirmAction(question, confirmLabel) {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": "confirm-title" },
      h("h2", { id: "confirm-title" }, question),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "danger", id: "confirm-yes", onclick: () => done(true) }, confirmLabel),
        h("button", { type: "button", id: "confirm-no", autofocus: true, onclick: () => done(false) }, "Keep it as it is"),
      ),
    );
    function done(answer) {
      dialog.close();
      dialog.remove();
      resolve(answer);
    }
    dialog.addEventListener("cancel", () => done(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}
