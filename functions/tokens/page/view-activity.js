// /teams/{teamId}/activity: the place for the team's activity and version
// history (issue "Activity and version history"), not built yet.

import { h, heading } from "./ui.js";

export default function activityView(ctx) {
  ctx.setTitle(`Activity · ${ctx.team.name}`);
  ctx.show(
    h("p", { className: "crumbs" }, ctx.team.name),
    heading("Activity"),
    h("p", { className: "lead", id: "activity-coming" },
      "Coming soon: who changed what in this team and when (versions, API keys, projects, members), "
      + "and every revision of a version with one-click restore."),
    h("p", { className: "muted" },
      "Until then, a version's page shows when it was created and last updated."),
  );
}
