// One activity list for every feed (a project's, a team's, the account's):
// newest first, each event as a sentence (what, to which thing), who made
// it, when (relative and exact), from where, and each changed field's
// before → after. "Load more" follows the API's cursor.

import { ApiError, SessionEnded, email, userId } from "./api.js";
import { busy, code, h } from "./ui.js";

const exactFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];

/** "3 minutes ago", "yesterday", "just now". */
export function relative(iso, now = Date.now()) {
  const seconds = (new Date(iso).getTime() - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relativeFormat.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

/** A `<time>` saying how long ago, with the exact time beside it. */
export function when(iso) {
  if (!iso) return "—";
  const exact = exactFormat.format(new Date(iso));
  return h("span", { className: "when" },
    h("time", { dateTime: iso, title: exact }, relative(iso)),
    h("span", { className: "exact" }, ` (${exact})`));
}

/** "Chrome 120 on Linux", "curl 8.5", "aau 0.3": enough to recognise it. */
export function shortAgent(agent) {
  if (!agent) return "";
  const product = [
    [/Edg\/([\d]+)/, "Edge"], [/Firefox\/([\d]+)/, "Firefox"], [/HeadlessChrome\/([\d]+)/, "Headless Chrome"],
    [/Chrome\/([\d]+)/, "Chrome"], [/Version\/([\d.]+).*Safari\//, "Safari"],
  ].find(([pattern]) => pattern.test(agent));
  const system = [
    [/Windows/, "Windows"], [/Android/, "Android"], [/iPhone|iPad/, "iOS"], [/Mac OS X/, "macOS"], [/Linux/, "Linux"],
  ].find(([pattern]) => pattern.test(agent));
  if (product) {
    const version = product[0].exec(agent)[1];
    return `${product[1]} ${version}${system ? ` on ${system[1]}` : ""}`;
  }
  // A tool: its first product token ("curl/8.5.0" → "curl 8.5.0").
  const first = agent.split(/\s+/)[0];
  const text = first.includes("/") ? first.replace("/", " ") : first;
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** A field's value as a person reads it. */
export function formatValue(value) {
  if (value === null || value === undefined) return h("span", { className: "muted" }, "(none)");
  if (value === "") return h("span", { className: "muted" }, "(empty)");
  let text = typeof value === "object" ? JSON.stringify(value) : String(value);
  if (typeof value === "object" && Object.keys(value).length === 0) {
    return h("span", { className: "muted" }, "(none)");
  }
  if (text.length > 120) text = `${text.slice(0, 119)}…`;
  return h("span", { className: "value" }, text);
}

/**
 * Who acted: their email, or the token and its owner. `labels` may know a
 * member's email (`user:{userId}` → { text }) when the event does not.
 */
export function actorText(actor, labels = new Map()) {
  if (!actor) return "Someone";
  // The signed-in person knows their own email when the event does not say.
  const mine = actor.userId && actor.userId === userId();
  const person = actor.email || (mine && email()) || labels.get(`user:${actor.userId}`)?.text
    || `user ${actor.userId}`;
  if (actor.kind === "pat") return `token “${actor.tokenName ?? actor.tokenId ?? "?"}” (owner ${person})`;
  return person;
}

/** `version` as "Wallpaper App 1.2.0 (android, production)". */
export function describeVersion(version) {
  return `${version.appName} ${version.appVersion} (${version.platform}, ${version.environment})`;
}

/** The fields' values after (or, when deleted, before) the event. */
function changed(event, side) {
  const out = {};
  for (const [name, change] of Object.entries(event.changes ?? {})) out[name] = change?.[side];
  return out;
}

/** What the event was done to, in words, from the event alone. */
function nameFromEvent(event) {
  const after = changed(event, "after");
  const before = changed(event, "before");
  const pick = (name) => after[name] ?? before[name];
  if (event.target?.kind === "version" && pick("appName") && pick("appVersion") && pick("platform")) {
    const all = event.action === "version.deleted" ? before : after;
    if (all.appName && all.appVersion && all.platform && all.environment) return describeVersion(all);
  }
  return pick("name") ?? pick("email") ?? pick("tokenName") ?? null;
}

/** " of project Wallpaper App" for an API key's event, when the key's project is known. */
function ofProject(event, labels) {
  const change = event.changes?.project;
  const id = change?.after ?? change?.before;
  if (typeof id !== "string") return "";
  const label = labels.get(id);
  return [" of project ", label?.href ? h("a", { href: label.href }, label.text) : (label?.text ?? id)];
}

const PHRASES = {
  "version.created": (x) => ["Created version ", x],
  "version.updated": (x) => ["Updated version ", x],
  "version.deleted": (x) => ["Deleted version ", x],
  "version.restored": (x, e) => ["Restored version ", x,
    e.restoredRevision !== undefined ? ` to revision ${e.restoredRevision}` : ""],
  "apiKey.created": (x, e, labels) => ["Created API key ", x, ofProject(e, labels)],
  "apiKey.revoked": (x, e, labels) => ["Revoked API key ", x, ofProject(e, labels)],
  "project.created": (x) => ["Created project ", x],
  "project.updated": (x) => ["Updated project ", x],
  "project.deleted": (x) => ["Deleted project ", x],
  "member.invited": (x) => ["Invited ", x],
  "member.joined": (x) => [x, " joined the team"],
  "member.removed": (x, e) => (e.target?.kind === "invitation"
    ? ["Withdrew the invitation of ", x]
    : e.actor?.userId && e.actor.userId === e.target?.id ? [x, " left the team"] : ["Removed ", x, " from the team"]),
  "member.roleChanged": (x) => ["Changed the role of ", x],
  "team.created": (x) => ["Created the team ", x],
  "team.updated": (x) => ["Updated the team ", x],
  "token.created": (x) => ["Created token ", x],
  "token.rotated": (x) => ["Rotated token ", x],
  "token.revoked": (x) => ["Revoked token ", x],
  "token.reuseDetected": (x) => ["Detected the reuse of a rotated token ", x, " (the token was revoked)"],
};

/** The event's changes: before → after for an update, the values for a create or delete. */
function changeList(event, labels) {
  // An id the page knows (a project's) reads as its name.
  const value = (v) => formatValue(typeof v === "string" && labels.has(v) ? labels.get(v).text : v);
  const entries = Object.entries(event.changes ?? {});
  if (!entries.length) return null;
  const created = entries.every(([, c]) => c?.before === null || c?.before === undefined);
  const deleted = entries.every(([, c]) => c?.after === null || c?.after === undefined);
  const items = entries.map(([name, change]) => {
    if (created || deleted) {
      return h("li", { dataset: { field: name } }, code(name), " ", value(created ? change.after : change.before));
    }
    return h("li", { dataset: { field: name } },
      code(name), " ", value(change?.before), h("span", { className: "arrow" }, " → "), value(change?.after));
  });
  const list = h("ul", { className: "changes" }, items);
  if (!(created || deleted) || entries.length <= 2) return list;
  // A create or delete names every field: folded, so the list stays a list of events.
  return h("details", { className: "change-details" },
    h("summary", {}, `${created ? "Values" : "Values when deleted"} (${entries.length} fields)`), list);
}

/** One event as a list item. `labels`: target id → { text, href }. */
export function eventItem(event, labels = new Map()) {
  const label = labels.get(event.target?.id) ?? labels.get(`user:${event.target?.id}`);
  // The phrase names the kind ("Rotated token …"): without a name, the id.
  const text = label?.text ?? nameFromEvent(event) ?? event.target?.id ?? "?";
  const target = label?.href ? h("a", { href: label.href }, text) : h("strong", {}, text);
  const phrase = PHRASES[event.action]?.(target, event, labels) ?? [`${event.action} `, target];
  const origin = [
    event.sourceIp ? ["from ", h("span", { className: "ip" }, event.sourceIp)] : null,
    event.userAgent ? h("span", { className: "agent", title: event.userAgent }, shortAgent(event.userAgent)) : null,
  ].filter(Boolean);
  return h("li", { className: "event", dataset: { eventId: event.id, action: event.action } },
    h("p", { className: "event-what" }, phrase),
    h("p", { className: "event-meta" },
      "By ", h("span", { className: "actor" }, actorText(event.actor, labels)), " · ", when(event.at),
      origin.length ? [" · ", origin.flatMap((part, i) => (i ? [", ", part] : [part]))] : null),
    changeList(event, labels));
}

/**
 * A feed: `load(cursor)` answers a page, `resolve(events, labels)` may fill
 * `labels` (target id → { text, href }) before they are shown. `id` prefixes
 * the list (`${id}-list`), its empty, error and "Load more" elements. The
 * element's `reload()` shows the first page again.
 */
export function activityFeed({ id, load, resolve, emptyText, notFoundText }) {
  const labels = new Map();
  const list = h("ol", { className: "events", id: `${id}-list` });
  const said = h("p", { className: "visually-hidden", role: "status", id: `${id}-status` });
  const error = h("p", { className: "error", id: `${id}-error`, role: "alert" });
  const more = h("button", { type: "button", id: `${id}-more`, hidden: true }, "Load more");
  const note = h("p", { className: "muted empty", id: `${id}-note`, hidden: true });
  const root = h("div", { className: "feed", id }, note, list, error, said, more);
  let cursor = null;
  let loads = 0;

  const add = async (page) => {
    const events = page?.results ?? [];
    if (resolve) await resolve(events, labels).catch((err) => console.error(err));
    list.append(...events.map((event) => eventItem(event, labels)));
    cursor = page?.nextCursor ?? null;
    more.hidden = !cursor;
    return events.length;
  };

  const say = (noteId, text) => {
    note.id = `${id}-${noteId}`;
    note.textContent = text;
    note.hidden = false;
  };

  root.reload = async () => {
    const mine = ++loads;
    const loading = h("p", { className: "loading", role: "status" }, "Loading activity…");
    root.prepend(loading);
    try {
      const page = await load(null);
      if (mine !== loads) return;
      list.replaceChildren();
      note.hidden = true;
      error.textContent = "";
      if (!(await add(page))) say("empty", emptyText);
    } catch (err) {
      if (err instanceof SessionEnded || mine !== loads) return;
      if (err instanceof ApiError && err.status === 404 && notFoundText) {
        // Not an error of the person's: this deployment has no such feed yet.
        say("unavailable", notFoundText);
        return;
      }
      error.textContent = `Cannot show the activity: ${err.message}`;
      if (!(err instanceof ApiError)) console.error(err);
    } finally {
      loading.remove();
    }
  };

  more.addEventListener("click", () => busy(more, "Loading…", error, async () => {
    const count = await add(await load(cursor));
    said.textContent = `${count} more ${count === 1 ? "event" : "events"} shown.`;
  }));
  root.reload();
  return root;
}
