// The back office is a client of the public API, signed in by the session cookie that
// POST /v1/auth/session sets (httpOnly: no script reads the token). Unsafe requests carry
// the CSRF token, which the API gave at sign-in and keeps in the readable comptoir_csrf
// cookie.

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function csrf() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("comptoir_csrf="));
  return found ? decodeURIComponent(found.slice("comptoir_csrf=".length)) : "";
}

export async function call(method, path, { body, query, accept } = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(key, value);
  }
  const headers = { Accept: accept ?? "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!["GET", "HEAD"].includes(method)) headers["X-CSRF-Token"] = csrf();
  const response = await fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && path !== "/v1/auth/session") {
    window.dispatchEvent(new CustomEvent("comptoir:signed-out"));
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const problem = await response.json();
      detail = problem.detail || problem.title || detail;
    } catch {
      // not JSON: the status line says enough
    }
    throw new ApiError(response.status, detail);
  }
  if (response.status === 204) return null;
  if (accept && accept !== "application/json") return response.blob();
  return response.json();
}

export const get = (path, query) => call("GET", path, { query });
export const post = (path, body) => call("POST", path, { body });
export const patch = (path, body) => call("PATCH", path, { body });
export const del = (path) => call("DELETE", path);

// A CSV export: the API streams it; the browser saves it under the API's file name.
export async function download(path, query, filename) {
  const blob = await call("GET", path, { query, accept: "text/csv" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

// A date input's day as the start of that UTC day (an instant the API takes).
export function dayStart(day) {
  return day ? `${day}T00:00:00Z` : "";
}

export function dayAfter(day) {
  if (!day) return "";
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString();
}
