// The Access Tokens page: sign in against Cognito, then list, create and
// revoke (one or all) the account's Personal Access Tokens through
// /api/v1/account/tokens.
//
// The session (a Cognito access token) and a new token's secret live in this
// module's memory and the DOM only: never in localStorage, sessionStorage, a
// cookie or the URL. A reload therefore signs out, and a new token shown once
// is gone; the refresh token Cognito returns is dropped at once, so a session
// ends when its access token expires (the app client's AccessTokenValidity).

const TOKENS = "/api/v1/account/tokens";
const EXPIRED = "Your session has expired. Sign in again to manage your tokens.";

const $ = (id) => document.getElementById(id);
const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";
const cognitoEndpoint = meta("aau-cognito-endpoint");
const clientId = meta("aau-cognito-client-id");

/** { accessToken, username, timer } while signed in, else null. */
let session = null;
/** A Cognito challenge awaiting an answer: { name, session, username }. */
let challenge = null;
/** The token the revoke dialog asks about: { id, name }. */
let revoking = null;

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

class SessionEnded extends Error {}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The server answered ${status}.`);
    this.status = status;
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
  }
}

// --- Cognito ------------------------------------------------------------------

/** One Cognito user-pool API call, as the AWS SDKs make it, unsigned. */
async function cognito(action, body) {
  let response;
  try {
    response = await fetch(cognitoEndpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new Error("Could not reach the sign-in service. Check your connection and try again.");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const type = String(data.__type || response.headers.get("x-amzn-errortype") || "").split(/[#:]/).pop();
    if (type === "NotAuthorizedException" || type === "UserNotFoundException") {
      throw new Error("Incorrect email or password.");
    }
    throw new Error(data.message || "Sign-in failed. Try again.");
  }
  return data;
}

const CHALLENGES = {
  NEW_PASSWORD_REQUIRED: {
    text: "This is your first sign-in: choose a new password.",
    label: "New password",
    type: "password",
    autocomplete: "new-password",
    answer: "NEW_PASSWORD",
  },
  SOFTWARE_TOKEN_MFA: {
    text: "Enter the code from your authenticator app.",
    label: "Code",
    type: "text",
    autocomplete: "one-time-code",
    answer: "SOFTWARE_TOKEN_MFA_CODE",
  },
};

async function signIn(event) {
  event.preventDefault();
  const error = $("sign-in-error");
  error.textContent = "";
  $("sign-in-button").disabled = true;
  try {
    let result;
    if (challenge) {
      const spec = CHALLENGES[challenge.name];
      result = await cognito("RespondToAuthChallenge", {
        ChallengeName: challenge.name,
        ClientId: clientId,
        Session: challenge.session,
        ChallengeResponses: { USERNAME: challenge.username, [spec.answer]: $("challenge-answer").value },
      });
    } else {
      const username = $("username").value.trim();
      const password = $("password").value;
      if (!username || !password) throw new Error("Enter your email and password.");
      result = await cognito("InitiateAuth", {
        AuthFlow: "USER_PASSWORD_AUTH",
        ClientId: clientId,
        AuthParameters: { USERNAME: username, PASSWORD: password },
      });
      challenge = { username };
    }
    $("password").value = "";
    $("challenge-answer").value = "";
    if (result.AuthenticationResult) {
      startSession(result.AuthenticationResult, challenge.username);
    } else if (CHALLENGES[result.ChallengeName]) {
      askChallenge(result.ChallengeName, result.Session);
    } else {
      throw new Error(`This account needs a sign-in step this page does not support (${result.ChallengeName}).`);
    }
  } catch (err) {
    $("password").value = "";
    resetSignIn();
    error.textContent = err.message;
    $("password").focus();
  } finally {
    $("sign-in-button").disabled = false;
  }
}

function askChallenge(name, cognitoSession) {
  const spec = CHALLENGES[name];
  challenge = { ...challenge, name, session: cognitoSession };
  $("credentials").hidden = true;
  $("challenge").hidden = false;
  $("challenge-text").textContent = spec.text;
  $("challenge-label").textContent = spec.label;
  const input = $("challenge-answer");
  input.type = spec.type;
  input.autocomplete = spec.autocomplete;
  input.required = true;
  input.focus();
}

function resetSignIn() {
  challenge = null;
  $("credentials").hidden = false;
  $("challenge").hidden = true;
  $("challenge-answer").required = false;
}

function startSession(result, username) {
  resetSignIn();
  const ttl = Math.max(Number(result.ExpiresIn) || 0, 1) * 1000;
  session = {
    accessToken: result.AccessToken,
    username,
    timer: setTimeout(() => endSession(EXPIRED), ttl),
  };
  $("who-name").textContent = username;
  $("notice").hidden = true;
  show("tokens");
  $("tokens-title").focus();
  loadTokens();
}

/** Forget the session and everything shown under it, then show sign-in. */
function endSession(message) {
  if (session) clearTimeout(session.timer);
  session = null;
  revoking = null;
  if ($("revoke-dialog").open) $("revoke-dialog").close();
  if ($("revoke-all-dialog").open) $("revoke-all-dialog").close();
  $("revoke-all-row").hidden = true;
  hideNewToken();
  $("token-rows").replaceChildren();
  $("list-status").textContent = "";
  $("create-form").reset();
  clearCreateErrors();
  $("who-name").textContent = "";
  $("sign-in-form").reset();
  resetSignIn();
  const notice = $("notice");
  notice.textContent = message;
  notice.hidden = !message;
  show("sign-in");
  $("username").focus();
}

function show(view) {
  $("sign-in").hidden = view !== "sign-in";
  $("tokens").hidden = view !== "tokens";
  $("who").hidden = view !== "tokens";
}

// --- The token API -------------------------------------------------------------

async function api(method, path, body) {
  if (!session) throw new SessionEnded();
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        Authorization: `Bearer ${session.accessToken}`,
        ...(body ? { "Content-Type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new Error("Could not reach App Upgrade. Check your connection and try again.");
  }
  // The authorizer (or the function) refused the session: it expired or was revoked.
  if (response.status === 401) {
    endSession(EXPIRED);
    throw new SessionEnded();
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Run `work`; a failure other than an ended session is shown in `target`. */
async function guarded(target, work) {
  try {
    await work();
  } catch (err) {
    if (!(err instanceof SessionEnded)) target.textContent = err.message;
  }
}

function loadTokens() {
  const status = $("list-status");
  return guarded(status, async () => {
    const { results } = await api("GET", TOKENS);
    renderTokens(results);
    status.textContent = results.length ? "" : "You have no tokens yet.";
    $("revoke-all-row").hidden = !results.length;
  });
}

function renderTokens(tokens) {
  const now = Date.now();
  $("token-rows").replaceChildren(
    ...tokens.map((token) => {
      const row = document.createElement("tr");
      row.dataset.tokenId = token.id;
      const expired = Date.parse(token.expiresAt) <= now;
      if (expired) row.classList.add("expired");
      row.append(
        cell(token.name, "th"),
        cell(token.scopes.map((scope) => code(scope))),
        cell([code(token.hint)]),
        cell([time(token.createdAt)]),
        cell(expired ? [tag("Expired"), " ", time(token.expiresAt)] : [time(token.expiresAt)]),
        cell(token.lastUsedAt ? [time(token.lastUsedAt)] : "Never"),
        cell([revokeButton(token)]),
      );
      return row;
    }),
  );
}

function cell(content, kind = "td") {
  const element = document.createElement(kind);
  if (kind === "th") element.scope = "row";
  if (typeof content === "string") element.textContent = content;
  else element.append(...content);
  return element;
}

function code(text) {
  const element = document.createElement("code");
  element.textContent = text;
  return element;
}

function time(iso) {
  const element = document.createElement("time");
  element.dateTime = iso;
  element.textContent = dateFormat.format(new Date(iso));
  return element;
}

function tag(text) {
  const element = document.createElement("strong");
  element.className = "tag";
  element.textContent = text;
  return element;
}

function revokeButton(token) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "danger";
  button.textContent = "Revoke";
  button.setAttribute("aria-label", `Revoke ${token.name}`);
  button.addEventListener("click", () => askRevoke(token));
  return button;
}

// --- Create ----------------------------------------------------------------------

const FIELD_LABELS = { name: "Name", scopes: "Permissions", expiresInDays: "Expiry" };

function clearCreateErrors() {
  for (const element of document.querySelectorAll("#create-form .error")) element.textContent = "";
  for (const element of document.querySelectorAll("#create-form [aria-invalid]")) {
    element.removeAttribute("aria-invalid");
  }
}

async function createToken(event) {
  event.preventDefault();
  clearCreateErrors();
  const form = event.target;
  const body = {
    name: $("token-name").value,
    scopes: [...form.querySelectorAll('input[name="scopes"]:checked')].map((box) => box.value),
    expiresInDays: Number($("token-expiry").value),
  };
  $("create-button").disabled = true;
  try {
    const created = await api("POST", TOKENS, body);
    form.reset();
    showNewToken(created.token);
    await loadTokens();
  } catch (err) {
    if (err instanceof SessionEnded) return;
    // The API names the field of each problem: shown beside that field, and
    // anything else (a 409's message, an unknown field) above the button.
    const other = [];
    for (const { field, message } of err.errors ?? []) {
      const target = form.querySelector(`.field-error[data-field="${CSS.escape(field)}"]`);
      if (target) {
        target.textContent = `${FIELD_LABELS[field]} ${message}.`;
        if (field === "name") $("token-name").setAttribute("aria-invalid", "true");
      } else {
        other.push(`${field}: ${message}.`);
      }
    }
    if (other.length || !err.errors?.length) {
      $("create-error").textContent = [err.message, ...other].join(" ");
    }
  } finally {
    $("create-button").disabled = false;
  }
}

function showNewToken(secret) {
  $("new-token-value").textContent = secret;
  $("copy-status").textContent = "";
  $("new-token").hidden = false;
  $("copy-token").focus();
}

function hideNewToken() {
  $("new-token-value").textContent = "";
  $("copy-status").textContent = "";
  $("new-token").hidden = true;
}

async function copyToken() {
  const value = $("new-token-value").textContent;
  try {
    await navigator.clipboard.writeText(value);
    $("copy-status").textContent = "Copied.";
  } catch {
    // No clipboard permission: select it for the person to copy.
    getSelection().selectAllChildren($("new-token-value"));
    $("copy-status").textContent = "Selected: press Ctrl+C (⌘C) to copy.";
  }
}

// --- Revoke ----------------------------------------------------------------------

function askRevoke(token) {
  revoking = { id: token.id, name: token.name };
  $("revoke-name").textContent = token.name;
  $("revoke-error").textContent = "";
  $("revoke-dialog").showModal();
  $("revoke-cancel").focus();
}

async function confirmRevoke() {
  if (!revoking) return;
  const { id, name } = revoking;
  $("revoke-confirm").disabled = true;
  await guarded($("revoke-error"), async () => {
    try {
      await api("DELETE", `${TOKENS}/${encodeURIComponent(id)}`);
    } catch (err) {
      // Already gone (revoked elsewhere): the list below shows that.
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    $("revoke-dialog").close();
    await loadTokens();
    $("list-status").textContent = `Token “${name}” revoked.`;
  });
  $("revoke-confirm").disabled = false;
}

function askRevokeAll() {
  $("revoke-all-error").textContent = "";
  $("revoke-all-dialog").showModal();
  $("revoke-all-cancel").focus();
}

async function confirmRevokeAll() {
  $("revoke-all-confirm").disabled = true;
  await guarded($("revoke-all-error"), async () => {
    const { revoked } = await api("DELETE", TOKENS);
    $("revoke-all-dialog").close();
    await loadTokens();
    $("list-status").textContent = `All tokens revoked (${revoked}).`;
    $("list-title").tabIndex = -1;
    $("list-title").focus();
  });
  $("revoke-all-confirm").disabled = false;
}

// --- Wiring ----------------------------------------------------------------------

$("sign-in-form").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", () => endSession("You have signed out."));
$("create-form").addEventListener("submit", createToken);
$("copy-token").addEventListener("click", copyToken);
$("dismiss-token").addEventListener("click", hideNewToken);
$("revoke-cancel").addEventListener("click", () => $("revoke-dialog").close());
$("revoke-confirm").addEventListener("click", confirmRevoke);
$("revoke-all").addEventListener("click", askRevokeAll);
$("revoke-all-cancel").addEventListener("click", () => $("revoke-all-dialog").close());
$("revoke-all-confirm").addEventListener("click", confirmRevokeAll);
$("revoke-dialog").addEventListener("close", () => {
  revoking = null;
});
$("tokens-title").tabIndex = -1;

if (cognitoEndpoint && clientId) {
  endSession("");
} else {
  show("sign-in");
  $("sign-in-form").hidden = true;
  $("not-configured").hidden = false;
}
