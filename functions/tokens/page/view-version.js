// /teams/{teamId}/projects/{projectId}/versions/{versionId}: one version,
// its edit form (every field) and its delete.

import * as api from "./api.js";
import { code, confirm, h, heading, status, time } from "./ui.js";
import { versionForm } from "./version-form.js";

export default async function versionView(ctx) {
  const { teamId, projectId, versionId } = ctx.params;
  const projectUrl = `/teams/${teamId}/projects/${projectId}`;
  const [project, version] = await Promise.all([
    api.projects.get(teamId, projectId),
    api.versions.get(teamId, projectId, versionId),
  ]);
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
        " from ", h("strong", {}, project.name), "? Apps on it are no longer told to upgrade. This cannot be undone."],
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
    ["Force upgrade", version.forceUpgrade ? "On" : "Off"],
    ["Active", version.active ? "Yes" : "No"],
    ["Created", time(version.createdAt)],
    ["Updated", time(version.updatedAt)],
  ];
  ctx.show(
    h("nav", { className: "crumbs", "aria-label": "Breadcrumb" }, h("ol", {},
      h("li", {}, h("a", { href: `/teams/${teamId}/projects` }, ctx.team.name)),
      h("li", {}, h("a", { href: projectUrl }, project.name)),
      h("li", { "aria-current": "page" }, title))),
    heading(`${title} · ${version.platform} · ${version.environment}`),
    said,
    h("dl", { className: "facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    h("section", { "aria-labelledby": "edit-title" },
      h("h2", { id: "edit-title" }, "Edit"),
      form),
    h("section", { "aria-labelledby": "history-title" },
      h("h2", { id: "history-title" }, "History"),
      h("p", { className: "muted", id: "history-coming" },
        "Coming: every revision of this version, who made it, and one-click restore.")),
    h("div", { className: "danger-zone" },
      h("h2", {}, "Delete this version"),
      remove),
  );
  if (ctx.flash) said.say(ctx.flash);
}
