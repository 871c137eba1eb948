// /teams/{teamId}/projects/{projectId}: the ids and CI snippets, the versions
// table (search, filters, sort and page in the URL; a force-upgrade switch
// per row that saves at once), a new-version form, the API keys, and the
// project's settings (rename, describe, delete).

import * as api from "./api.js";
import {
  busy, cell, clearErrors, confirm, copyable, errorLine, field, h, heading, pager, secretPanel,
  showErrors, snippet, status, table, time,
} from "./ui.js";
import { versionForm } from "./version-form.js";

export const SORTS = [
  ["createdAt:desc", "Newest first"],
  ["createdAt:asc", "Oldest first"],
  ["updatedAt:desc", "Recently updated"],
  ["appName:asc,appVersion:desc", "App name, A–Z"],
  ["appVersion:desc", "Version, highest first"],
  ["appVersion:asc", "Version, lowest first"],
  ["platform:asc", "Platform"],
  ["environment:asc", "Environment"],
];
const LIMITS = ["10", "25", "50", "100"];
const DEFAULTS = { page: "1", limit: "10", sortBy: "createdAt:desc" };
const FILTERS = ["name", "forceUpgrade", "active", "sortBy", "limit", "page"];

/** The list's query from the URL: only what differs from the defaults. */
function listQuery(query) {
  const out = {};
  for (const name of FILTERS) {
    const value = query.get(name);
    if (value !== null && value !== "" && value !== DEFAULTS[name]) out[name] = value;
  }
  return out;
}

function href(base, query) {
  const search = new URLSearchParams(query).toString();
  return search ? `${base}?${search}` : base;
}

const SAFE_NAME = /^[A-Za-z0-9 ._-]{1,60}$/;

function githubSteps(project, teamId) {
  const url = location.origin;
  const app = SAFE_NAME.test(project.name) ? project.name : "Wallpaper App";
  const env = `  env:
    APP_UPGRADE_URL: ${url}
    APP_UPGRADE_TOKEN: \${{ secrets.APP_UPGRADE_TOKEN }}
    APP_UPGRADE_TEAM_ID: ${teamId}
    APP_UPGRADE_PROJECT_ID: ${project.id}`;
  const curl = `- name: Create App Upgrade version
${env}
  run: |
    curl --fail-with-body --request POST \\
      --url "\${APP_UPGRADE_URL}/api/v1/projects/\${APP_UPGRADE_PROJECT_ID}/versions?teamId=\${APP_UPGRADE_TEAM_ID}" \\
      --header "Authorization: Bearer \${APP_UPGRADE_TOKEN}" \\
      --header "Content-Type: application/json" \\
      --data '{
        "project": "'"\${APP_UPGRADE_PROJECT_ID}"'",
        "appName": "${app}",
        "appVersion": "'"\${GITHUB_REF_NAME}"'",
        "platform": "android",
        "environment": "production",
        "forceUpgrade": false,
        "message": "A new version is available.",
        "active": true
      }'`;
  const aau = `- name: Create or update the App Upgrade version
${env}
  run: |
    aau versions upsert \\
      --app-name "${app}" --app-version "\${GITHUB_REF_NAME#v}" \\
      --platform android --environment production \\
      --force-upgrade false --message "A new version is available."`;
  return { curl, aau };
}

export default async function projectView(ctx) {
  const { teamId, projectId } = ctx.params;
  const base = `/teams/${teamId}/projects/${projectId}`;
  const query = listQuery(ctx.query);
  const [project, list, keys] = await Promise.all([
    api.projects.get(teamId, projectId),
    api.versions.list(teamId, projectId, query).catch((err) => err),
    api.apiKeys.list(teamId, projectId).catch((err) => err),
  ]);
  for (const answer of [list, keys]) if (answer instanceof api.SessionEnded) throw answer;
  ctx.setTitle(`${project.name} · ${ctx.team.name}`);
  const steps = githubSteps(project, teamId);

  ctx.show(
    h("nav", { className: "crumbs", "aria-label": "Breadcrumb" }, h("ol", {},
      h("li", {}, h("a", { href: `/teams/${teamId}/projects` }, ctx.team.name)),
      h("li", {}, h("a", { href: `/teams/${teamId}/projects` }, "Projects")),
      h("li", { "aria-current": "page" }, project.name))),
    heading(project.name),
    h("p", { className: "view-links" }, h("a", { href: `/teams/${teamId}/activity?project=${encodeURIComponent(projectId)}`,
      id: "project-activity-link" }, "Activity: who changed what")),
    project.description ? h("p", { className: "lead", id: "project-description" }, project.description) : null,
    h("section", { className: "ids", "aria-label": "Identifiers" },
      copyable("Team ID", teamId, "team-id"),
      copyable("Project ID", project.id, "project-id")),
    versionsSection(ctx, { base, query, list, teamId, projectId }),
    keysSection(ctx, { keys, teamId, projectId, project }),
    h("section", { "aria-labelledby": "ci-title" },
      h("h2", { id: "ci-title" }, "Release from CI"),
      h("p", { className: "muted" },
        "Store a Personal Access Token with versions:write as the repository secret APP_UPGRADE_TOKEN (",
        h("a", { href: "/account/tokens" }, "Access Tokens"),
        "); the other values are this project's."),
      snippet("GitHub Actions step (curl)", steps.curl, "snippet-curl"),
      snippet("GitHub Actions step (aau)", steps.aau, "snippet-aau")),
    settingsSection(ctx, { project, teamId, projectId, keys }),
  );
  if (ctx.flash) document.getElementById("versions-status")?.say(ctx.flash);
}

// --- Versions -----------------------------------------------------------------------

function select(name, label, options, value) {
  return field({
    label, name,
    input: h("select", {}, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))),
  });
}

function versionsSection(ctx, { base, query, list, teamId, projectId }) {
  const said = status("versions-status");
  const filters = h("form", { id: "version-filters", className: "filters", role: "search", "aria-label": "Filter versions" },
    field({ label: "Search app name", name: "name", type: "search", value: query.name ?? "", autocomplete: "off" }),
    select("forceUpgrade", "Force upgrade", [["", "Any"], ["true", "On"], ["false", "Off"]], query.forceUpgrade ?? ""),
    select("active", "Active", [["", "Any"], ["true", "Active"], ["false", "Inactive"]], query.active ?? ""),
    select("sortBy", "Sort", SORTS, query.sortBy ?? DEFAULTS.sortBy),
    select("limit", "Per page", LIMITS.map((n) => [n, n]), query.limit ?? DEFAULTS.limit),
    h("div", { className: "filter-actions" },
      h("button", { type: "submit", id: "apply-filters" }, "Apply"),
      Object.keys(query).length ? h("a", { href: base, className: "button-link", id: "clear-filters" }, "Clear") : null));
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = {};
    for (const name of ["name", "forceUpgrade", "active", "sortBy", "limit"]) {
      const value = filters.elements[name].value.trim();
      if (value && value !== DEFAULTS[name]) next[name] = value;
    }
    ctx.navigate(href(base, next));
  });

  let body;
  if (list instanceof Error) {
    body = h("p", { className: "error", id: "versions-error" }, list.message);
  } else if (!list.results.length) {
    body = h("p", { id: "no-versions", className: "muted" },
      Object.keys(query).some((k) => ["name", "forceUpgrade", "active"].includes(k))
        ? "No version matches these filters."
        : "No versions yet. Create one below, or from CI with the steps further down.");
  } else {
    const [sortKey, sortOrder] = (query.sortBy ?? DEFAULTS.sortBy).split(",")[0].split(":");
    const order = sortOrder === "asc" ? "ascending" : "descending";
    const column = (label, key) => ({ label, sorted: key === sortKey ? order : null });
    body = [
      table({
        id: "version-table",
        caption: "Versions",
        hideCaption: true,
        columns: [column("App name", "appName"), column("Version", "appVersion"), column("Platform", "platform"),
          column("Environment", "environment"), { label: "Force upgrade" }, { label: "Active" },
          column("Updated", "updatedAt")],
        rows: list.results.map((version) => versionRow(ctx, version, { teamId, projectId, said })),
      }),
      pager(list, (page) => href(base, { ...query, page: String(page) }), "versions"),
    ];
  }

  const createForm = versionForm({
    id: "new-version-form",
    submitLabel: "Create version",
    busyLabel: "Creating…",
    onSubmit: async (fields) => {
      const created = await api.versions.create(teamId, projectId, fields);
      await ctx.navigate(base, { flash: `Version ${created.appName} ${created.appVersion} created.` });
    },
  });
  return h("section", { "aria-labelledby": "versions-title" },
    h("h2", { id: "versions-title" }, "Versions"),
    filters,
    said,
    body,
    h("details", { id: "new-version", className: "panel" },
      h("summary", {}, "New version"),
      createForm));
}

function describe(version) {
  return `${version.appName} ${version.appVersion} (${version.platform}, ${version.environment})`;
}

function versionRow(ctx, version, { teamId, projectId, said }) {
  let current = version;
  const state = h("span", { className: "switch-state", "aria-hidden": "true" }, version.forceUpgrade ? "On" : "Off");
  const toggle = h("input", {
    type: "checkbox",
    role: "switch",
    className: "switch",
    checked: version.forceUpgrade,
    "aria-label": `Force upgrade for ${describe(version)}`,
  });
  toggle.addEventListener("change", async () => {
    const wanted = toggle.checked;
    toggle.disabled = true;
    state.textContent = "Saving…";
    said.say(`Saving force upgrade for ${describe(current)}…`);
    try {
      current = await api.versions.update(teamId, projectId, current.id, { ...api.editable(current), forceUpgrade: wanted });
      said.say(`Saved: force upgrade is ${current.forceUpgrade ? "on" : "off"} for ${describe(current)}.`);
    } catch (err) {
      toggle.checked = !wanted;
      if (!(err instanceof api.SessionEnded)) said.say(`Not saved: ${err.message}`);
    } finally {
      toggle.disabled = false;
      state.textContent = toggle.checked ? "On" : "Off";
    }
  });
  return h("tr", { dataset: { versionId: version.id } },
    cell(h("a", { href: `/teams/${teamId}/projects/${projectId}/versions/${version.id}` }, version.appName), "th"),
    cell(h("code", {}, version.appVersion)),
    cell(version.platform),
    cell(version.environment),
    cell(h("label", { className: "switch-label" }, toggle, state)),
    cell(version.active ? "Active" : h("span", { className: "muted" }, "Inactive")),
    cell(time(version.updatedAt)));
}

// --- API keys ----------------------------------------------------------------------

function keysSection(ctx, { keys, teamId, projectId, project }) {
  const said = status("keys-status");
  const panelSlot = h("div", { id: "key-panel-slot" });
  const listSlot = h("div", { id: "key-list" });

  const renderKeys = (results) => {
    if (results instanceof Error) {
      listSlot.replaceChildren(h("p", { className: "error" }, results.message));
      return;
    }
    const sorted = [...results].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    listSlot.replaceChildren(sorted.length
      ? table({
        id: "key-table",
        caption: "API keys",
        hideCaption: true,
        columns: [{ label: "Name" }, { label: "Key" }, { label: "Created" }, { label: "Actions", hidden: true }],
        rows: sorted.map((key) => h("tr", { dataset: { keyId: key.id } },
          cell(key.name, "th"),
          cell(h("code", {}, key.hint)),
          cell(time(key.createdAt)),
          cell(h("button", {
            type: "button",
            className: "danger small",
            "aria-label": `Revoke API key ${key.name}`,
            onclick: () => revoke(key),
          }, "Revoke")))),
      })
      : h("p", { id: "no-keys", className: "muted" }, "No API key: apps cannot check this project until you create one."));
  };
  const reload = async () => renderKeys(await api.apiKeys.list(teamId, projectId).catch((err) => err));
  const revoke = (key) => confirm({
    title: "Revoke API key?",
    text: [
      "Revoke ", h("strong", {}, key.name), " (", h("code", {}, key.hint), ") of ", h("strong", {}, project.name),
      "? Apps that check with it get 401 within the check's cache time (30 seconds by default). This cannot be undone.",
    ],
    confirmLabel: "Revoke API key",
    busyLabel: "Revoking…",
    action: async () => {
      try {
        await api.apiKeys.revoke(teamId, projectId, key.id);
      } catch (err) {
        if (!(err instanceof api.ApiError && err.status === 404)) throw err;
      }
      await reload();
      said.say(`API key “${key.name}” revoked.`);
    },
  });

  const name = field({ label: "Name", name: "name", maxLength: 100, autocomplete: "off",
    hint: "Where it is used, for example: Android app." });
  const formError = errorLine("create-key-error");
  const button = h("button", { type: "submit", id: "create-key-button", className: "primary" }, "Create API key");
  const form = h("form", { id: "create-key-form", noValidate: true }, name, formError, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    await busy(button, "Creating…", null, async () => {
      try {
        const created = await api.apiKeys.create(teamId, projectId, form.elements.name.value);
        form.reset();
        panelSlot.replaceChildren(secretPanel({
          id: "new-key",
          title: `Your new API key “${created.name}”`,
          secret: created.apiKey,
          warning: "Copy the key now and put it in your app's configuration. It is displayed only once: "
            + "App Upgrade stores a secure hash and cannot display it again.",
          onDone: () => form.elements.name.focus(),
        }));
        await reload();
      } catch (err) {
        showErrors(form, err, formError, { name: "Name" });
      }
    });
  });
  renderKeys(keys);
  return h("section", { "aria-labelledby": "keys-title" },
    h("h2", { id: "keys-title" }, "API keys"),
    h("p", { className: "muted" }, "Your app sends one of these in the x-api-key header of its version check."),
    panelSlot,
    said,
    listSlot,
    h("h3", {}, "Create an API key"),
    form);
}

// --- Settings ------------------------------------------------------------------------

function settingsSection(ctx, { project, teamId, projectId, keys }) {
  const name = field({ label: "Name", name: "name", maxLength: 100, value: project.name, autocomplete: "off" });
  const description = field({ label: "Description", name: "description",
    input: h("textarea", { rows: 2, maxLength: 500, value: project.description ?? "" }) });
  const formError = errorLine("edit-project-error");
  const said = status("project-status");
  const button = h("button", { type: "submit", id: "save-project-button", className: "primary" }, "Save");
  const form = h("form", { id: "edit-project-form", noValidate: true }, name, description, formError, button, said);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    await busy(button, "Saving…", null, async () => {
      try {
        const updated = await api.projects.update(teamId, projectId, {
          name: form.elements.name.value,
          description: form.elements.description.value,
        });
        await ctx.navigate(`/teams/${teamId}/projects/${projectId}${location.search}`, { flash: `Project “${updated.name}” saved.` });
      } catch (err) {
        showErrors(form, err, formError, { name: "Name", description: "Description" });
      }
    });
  });
  const keyCount = Array.isArray(keys) ? keys.length : null;
  const remove = h("button", {
    type: "button",
    id: "delete-project",
    className: "danger",
    onclick: () => confirm({
      title: "Delete project?",
      text: [
        "Delete ", h("strong", {}, project.name), "? All its versions are deleted and ",
        keyCount === null ? "its API keys are" : `its ${keyCount} API key${keyCount === 1 ? " is" : "s are"}`,
        " revoked: apps that check with them get 401. This cannot be undone.",
      ],
      confirmLabel: "Delete project",
      busyLabel: "Deleting…",
      action: async () => {
        await api.projects.remove(teamId, projectId);
        await ctx.navigate(`/teams/${teamId}/projects`, { flash: `Project “${project.name}” deleted.` });
      },
    }),
  }, "Delete project…");
  return h("section", { "aria-labelledby": "settings-title" },
    h("h2", { id: "settings-title" }, "Project settings"),
    form,
    h("div", { className: "danger-zone" },
      h("h3", {}, "Delete this project"),
      h("p", {}, "Deletes its versions and revokes its API keys."),
      remove));
}
