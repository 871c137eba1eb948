// /teams/{teamId}/projects/{projectId}/versions/{versionId}: one version,
// its edit form (every field), its history (every revision, who made it,
// what changed) with restore, and its delete. A deleted version's page
// shows its history, so it can be restored.

import * as api from "./api.js";
import { actorText, describeVersion, formatValue, when } from "./activity-feed.js";
import { code, confirm, h, heading, status, time } from "./ui.js";
import { versionForm } from "./version-form.js";

/** The fields a revision holds that a person set (not ids or timestamps). */
const FIELDS = [
  "appName", "appVersion", "platform", "environment", "forceUpgrade", "active",
  "message", "messageLocale", "customAttributes", "internalNotes",
];

/** The fields that differ from `before` to `after`: [[field, before, after]]. */
function differences(before, after) {
  const norm = (value) => JSON.stringify(value ?? null);
  return FIELDS.filter((name) => norm(before?.[name]) !== norm(after?.[name]))
    .map((name) => [name, before?.[name] ?? null, after?.[name] ?? null]);
}

function changeItems(diffs) {
  return diffs.map(([name, before, after]) => h("li", { dataset: { field: name } },
    code(name), " ", formatValue(before), h("span", { className: "arrow" }, " → "), formatValue(after)));
}

/** Revisions listed before "Older revisions". */
const SHOWN_REVISIONS = 10;

const ACTIONS = {
  "version.created": "Created",
  "version.updated": "Updated",
  "version.deleted": "Deleted",
  "version.restored": "Restored",
};

export default async function versionView(ctx) {
  const { teamId, projectId, versionId } = ctx.params;
  const projectUrl = `/teams/${teamId}/projects/${projectId}`;
  const [project, version, revisions] = await Promise.all([
    api.projects.get(teamId, projectId),
    api.versions.get(teamId, projectId, versionId).catch((err) => err),
    api.versions.history(teamId, projectId, versionId).catch((err) => err),
  ]);
  if (version instanceof Error) {
    // Deleted: its history still has it, and can bring it back.
    if (!(version instanceof api.ApiError && version.status === 404) || !Array.isArray(revisions)
      || !revisions[0]?.deleted) throw version;
    return deletedView(ctx, { project, revisions, projectUrl });
  }
  const title = `${version.appName} ${version.appVersion}`;
  ctx.setTitle(`${title} · ${project.name}`);
  const said = status("version-status");

  const form = versionForm({
    id: "edit-version-form",
    version,
    submitLabel: "Save changes",
    busyLabel: "Saving…",
    onSubmit: async (fields) => {
      said.say("");
      const saved = await api.versions.update(teamId, projectId, versionId, fields);
      await ctx.navigate(location.pathname, { replace: true, flash: `Saved ${saved.appName} ${saved.appVersion}.` });
    },
  });

  const remove = h("button", {
    type: "button",
    id: "delete-version",
    className: "danger",
    onclick: () => confirm({
      title: "Delete version?",
      text: ["Delete ", h("strong", {}, `${title} (${version.platform}, ${version.environment})`),
        " from ", h("strong", {}, project.name), "? Apps on it are no longer told to upgrade. ",
        "Its history keeps it: it can be restored from there."],
      confirmLabel: "Delete version",
      busyLabel: "Deleting…",
      action: async () => {
        await api.versions.remove(teamId, projectId, versionId);
        await ctx.navigate(projectUrl, { flash: `Version ${title} (${version.platform}, ${version.environment}) deleted.` });
      },
    }),
  }, "Delete version…");

  const facts = [
    ["Version ID", code(version.id)],
    ["Force upgrade", h("span", { id: "fact-force-upgrade" }, version.forceUpgrade ? "On" : "Off")],
    ["Active", version.active ? "Yes" : "No"],
    Array.isArray(revisions) && revisions[0] ? ["Revision", String(revisions[0].revision)] : null,
    ["Created", time(version.createdAt)],
    ["Updated", time(version.updatedAt)],
  ];
  ctx.show(
    crumbs(ctx, project, projectUrl, title),
    heading(`${title} · ${version.platform} · ${version.environment}`),
    said,
    h("dl", { className: "facts" }, facts.filter(Boolean).map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    h("p", {}, h("a", { href: `/teams/${teamId}/activity?project=${encodeURIComponent(projectId)}`, id: "version-activity-link" },
      `Activity of ${project.name}`)),
    h("section", { "aria-labelledby": "edit-title" },
      h("h2", { id: "edit-title" }, "Edit"),
      form),
    historySection(ctx, { revisions, current: version, said }),
    h("div", { className: "danger-zone" },
      h("h2", {}, "Delete this version"),
      remove),
  );
  if (ctx.flash) said.say(ctx.flash);
}

function crumbs(ctx, project, projectUrl, title) {
  return h("nav", { className: "crumbs", "aria-label": "Breadcrumb" }, h("ol", {},
    h("li", {}, h("a", { href: `/teams/${ctx.params.teamId}/projects` }, ctx.team.name)),
    h("li", {}, h("a", { href: projectUrl }, project.name)),
    h("li", { "aria-current": "page" }, title)));
}

function deletedView(ctx, { project, revisions, projectUrl }) {
  const last = revisions[0];
  const title = `${last.version.appName} ${last.version.appVersion}`;
  ctx.setTitle(`${title} (deleted) · ${project.name}`);
  const said = status("version-status");
  ctx.show(
    crumbs(ctx, project, projectUrl, title),
    heading(`${title} · ${last.version.platform} · ${last.version.environment}`),
    said,
    h("p", { className: "notice", id: "version-deleted" },
      "This version was deleted ", when(last.at), " by ", actorText(last.actor),
      ". Apps on it are not told to upgrade. Restore a revision below to bring it back with the same ID."),
    historySection(ctx, { revisions, current: null, said }),
  );
  if (ctx.flash) said.say(ctx.flash);
}

/** Every revision, newest first, each with what it changed and a restore. */
function historySection(ctx, { revisions, current, said }) {
  const { teamId, projectId, versionId } = ctx.params;
  let body;
  if (revisions instanceof api.SessionEnded) throw revisions;
  if (revisions instanceof Error) {
    body = h("p", { className: "error", id: "history-error" }, `Cannot show the history: ${revisions.message}`);
  } else if (!revisions.length) {
    body = h("p", { className: "muted", id: "history-empty" },
      "No revision recorded yet: this version was last written before history was kept. Its next change starts it.");
  } else {
    const items = revisions.map((revision, i) => {
      const older = revisions[i + 1];
      const diffs = revision.deleted || !older ? [] : differences(older.version, revision.version);
      const isCurrent = i === 0 && !revision.deleted;
      const canRestore = !revision.deleted && i > 0;
      const described = describeVersion(revision.version);
      return h("li", { className: "event revision", dataset: { revision: String(revision.revision) } },
        h("h3", { className: "revision-title" }, `Revision ${revision.revision}`,
          isCurrent ? [" ", h("span", { className: "badge current" }, "Current")] : null,
          revision.deleted ? [" ", h("span", { className: "tag" }, "Deleted")] : null),
        h("p", { className: "event-meta" },
          `${ACTIONS[revision.action] ?? revision.action} by `, h("span", { className: "actor" }, actorText(revision.actor)),
          " · ", when(revision.at)),
        diffs.length ? h("ul", { className: "changes" }, changeItems(diffs))
          : h("p", { className: "muted changes-none" }, revision.deleted ? "The version was deleted."
            : older ? "No field changed." : `Created as ${described}.`),
        canRestore ? h("button", {
          type: "button",
          className: "small restore",
          "aria-label": `Restore revision ${revision.revision}`,
          onclick: () => askRestore(ctx, { revision, current, said }),
        }, "Restore…") : null);
    });
    // A long history: the newest in view, the rest one click away.
    body = [h("ol", { className: "events revisions", id: "history-list" }, items.slice(0, SHOWN_REVISIONS)),
      items.length > SHOWN_REVISIONS ? h("details", { className: "panel", id: "older-revisions" },
        h("summary", {}, `Older revisions (${items.length - SHOWN_REVISIONS})`),
        h("ol", { className: "events revisions" }, items.slice(SHOWN_REVISIONS))) : null];
  }
  return h("section", { "aria-labelledby": "history-title", id: "history" },
    h("h2", { id: "history-title" }, "History"),
    h("p", { className: "muted" }, "Every revision of this version, newest first. Restoring one writes its values back as a new revision."),
    body);
}

function askRestore(ctx, { revision, current }) {
  const { teamId, projectId, versionId } = ctx.params;
  const diffs = differences(current, revision.version);
  const what = describeVersion(revision.version);
  const text = h("div", {},
    h("p", {}, current
      ? ["Write revision ", String(revision.revision), " of ", h("strong", {}, what), " back as a new revision?"]
      : ["Bring back ", h("strong", {}, what), " as it was in revision ", String(revision.revision), "?"]),
    diffs.length && current
      ? [h("p", {}, "What changes (current → restored):"), h("ul", { className: "changes", id: "restore-changes" }, changeItems(diffs))]
      : current ? h("p", { id: "restore-changes" }, "Nothing changes: the current version has the same values.") : null);
  return confirm({
    title: `Restore revision ${revision.revision}?`,
    text,
    confirmLabel: "Restore",
    busyLabel: "Restoring…",
    action: async () => {
      try {
        await api.versions.restore(teamId, projectId, versionId, revision.revision);
      } catch (err) {
        if (err instanceof api.ApiError && err.status === 409) {
          throw new api.ApiError(409, /already exists/.test(err.message)
            ? `Not restored: another version of this project is now ${what}. `
              + "Change or delete that one first, then restore this revision."
            : `Not restored: ${err.message}`);
        }
        throw err;
      }
      await ctx.navigate(location.pathname, { replace: true, flash: `Restored revision ${revision.revision} of ${what}.` });
    },
  });
}
