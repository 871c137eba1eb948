// /teams: the person's teams, the invitations waiting for them, and a form
// to create a team. A person in no team lands here.

import * as api from "./api.js";
import { busy, cell, clearErrors, errorLine, field, h, heading, showErrors, status, table, time } from "./ui.js";

export default async function teamsView(ctx) {
  ctx.setTitle("Teams");
  await ctx.refreshTeams();
  const teams = ctx.teams();
  let pending = [];
  let invitationsError = "";
  try {
    pending = await api.invitations.mine();
  } catch (err) {
    if (err instanceof api.SessionEnded) throw err;
    invitationsError = err.message;
  }
  const said = status("teams-status");
  if (ctx.flash) said.say(ctx.flash);

  const invitationRows = pending.map((invitation) => {
    const error = h("span", { className: "error" });
    const accept = h("button", {
      type: "button",
      className: "primary",
      "aria-label": `Accept the invitation to ${invitation.teamName}`,
      onclick: async () => {
        const ok = await busy(accept, "Joining…", error, async () => {
          const joined = await api.invitations.accept(invitation.id);
          await ctx.refreshTeams();
          await ctx.navigate(`/teams/${joined.teamId}/projects`);
        });
        if (!ok) accept.focus();
      },
    }, "Accept");
    return h("tr", { dataset: { invitationId: invitation.id } },
      cell(invitation.teamName, "th"),
      cell(invitation.role === "owner" ? "Owner" : "Member"),
      cell(time(invitation.expiresAt)),
      cell([accept, " ", error]));
  });

  const name = field({ label: "Team name", name: "name", maxLength: 100, autocomplete: "off",
    hint: "For example your company or app studio." });
  const formError = errorLine("create-team-error");
  const button = h("button", { type: "submit", id: "create-team-button", className: "primary" }, "Create team");
  const form = h("form", { id: "create-team-form", noValidate: true }, name, formError, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    await busy(button, "Creating…", null, async () => {
      try {
        const team = await api.teams.create(form.elements.name.value);
        await ctx.refreshTeams();
        await ctx.navigate(`/teams/${team.id}/projects`);
      } catch (err) {
        showErrors(form, err, formError, { name: "Name" });
      }
    });
  });

  ctx.show(
    heading(teams.length ? "Your teams" : "Welcome to App Upgrade"),
    teams.length
      ? h("ul", { id: "team-list", className: "link-list" }, teams.map((team) =>
        h("li", {}, h("a", { href: `/teams/${team.id}/projects` }, team.name), " ",
          h("span", { className: "muted" }, `(${team.role})`))))
      : h("p", { id: "no-team", className: "lead" },
        "You are not in any team yet. Accept an invitation below, or create a team of your own and invite your teammates."),
    said,
    h("section", { "aria-labelledby": "invitations-title" },
      h("h2", { id: "invitations-title" }, "Invitations for you"),
      invitationsError
        ? h("p", { className: "error" }, invitationsError)
        : pending.length
          ? table({
            id: "invitation-table",
            caption: "Pending invitations",
            hideCaption: true,
            columns: [{ label: "Team" }, { label: "Role" }, { label: "Expires" }, { label: "Actions", hidden: true }],
            rows: invitationRows,
          })
          : h("p", { id: "no-invitations", className: "muted" },
            "No pending invitations for your verified email address.")),
    h("section", { "aria-labelledby": "create-team-title" },
      h("h2", { id: "create-team-title" }, "Create a team"),
      h("p", { className: "muted" }, "You will be its owner: you can invite others and manage its projects."),
      form),
  );
}
