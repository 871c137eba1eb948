// The Access Tokens page's activity: the account's token events (created,
// rotated, revoked, reuse detected) with where each came from. Its own
// module so the token list and form stay as they are; view-tokens.js only
// mounts it.

import * as api from "./api.js";
import { activityFeed } from "./activity-feed.js";
import { h } from "./ui.js";

/**
 * The section, loading its first page by itself, and again whenever the
 * token list above is redrawn (a token created or revoked): the list's rows
 * are watched, so the tokens view needs no call into this one.
 */
export function tokenActivity() {
  const feed = activityFeed({
    id: "token-events",
    load: (cursor) => api.activity.account(cursor),
    // A rotation's event has no changes: the token's name is the list's.
    resolve: async (events, labels) => {
      if (!events.some((e) => e.target?.kind === "token" && !e.changes?.name && !labels.has(e.target.id))) return;
      for (const token of await api.tokens.list()) labels.set(token.id, { text: token.name });
    },
    emptyText: "No token activity yet.",
    notFoundText: "This deployment does not record token activity yet.",
  });
  const section = h("section", { "aria-labelledby": "token-activity-title", id: "token-activity" },
    h("h2", { id: "token-activity-title" }, "Token activity"),
    h("p", { className: "muted" },
      "Each token created, rotated or revoked, and any reuse of a rotated token, with where the request came from."),
    feed);
  const watch = new MutationObserver(() => {
    if (section.isConnected) feed.reload();
    else watch.disconnect();
  });
  queueMicrotask(() => {
    const rows = document.getElementById("token-rows");
    if (rows) watch.observe(rows, { childList: true });
  });
  return section;
}
