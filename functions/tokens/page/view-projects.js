// /teams/{teamId}/projects: the team's projects and a form to create one.

import * as api from "./api.js";
import { busy, cell, clearErrors, errorLine, field, h, heading, showErrors, status, table, time } from "./ui.js";

export default async function projectsView(ctx) {
  const { teamId } = ctx.params;
  ctx.setTitle(`Projects · ${ctx.team.name}`);
  const projects = await api.projects.list(teamId);
  projects.sort((a, b) => a.name.localeCompare(b.name));

  const name = field({ label: "Name", name: "name", maxLength: 100, autocomplete: "off",
    hint: "Usually your app's name, for example Wallpaper App." });
  const description = field({ label: "Description (optional)", name: "description",
    input: h("textarea", { rows: 2, maxLength: 500 }) });
  const formError = errorLine("create-project-error");
  const button = h("button", { type: "submit", id: "create-project-button", className: "primary" }, "Create project");
  const form = h("form", { id: "create-project-form", noValidate: true }, name, description, formError, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    await busy(button, "Creating…", null, async () => {
      try {
        const body = { name: form.elements.name.value };
        if (form.elements.description.value.trim()) body.description = form.elements.description.value;
        const project = await api.projects.create(teamId, body);
        await ctx.navigate(`/teams/${teamId}/projects/${project.id}`);
      } catch (err) {
        showErrors(form, err, formError, { name: "Name", description: "Description" });
      }
    });
  });

  const said = status("projects-status");
  if (ctx.flash) said.say(ctx.flash);
  ctx.show(
    h("p", { className: "crumbs" }, ctx.team.name),
    heading("Projects"),
    said,
    projects.length
      ? table({
        id: "project-table",
        caption: `Projects of ${ctx.team.name}`,
        hideCaption: true,
        columns: [{ label: "Name" }, { label: "Description" }, { label: "Created" }],
        rows: projects.map((project) => h("tr", { dataset: { projectId: project.id } },
          cell(h("a", { href: `/teams/${teamId}/projects/${project.id}` }, project.name), "th"),
          cell(project.description || h("span", { className: "muted" }, "—")),
          cell(time(project.createdAt)))),
      })
      : h("p", { id: "no-projects", className: "lead" },
        "This team has no project yet. A project holds an app's versions and the API key the app checks with."),
    h("section", { "aria-labelledby": "create-project-title" },
      h("h2", { id: "create-project-title" }, "Create a project"),
      form),
  );
}
