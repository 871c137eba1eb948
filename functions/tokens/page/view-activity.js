// /teams/{teamId}/activity: who changed what in the team (members,
// projects, API keys), and with ?project={projectId} in one project (its
// versions). Which one is in the URL, like every filter.

import * as api from "./api.js";
import { activityFeed, describeVersion } from "./activity-feed.js";
import { field, h, heading } from "./ui.js";

export default async function activityView(ctx) {
  const { teamId } = ctx.params;
  const projectId = ctx.query.get("project") || null;
  const base = `/teams/${teamId}/activity`;
  const projects = await api.projects.list(teamId).catch((err) => err);
  if (projects instanceof api.SessionEnded) throw projects;
  let project = null;
  if (projectId) {
    project = Array.isArray(projects) ? projects.find((p) => p.id === projectId) : null;
    // Not in the list (deleted, or the list failed): the project itself says.
    project ??= await api.projects.get(teamId, projectId);
  }
  ctx.setTitle(project ? `Activity · ${project.name}` : `Activity · ${ctx.team.name}`);

  const choices = [["", `Team: members, projects, API keys`],
    ...(Array.isArray(projects) ? projects : project ? [project] : [])
      .map((p) => [p.id, `Project: ${p.name}`])];
  const scope = field({
    label: "Show the activity of",
    name: "project",
    input: h("select", {}, choices.map(([value, text]) => h("option", { value, selected: value === (projectId ?? "") }, text))),
  });
  const picker = h("form", { id: "activity-scope", className: "filters", role: "search", "aria-label": "Whose activity" },
    scope,
    h("div", { className: "filter-actions" }, h("button", { type: "submit", id: "activity-scope-apply" }, "Show")));
  picker.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = picker.elements.project.value;
    ctx.navigate(value ? `${base}?project=${encodeURIComponent(value)}` : base);
  });

  const feed = project
    ? activityFeed({
      id: "activity",
      load: (cursor) => api.activity.project(teamId, project.id, cursor),
      resolve: versionLabels(teamId, project.id),
      emptyText: "Nothing yet: changes to this project's versions appear here, newest first.",
    })
    : activityFeed({
      id: "activity",
      load: (cursor) => api.activity.team(teamId, cursor),
      resolve: teamLabels(teamId, Array.isArray(projects) ? projects : []),
      emptyText: "Nothing yet: changes to the team's members, projects and API keys appear here, newest first.",
      notFoundText: "This deployment does not record the team's activity yet. Choose a project above for the activity of its versions.",
    });

  const projectUrl = project && `/teams/${teamId}/projects/${project.id}`;
  ctx.show(
    h("nav", { className: "crumbs", "aria-label": "Breadcrumb" }, h("ol", {},
      h("li", {}, h("a", { href: `/teams/${teamId}/projects` }, ctx.team.name)),
      project ? h("li", {}, h("a", { href: projectUrl }, project.name)) : null,
      h("li", { "aria-current": "page" }, "Activity"))),
    heading(project ? `Activity · ${project.name}` : "Activity"),
    h("p", { className: "lead" }, project
      ? "Every change to this project's versions: who made it, when, from where, and each field before and after."
      : "Every change to the team: members, projects and API keys. A project's versions have their own activity."),
    picker,
    h("section", { "aria-labelledby": "events-title" },
      h("h2", { id: "events-title" }, "Events, newest first"),
      feed),
  );
}

/**
 * The versions an event names, as "Wallpaper App 1.2.0 (android,
 * production)" with a link: from the project's versions, and for one no
 * longer there (deleted), from its history.
 */
function versionLabels(teamId, projectId) {
  let listed = false;
  const href = (id) => `/teams/${teamId}/projects/${projectId}/versions/${encodeURIComponent(id)}`;
  return async (events, labels) => {
    const wanted = () => [...new Set(events.filter((e) => e.target?.kind === "version").map((e) => e.target.id))]
      .filter((id) => !labels.has(id));
    if (!wanted().length) return;
    if (!listed) {
      listed = true;
      const page = await api.versions.list(teamId, projectId, { limit: 100, sortBy: "updatedAt:desc" }).catch(() => null);
      for (const version of page?.results ?? []) labels.set(version.id, { text: describeVersion(version), href: href(version.id) });
    }
    await Promise.all(wanted().map(async (id) => {
      const revisions = await api.versions.history(teamId, projectId, id).catch(() => []);
      const latest = revisions[0];
      if (latest) {
        const text = describeVersion(latest.version) + (latest.deleted ? " — deleted" : "");
        labels.set(id, { text, href: href(id) });
      }
    }));
  };
}

/** The team's members by id (an actor or a target without its email), and its projects with links. */
function teamLabels(teamId, projects) {
  let members = null;
  return async (events, labels) => {
    for (const project of projects) {
      labels.set(project.id, { text: project.name, href: `/teams/${teamId}/projects/${encodeURIComponent(project.id)}` });
    }
    const unknown = events.some((e) => (!e.actor?.email && !labels.has(`user:${e.actor?.userId}`))
      || (e.target?.kind === "member" && !labels.has(`user:${e.target.id}`)));
    if (!unknown || members) return;
    members = await api.teams.members(teamId).catch(() => ({ results: [] }));
    for (const member of members.results ?? []) labels.set(`user:${member.userId}`, { text: member.email });
  };
}
