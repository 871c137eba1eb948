// /account/tokens: the account's Personal Access Tokens: list, create (the
// secret shown once, optionally limited to some projects of the person's
// teams and some environments), replace one that expires soon, revoke one,
// revoke all.

import * as api from "./api.js";
import { cell, clearErrors, code, confirm, h, heading, secretPanel, showErrors, time } from "./ui.js";
import { tokenActivity } from "./view-token-activity.js";

const FIELD_LABELS = {
  name: "Name", scopes: "Permissions", expiresInDays: "Expiry", projects: "Projects", environments: "Environments",
};
const MAX_NAME = 100;
const SOON = 7 * 24 * 3600 * 1000;

export default async function tokensView(ctx) {
  ctx.setTitle("Access Tokens");
  const rows = h("tbody", { id: "token-rows" });
  const listStatus = h("p", { id: "list-status", role: "status" });
  const listTitle = h("h2", { id: "list-title", tabIndex: -1 }, "Your tokens");
  const revokeAllRow = h("p", { className: "revoke-all", id: "revoke-all-row", hidden: true },
    h("button", { type: "button", id: "revoke-all", className: "danger", onclick: () => askRevokeAll() }, "Revoke all tokens"));
  const panelSlot = h("div", { id: "new-token-slot" });
  const formStatus = h("p", { id: "create-status", role: "status", className: "status" });
  let shown = [];
  // Every project of the person's teams, for the form and for the list's
  // names: [{ id, name, teamName }].
  const projects = await teamProjects(ctx.teams());
  const projectName = new Map(projects.map((p) => [p.id, p.name]));

  const load = async () => {
    try {
      shown = await api.tokens.list();
      renderRows(shown);
      listStatus.textContent = shown.length ? "" : "You have no tokens yet.";
      revokeAllRow.hidden = !shown.length;
    } catch (err) {
      if (err instanceof api.SessionEnded) throw err;
      listStatus.textContent = err.message;
    }
  };

  const renderRows = (tokens) => {
    const now = Date.now();
    const extra = {
      projects: tokens.some((t) => Array.isArray(t.projects)),
      environments: tokens.some((t) => Array.isArray(t.environments)),
      ip: tokens.some((t) => t.lastUsedIp),
    };
    const heads = columns(extra);
    table.querySelector("thead tr").replaceChildren(...heads);
    rows.replaceChildren(...tokens.map((token) => {
      const row = h("tr", { dataset: { tokenId: token.id } });
      const expires = Date.parse(token.expiresAt);
      const expired = expires <= now;
      if (expired) row.classList.add("expired");
      const limits = (list, all, show) => (Array.isArray(list) && list.length
        ? h("ul", { className: "limits" }, list.map((item) => h("li", {}, show(item))))
        : all);
      const soon = !expired && expires - now < SOON;
      row.append(...[
        cell(token.name, "th"),
        cell(limits(token.scopes, "", code)),
        extra.projects ? cell(limits(token.projects, "All projects",
          (id) => (projectName.has(id) ? projectName.get(id) : code(id)))) : null,
        extra.environments ? cell(limits(token.environments, "All environments", code)) : null,
        cell([code(token.hint)]),
        cell([time(token.createdAt)]),
        cell(expired
          ? [tag("Expired"), " ", time(token.expiresAt)]
          : soon ? [time(token.expiresAt), " ", tag("Expires soon")] : [time(token.expiresAt)]),
        cell([
          token.lastUsedAt
            ? [time(token.lastUsedAt), extra.ip && token.lastUsedIp ? [h("br"), h("span", { className: "muted" }, `from ${token.lastUsedIp}`)] : null]
            : "Never",
          // A rotation's answer given again: CI retrying, or someone else
          // holding the old secret and the key.
          token.lastReplayAt ? [h("br"), h("span", { className: "muted replay" }, "Rotation replayed ",
            time(token.lastReplayAt), token.lastReplayIp ? ` from ${token.lastReplayIp}` : "")] : null,
        ]),
        cell(h("div", { className: "actions" },
          expired || soon ? h("button", {
            type: "button", className: "small", "aria-label": `Create a replacement for ${token.name}`,
            onclick: () => prefillReplacement(token),
          }, "Create replacement") : null,
          h("button", {
            type: "button", className: "danger small", "aria-label": `Revoke ${token.name}`,
            onclick: () => askRevoke(token),
          }, "Revoke"))),
      ].filter(Boolean));
      [...row.children].forEach((element, i) => {
        if (element.tagName === "TD" && i < heads.length - 1) element.dataset.label = heads[i].textContent;
      });
      return row;
    }));
  };

  const columns = (extra) => [
    "Name", "Permissions", extra.projects && "Projects", extra.environments && "Environments",
    "Token", "Created", "Expires", "Last used",
  ].filter(Boolean).map((label) => h("th", { scope: "col" }, label))
    .concat(h("th", { scope: "col" }, h("span", { className: "visually-hidden" }, "Actions")));

  const table = h("table", { id: "token-table", className: "stack" },
    h("caption", { className: "visually-hidden" }, "Your Personal Access Tokens"),
    h("thead", {}, h("tr", {}, columns({}))),
    rows);

  const askRevoke = (token) => confirm({
    title: "Revoke token?",
    text: ["Revoke ", h("strong", { id: "revoke-name" }, token.name),
      "? Anything that uses it stops working at once. This cannot be undone."],
    confirmLabel: "Revoke token",
    busyLabel: "Revoking…",
    action: async () => {
      try {
        await api.tokens.revoke(token.id);
      } catch (err) {
        // Already gone (revoked elsewhere): the list shows that.
        if (!(err instanceof api.ApiError && err.status === 404)) throw err;
      }
      await load();
      listStatus.textContent = `Token “${token.name}” revoked.`;
    },
  });

  const askRevokeAll = () => confirm({
    title: "Revoke all tokens?",
    text: ["Revoke ", h("strong", {}, "every"), " token of your account? Everything that uses any of them stops ",
      "working at once. Use this when a token may have leaked and you do not know which. This cannot be undone."],
    confirmLabel: "Revoke all tokens",
    busyLabel: "Revoking…",
    action: async () => {
      const { revoked } = await api.tokens.revokeAll();
      await load();
      listStatus.textContent = `All tokens revoked (${revoked}).`;
      listTitle.focus();
    },
  });

  // Create.
  const nameInput = h("input", { id: "token-name", name: "name", maxLength: 100, autocomplete: "off",
    "aria-describedby": "name-hint name-error" });
  const scope = (value, text, checked) => h("label", { className: "check" },
    h("input", { type: "checkbox", name: "scopes", value, checked }), " ", code(value), ` ${text}`);
  const expiry = h("select", { id: "token-expiry", name: "expiresInDays", "aria-describedby": "expiry-error" },
    [7, 30, 60, 90, 180, 366].map((days) => h("option", { value: String(days), selected: days === 90 }, `${days} days`)));
  const projectBoxes = projects.map((project) => h("label", { className: "check" },
    h("input", { type: "checkbox", name: "projects", value: project.id }),
    " ", project.name, h("span", { className: "muted" }, ` · ${project.teamName}`)));
  const projectsField = h("fieldset", { id: "token-projects", "aria-describedby": "projects-hint projects-error" },
    h("legend", {}, "Projects"),
    h("p", { id: "projects-hint", className: "hint" }, projects.length
      ? "Limit the token to some projects. None chosen: every project of your teams, now and later."
      : "Your teams have no projects yet: the token reaches every project of your teams."),
    projectBoxes,
    h("p", { id: "projects-error", className: "error field-error", dataset: { field: "projects" } }));
  const environmentsInput = h("input", { id: "token-environments", name: "environments", autocomplete: "off",
    placeholder: "staging, qa", "aria-describedby": "environments-hint environments-error" });
  const createError = h("p", { id: "create-error", className: "error", role: "alert" });
  const createButton = h("button", { type: "submit", id: "create-button", className: "primary" }, "Generate token");
  const form = h("form", { id: "create-form", noValidate: true },
    h("label", { for: "token-name" }, "Name"),
    nameInput,
    h("p", { id: "name-hint", className: "hint" }, "What is it for? For example: GitHub Actions production."),
    h("p", { id: "name-error", className: "error field-error", dataset: { field: "name" } }),
    h("fieldset", { "aria-describedby": "scopes-error" },
      h("legend", {}, "Permissions"),
      scope("versions:read", "list versions and retrieve a version", true),
      scope("versions:write", "create, update and delete versions", false),
      h("p", { id: "scopes-error", className: "error field-error", dataset: { field: "scopes" } })),
    projectsField,
    h("label", { for: "token-environments" }, "Environments"),
    environmentsInput,
    h("p", { id: "environments-hint", className: "hint" },
      "Comma-separated, for example staging, qa. Empty: every environment."),
    h("p", { id: "environments-error", className: "error field-error", dataset: { field: "environments" } }),
    h("label", { for: "token-expiry" }, "Expires in"),
    expiry,
    h("p", { id: "expiry-error", className: "error field-error", dataset: { field: "expiresInDays" } }),
    formStatus,
    createError,
    createButton);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = {
      name: nameInput.value,
      scopes: [...form.querySelectorAll('input[name="scopes"]:checked')].map((box) => box.value),
      expiresInDays: Number(expiry.value),
    };
    const chosen = [...form.querySelectorAll('input[name="projects"]:checked')].map((box) => box.value);
    if (chosen.length) body.projects = chosen;
    const environments = environmentsInput.value.split(",").map((e) => e.trim()).filter(Boolean);
    if (environments.length) body.environments = environments;
    formStatus.textContent = "";
    createButton.disabled = true;
    createButton.textContent = "Generating…";
    try {
      const created = await api.tokens.create(body);
      form.reset();
      panelSlot.replaceChildren(secretPanel({
        id: "new-token",
        title: "Your new token",
        secret: created.token,
        warning: "Copy and securely store the token now. The complete token is displayed only once: "
          + "App Upgrade stores a secure hash and cannot display it again.",
        onDone: () => nameInput.focus(),
      }));
      await load();
    } catch (err) {
      showErrors(form, err, createError, FIELD_LABELS);
    } finally {
      createButton.disabled = false;
      createButton.textContent = "Generate token";
    }
  });

  /** The create form, filled in for a replacement of `token`: a free name
   *  after its own, the same permissions and limits. */
  const prefillReplacement = (token) => {
    clearErrors(form);
    form.reset();
    nameInput.value = freeName(`${token.name} (replacement)`, shown.map((t) => t.name));
    for (const box of form.querySelectorAll('input[name="scopes"]')) box.checked = token.scopes.includes(box.value);
    for (const box of form.querySelectorAll('input[name="projects"]')) {
      box.checked = (token.projects ?? []).includes(box.value);
    }
    environmentsInput.value = (token.environments ?? []).join(", ");
    const missing = (token.projects ?? []).filter((id) => !projectName.has(id));
    formStatus.textContent = `Filled in from “${token.name}”: review and generate the replacement, `
      + "put it where the old one is used, then revoke the old one."
      + (missing.length ? ` ${missing.length} of its projects are no longer in your teams and were left out.` : "");
    form.scrollIntoView({ block: "start" });
    nameInput.focus();
  };

  await load();
  ctx.show(
    h("section", { id: "tokens", "aria-labelledby": "tokens-title" },
      h("p", { className: "crumbs" }, "Account"),
      Object.assign(heading("Access Tokens"), { id: "tokens-title" }),
      h("p", { className: "lead" },
        "Personal Access Tokens let scripts and CI/CD pipelines manage versions with ",
        code("Authorization: Bearer aau_…"),
        ". Treat a token like a password: never commit it, put it in frontend code or ship it in an app. "
        + "Grant each integration only the permissions it needs."),
      panelSlot,
      h("section", { "aria-labelledby": "create-title" },
        h("h2", { id: "create-title" }, "Generate a new token"),
        form),
      h("section", { "aria-labelledby": "list-title" },
        listTitle,
        listStatus,
        h("div", { className: "table-wrap" }, table),
        revokeAllRow),
      tokenActivity()),
  );
}

/** Every project of `teams`, by name within each team; a team whose
 *  projects cannot be read is left out (the form still works without). */
async function teamProjects(teams) {
  const lists = await Promise.all(teams.map(async (team) => {
    try {
      const list = await api.projects.list(team.id);
      return list.map((p) => ({ id: p.id, name: p.name, teamName: team.name }));
    } catch (err) {
      if (err instanceof api.SessionEnded) throw err;
      return [];
    }
  }));
  return lists.flat().sort((a, b) => a.teamName.localeCompare(b.teamName) || a.name.localeCompare(b.name));
}

/** `wanted`, or with a number after it, at most MAX_NAME characters and
 *  not in `taken` (names compare case-insensitively, as the API's do). */
function freeName(wanted, taken) {
  const used = new Set(taken.map((name) => name.toLowerCase()));
  for (let n = 1; ; n += 1) {
    const suffix = n === 1 ? "" : ` ${n}`;
    const name = [...wanted].slice(0, MAX_NAME - suffix.length).join("").trimEnd() + suffix;
    if (!used.has(name.toLowerCase())) return name;
  }
}

function tag(text) {
  return h("strong", { className: "tag" }, text);
}
