// The dashboard's shell and its one router: URL pattern → view. The URL is
// the state (ids, filters, sort, page): every view can be opened from its
// URL, shared, reloaded and gone back to. Signed out, any URL shows the
// sign-in form and, once signed in, the page that URL names.

import * as api from "./api.js";
import { closeDialogs, h, heading } from "./ui.js";
import signInView from "./view-signin.js";
import teamsView from "./view-teams.js";
import projectsView from "./view-projects.js";
import projectView from "./view-project.js";
import versionView from "./view-version.js";
import membersView from "./view-members.js";
import tokensView from "./view-tokens.js";
import activityView from "./view-activity.js";

const ROUTES = [
  ["/", home],
  ["/teams", teamsView],
  ["/teams/:teamId", (ctx) => ctx.navigate(`/teams/${ctx.params.teamId}/projects`, { replace: true })],
  ["/teams/:teamId/projects", projectsView],
  ["/teams/:teamId/projects/:projectId", projectView],
  ["/teams/:teamId/projects/:projectId/versions/:versionId", versionView],
  ["/teams/:teamId/members", membersView],
  ["/teams/:teamId/activity", activityView],
  ["/account/tokens", tokensView],
].map(([pattern, view]) => {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  return { pattern, view, names, regex: new RegExp(`^${source}/?$`) };
});

const $ = (id) => document.getElementById(id);
const root = $("view");

/** The signed-in person's teams ([{id, name, role}]), loaded at sign-in. */
let teams = [];
/** Why the teams could not be loaded (in words), if they could not. */
let teamsError = "";
/** The team last shown, so "/" returns to it. */
let lastTeamId = null;
/** Each render's number: a slow answer for an older URL is dropped. */
let renderId = 0;

/** A path segment as text; a malformed %-escape stays as it is. */
function decode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function match(pathname) {
  for (const route of ROUTES) {
    const found = route.regex.exec(pathname);
    if (found) {
      const params = Object.fromEntries(route.names.map((name, i) => [name, decode(found[i + 1])]));
      return { route, params };
    }
  }
  return null;
}

/** A message for the next view to say ("Project deleted."). */
let pendingFlash = null;

export function navigate(href, { replace = false, flash = null } = {}) {
  pendingFlash = flash;
  const url = new URL(href, location.origin);
  if (url.href !== location.href) {
    history[replace ? "replaceState" : "pushState"](null, "", url);
  }
  return render();
}

async function loadTeams() {
  teams = await api.teams.list();
  teamsError = "";
  return teams;
}

function home(ctx) {
  const team = teams.find((t) => t.id === lastTeamId) ?? teams[0];
  return ctx.navigate(team ? `/teams/${team.id}/projects` : "/teams", { replace: true, flash: ctx.flash });
}

function renderShell(teamId) {
  const signed = api.signedIn();
  $("who").hidden = !signed;
  $("main-nav").hidden = !signed;
  $("who-name").textContent = api.email();
  const picker = $("team-picker");
  picker.hidden = !signed || teams.length === 0;
  const team = teams.find((t) => t.id === teamId) ?? teams.find((t) => t.id === lastTeamId) ?? teams[0];
  const select = $("team-switch");
  select.replaceChildren(
    ...teams.map((t) => h("option", { value: t.id, selected: t.id === team?.id }, t.name)),
    h("option", { value: "" }, "All teams / new team…"),
  );
  // On /teams (every team), "All teams" is the current choice.
  if (!team || (signed && !teamId && location.pathname.startsWith("/teams"))) select.value = "";
  for (const [id, path] of [["nav-projects", "projects"], ["nav-members", "members"], ["nav-activity", "activity"]]) {
    const link = $(id);
    link.parentElement.hidden = !team;
    link.href = team ? `/teams/${team.id}/${path}` : "/teams";
  }
  const here = location.pathname;
  for (const link of document.querySelectorAll("#main-nav a")) {
    const path = new URL(link.href).pathname;
    const current = here === path || (path.endsWith("/projects") && here.startsWith(`${path}/`));
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

/** Show the view the current URL names (or sign-in, when signed out). */
export async function render({ notice } = {}) {
  const id = ++renderId;
  closeDialogs();
  const alive = () => id === renderId;
  if (!api.signedIn()) {
    renderShell(null);
    document.title = "Sign in · App Upgrade";
    root.replaceChildren(signInView({ notice, onSignedIn }));
    return;
  }
  const found = match(location.pathname);
  const params = found?.params ?? {};
  if (params.teamId) lastTeamId = params.teamId;
  renderShell(params.teamId);
  if (!found) {
    showProblem("Page not found", "There is no page at this address.");
    return;
  }
  const flash = pendingFlash;
  pendingFlash = null;
  const ctx = {
    flash,
    params,
    query: new URLSearchParams(location.search),
    team: teams.find((t) => t.id === params.teamId),
    teams: () => teams,
    navigate,
    alive,
    root,
    /** Reload the team list (after a create, accept, leave or rename). */
    refreshTeams: async () => {
      await loadTeams();
      renderShell(params.teamId);
    },
    setTitle: (title) => {
      if (alive()) document.title = `${title} · App Upgrade`;
    },
    /** Replace the page's content and move focus to its heading. */
    show: (...nodes) => {
      if (!alive()) return;
      root.replaceChildren(...nodes.flat());
      const title = root.querySelector(".view-title");
      (title ?? root).focus({ preventScroll: false });
    },
  };
  if (params.teamId && !ctx.team && teamsError) {
    showProblem("Cannot load your teams", teamsError);
    return;
  }
  if (params.teamId && !ctx.team) {
    // Not (or no longer) one of the person's teams: the API says 404 anyway.
    ctx.setTitle("No access");
    showProblem(
      "You do not have access to this team",
      "It does not exist, or you are not (or no longer) a member of it. Ask an owner of the team to invite you.",
    );
    return;
  }
  root.replaceChildren(h("p", { className: "loading", role: "status" }, "Loading…"));
  try {
    await found.route.view(ctx);
  } catch (err) {
    if (err instanceof api.SessionEnded || !alive()) return;
    showProblem("Cannot show this page", err.message);
    // Perhaps no longer a member: the team switcher should say so too.
    if (err instanceof api.ApiError && err.status === 404) {
      loadTeams().then(() => alive() && renderShell(params.teamId), () => {});
    }
    if (!(err instanceof api.ApiError)) console.error(err);
  }
}

function showProblem(title, text) {
  document.title = `${title} · App Upgrade`;
  root.replaceChildren(
    heading(title),
    h("p", { className: "error", id: "page-error" }, text),
    h("p", {}, h("a", { href: "/teams" }, "Go to your teams")),
  );
  root.querySelector(".view-title").focus();
}

async function onSignedIn() {
  try {
    await loadTeams();
  } catch (err) {
    if (err instanceof api.SessionEnded) return;
    teams = [];
    teamsError = err.message;
  }
  await render();
}

api.onSessionEnd((reason) => {
  teams = [];
  render({
    notice:
      reason === "expired"
        ? "Your session has expired. Sign in again to continue where you were."
        : "You have signed out.",
  });
});

// Links inside the app change the URL without reloading the page.
document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest?.("a[href]");
  if (!link || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/app/")) return;
  event.preventDefault();
  navigate(url.href);
});

window.addEventListener("popstate", () => render());

$("sign-out").addEventListener("click", () => api.signOut());
$("team-switch").addEventListener("change", (event) => {
  const teamId = event.target.value;
  if (!teamId) return navigate("/teams");
  // Same kind of page in the other team, where there is one.
  const kind = /^\/teams\/[^/]+\/(members|activity)/.exec(location.pathname)?.[1] ?? "projects";
  return navigate(`/teams/${encodeURIComponent(teamId)}/${kind}`);
});

render();
