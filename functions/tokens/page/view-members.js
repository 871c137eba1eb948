// /teams/{teamId}/members: the team's members and roles, its pending
// invitations, invite by email, withdraw, change a role, remove, leave, and
// (owners) rename the team.

import * as api from "./api.js";
import {
  busy, cell, clearErrors, confirm, errorLine, field, h, heading, showErrors, status, table, time,
} from "./ui.js";

const ROLES = [["member", "Member"], ["owner", "Owner"]];

export default async function membersView(ctx) {
  const { teamId } = ctx.params;
  const team = ctx.team;
  ctx.setTitle(`Team · ${team.name}`);
  const { results: members, invitations = [] } = await api.teams.members(teamId);
  const me = api.userId();
  const owner = team.role === "owner";
  const said = status("members-status");
  const reload = (flash) => ctx.navigate(location.pathname, { replace: true, flash });

  const memberRows = [...members]
    .sort((a, b) => (a.role === b.role ? a.email.localeCompare(b.email) : a.role === "owner" ? -1 : 1))
    .map((member) => {
      const self = member.userId === me;
      const who = self ? `${member.email} (you)` : member.email;
      let role = member.role === "owner" ? "Owner" : "Member";
      if (owner) {
        const rowError = h("span", { className: "error" });
        const select = h("select", { "aria-label": `Role of ${member.email}` },
          ROLES.map(([value, text]) => h("option", { value, selected: value === member.role }, text)));
        select.addEventListener("change", async () => {
          const wanted = select.value;
          const ok = await busy(select, null, rowError, async () => {
            await api.teams.setRole(teamId, member.userId, wanted);
            said.say(`${member.email} is now ${wanted === "owner" ? "an owner" : "a member"}.`);
            if (self) await ctx.refreshTeams();
          });
          if (!ok) select.value = member.role;
          else member.role = wanted;
          if (ok && self) await reload(`You are now ${wanted === "owner" ? "an owner" : "a member"}.`);
        });
        role = [select, rowError];
      }
      let action = null;
      if (self) {
        action = h("button", {
          type: "button", className: "danger small", id: "leave-team",
          onclick: () => confirm({
            title: "Leave team?",
            text: ["Leave ", h("strong", {}, team.name), "? You lose access to its projects at once; an owner must invite you to come back."],
            confirmLabel: "Leave team",
            busyLabel: "Leaving…",
            action: async () => {
              await api.teams.remove(teamId, member.userId);
              await ctx.refreshTeams();
              await ctx.navigate("/", { flash: `You left ${team.name}.` });
            },
          }),
        }, "Leave team…");
      } else if (owner) {
        action = h("button", {
          type: "button", className: "danger small", "aria-label": `Remove ${member.email}`,
          onclick: () => confirm({
            title: "Remove member?",
            text: ["Remove ", h("strong", {}, member.email), " from ", h("strong", {}, team.name),
              "? Their session and Personal Access Tokens lose access to the team's projects at once."],
            confirmLabel: "Remove member",
            busyLabel: "Removing…",
            action: async () => {
              await api.teams.remove(teamId, member.userId);
              await reload(`${member.email} removed from ${team.name}.`);
            },
          }),
        }, "Remove…");
      }
      return h("tr", { dataset: { userId: member.userId } },
        cell(who, "th"), cell(role), cell(time(member.joinedAt)), cell(action));
    });

  const invitationRows = invitations.map((invitation) => h("tr", { dataset: { invitationId: invitation.id } },
    cell(invitation.email, "th"),
    cell(invitation.role === "owner" ? "Owner" : "Member"),
    cell(time(invitation.createdAt)),
    cell(time(invitation.expiresAt)),
    cell(h("button", {
      type: "button", className: "danger small", "aria-label": `Withdraw the invitation of ${invitation.email}`,
      onclick: () => confirm({
        title: "Withdraw invitation?",
        text: ["Withdraw the invitation of ", h("strong", {}, invitation.email), " to ", h("strong", {}, team.name), "?"],
        confirmLabel: "Withdraw invitation",
        busyLabel: "Withdrawing…",
        action: async () => {
          try {
            await api.teams.withdraw(teamId, invitation.id);
          } catch (err) {
            if (!(err instanceof api.ApiError && err.status === 404)) throw err;
          }
          await reload(`Invitation of ${invitation.email} withdrawn.`);
        },
      }),
    }, "Withdraw…"))));

  // Invite.
  const email = field({ label: "Email", name: "email", type: "email", maxLength: 254, autocomplete: "off",
    hint: "They get an email with a temporary password, or accept when they next sign in." });
  const role = field({ label: "Role", name: "role",
    input: h("select", {}, ROLES.filter(([value]) => owner || value === "member")
      .map(([value, text]) => h("option", { value }, text))) });
  const inviteError = errorLine("invite-error");
  const inviteButton = h("button", { type: "submit", id: "invite-button", className: "primary" }, "Send invitation");
  const invite = h("form", { id: "invite-form", noValidate: true }, email, role, inviteError, inviteButton);
  invite.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(invite);
    await busy(inviteButton, "Inviting…", null, async () => {
      try {
        const sent = await api.teams.invite(teamId, { email: invite.elements.email.value.trim(), role: invite.elements.role.value });
        await reload(`Invitation sent to ${sent.email}.`);
      } catch (err) {
        showErrors(invite, err, inviteError, { email: "Email", role: "Role" });
      }
    });
  });

  // Rename (owners).
  let rename = null;
  if (owner) {
    const name = field({ label: "Team name", name: "name", maxLength: 100, value: team.name, autocomplete: "off" });
    const renameError = errorLine("rename-team-error");
    const renameButton = h("button", { type: "submit", id: "rename-team-button" }, "Rename team");
    rename = h("form", { id: "rename-team-form", noValidate: true }, name, renameError, renameButton);
    rename.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(rename);
      await busy(renameButton, "Saving…", null, async () => {
        try {
          const saved = await api.teams.rename(teamId, rename.elements.name.value);
          await ctx.refreshTeams();
          await reload(`Team renamed to ${saved.name}.`);
        } catch (err) {
          showErrors(rename, err, renameError, { name: "Name" });
        }
      });
    });
  }

  ctx.show(
    h("p", { className: "crumbs" }, team.name),
    heading("Team"),
    h("p", { className: "view-links" }, h("a", { href: `/teams/${teamId}/activity`, id: "team-activity-link" }, "Team activity")),
    h("p", { className: "muted" }, owner
      ? "You are an owner: you can invite, change roles, remove members and rename the team."
      : "You are a member: you can manage projects, versions and API keys, and invite people."),
    said,
    h("section", { "aria-labelledby": "members-title" },
      h("h2", { id: "members-title" }, `Members (${members.length})`),
      table({
        id: "member-table",
        caption: "Members",
        hideCaption: true,
        columns: [{ label: "Email" }, { label: "Role" }, { label: "Joined" }, { label: "Actions", hidden: true }],
        rows: memberRows,
      })),
    h("section", { "aria-labelledby": "invitations-title" },
      h("h2", { id: "invitations-title" }, "Pending invitations"),
      invitations.length
        ? table({
          id: "team-invitation-table",
          caption: "Pending invitations",
          hideCaption: true,
          columns: [{ label: "Email" }, { label: "Role" }, { label: "Sent" }, { label: "Expires" }, { label: "Actions", hidden: true }],
          rows: invitationRows,
        })
        : h("p", { className: "muted", id: "no-team-invitations" }, "No pending invitations.")),
    h("section", { "aria-labelledby": "invite-title" },
      h("h2", { id: "invite-title" }, "Invite someone"),
      invite),
    rename && h("section", { "aria-labelledby": "rename-title" },
      h("h2", { id: "rename-title" }, "Team settings"),
      rename),
  );
  if (ctx.flash) said.say(ctx.flash);
}
