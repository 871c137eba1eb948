// The dashboard's one way to the network: Cognito sign-in, the session, the
// App Upgrade API, and every error turned into words a person can act on.
// It never touches the DOM; views never call fetch.
//
// The session (a Cognito access token) lives in this module's memory only:
// never in localStorage, sessionStorage, a cookie or the URL. A reload
// therefore asks for the password again (and then shows the same URL); the
// refresh token Cognito returns is dropped at once, so a session ends when
// its access token expires (the app client's AccessTokenValidity).

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";

export const config = Object.freeze({
  cognitoEndpoint: meta("aau-cognito-endpoint"),
  clientId: meta("aau-cognito-client-id"),
  signUp: meta("aau-sign-up") === "true",
});

/** The API refused the session (expired, revoked): the app shows sign-in. */
export class SessionEnded extends Error {
  constructor() {
    super("Your session has ended. Sign in again to continue.");
  }
}

/** An API answer other than 2xx, in words; `errors` are the field errors. */
export class ApiError extends Error {
  constructor(status, message, errors = []) {
    super(message);
    this.status = status;
    this.errors = errors;
  }
}

// --- The session ---------------------------------------------------------------

/** { accessToken, email, timer } while signed in, else null. */
let session = null;
const listeners = new Set();

/** `listener(reason)` runs when the session ends: "expired" or "signed-out". */
export function onSessionEnd(listener) {
  listeners.add(listener);
}

export const signedIn = () => session !== null;
export const email = () => session?.email ?? "";
/** The account's id (the token's `sub`): which member row is "you". */
export const userId = () => session?.sub ?? "";

function subject(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part)).sub ?? "";
  } catch {
    return "";
  }
}

function start(result, who) {
  end(null);
  const ttl = Math.max(Number(result.ExpiresIn) || 0, 1) * 1000;
  session = {
    accessToken: result.AccessToken,
    email: who,
    sub: subject(result.AccessToken),
    timer: setTimeout(() => end("expired"), ttl),
  };
}

function end(reason) {
  if (!session) return;
  clearTimeout(session.timer);
  session = null;
  if (reason) for (const listener of listeners) listener(reason);
}

export function signOut() {
  end("signed-out");
}

// --- Cognito --------------------------------------------------------------------

const COGNITO_WORDS = {
  NotAuthorizedException: "Incorrect email or password.",
  UserNotFoundException: "Incorrect email or password.",
  UsernameExistsException: "An account with this email already exists: sign in instead.",
  InvalidPasswordException: null, // Cognito's own message names the rule
  CodeMismatchException: "That code is not right. Check the email and try again.",
  ExpiredCodeException: "That code has expired. Ask for a new one.",
  TooManyRequestsException: "Too many attempts. Wait a minute and try again.",
  LimitExceededException: "Too many attempts. Wait a minute and try again.",
  UserNotConfirmedException: "This account is not confirmed yet: enter the code from the email.",
  PasswordResetRequiredException: "This account's password must be reset by the operator.",
};

/** One Cognito user-pool call, as the AWS SDKs make it, unsigned. */
async function cognito(action, body) {
  if (!config.cognitoEndpoint || !config.clientId) {
    throw new Error("Sign-in is not configured on this deployment.");
  }
  let response;
  try {
    response = await fetch(config.cognitoEndpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify({ ClientId: config.clientId, ...body }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new Error("Could not reach the sign-in service. Check your connection and try again.");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const type = String(data.__type || response.headers.get("x-amzn-errortype") || "")
      .split(/[#:]/)
      .pop();
    const error = new Error(COGNITO_WORDS[type] || data.message || "Sign-in failed. Try again.");
    error.type = type;
    throw error;
  }
  return data;
}

/**
 * Email and password. Resolves to `null` when signed in, or to a challenge
 * `{ name, answer(value) }` the person must answer first
 * (NEW_PASSWORD_REQUIRED for an invited account, SOFTWARE_TOKEN_MFA).
 */
export async function signIn(who, password) {
  const result = await cognito("InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: who, PASSWORD: password },
  });
  return settle(result, who);
}

const CHALLENGE_ANSWERS = {
  NEW_PASSWORD_REQUIRED: "NEW_PASSWORD",
  SOFTWARE_TOKEN_MFA: "SOFTWARE_TOKEN_MFA_CODE",
};

function settle(result, who) {
  if (result.AuthenticationResult) {
    start(result.AuthenticationResult, who);
    return null;
  }
  const key = CHALLENGE_ANSWERS[result.ChallengeName];
  if (!key) {
    throw new Error(`This account needs a sign-in step the dashboard does not support (${result.ChallengeName}).`);
  }
  let cognitoSession = result.Session;
  return {
    name: result.ChallengeName,
    async answer(value) {
      const next = await cognito("RespondToAuthChallenge", {
        ChallengeName: result.ChallengeName,
        Session: cognitoSession,
        ChallengeResponses: { USERNAME: who, [key]: value },
      });
      cognitoSession = next.Session;
      return settle(next, who);
    },
  };
}

/** Sign-up, where the pool allows it: Cognito emails a confirmation code. */
export async function signUp(who, password) {
  await cognito("SignUp", {
    Username: who,
    Password: password,
    UserAttributes: [{ Name: "email", Value: who }],
  });
}

export async function confirmSignUp(who, code) {
  await cognito("ConfirmSignUp", { Username: who, ConfirmationCode: code });
}

// --- The App Upgrade API -------------------------------------------------------------

const STATUS_WORDS = {
  403: "You are not allowed to do that in this team.",
  404: "Not found: it was deleted, or you no longer have access to it.",
  409: "That conflicts with what is already there.",
  410: "This has expired.",
  413: "That is too large.",
  429: "Too many requests right now. Wait a few seconds and try again.",
  503: "App Upgrade is briefly unavailable. Try again in a few seconds.",
};

/** What a person reads for a failed answer: the server's words, or ours. */
function words(status, body) {
  const message = typeof body?.message === "string" ? body.message.trim() : "";
  const ours = STATUS_WORDS[status];
  if (status === 404) return message ? `${ours} (${message})` : ours;
  if (status >= 500 && status !== 503) {
    return "Something went wrong on the server. Try again; if it keeps happening, tell the operator.";
  }
  if (message) return /[.!?]$/.test(message) ? capitalize(message) : `${capitalize(message)}.`;
  return ours ?? `The server answered ${status}.`;
}

const capitalize = (text) => text.charAt(0).toUpperCase() + text.slice(1);

async function request(method, path, { query, body } = {}) {
  if (!session) throw new SessionEnded();
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        Authorization: `Bearer ${session.accessToken}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "Could not reach App Upgrade. Check your connection and try again.");
  }
  // The authorizer (or the function) refused the session: it expired or was revoked.
  if (response.status === 401) {
    end("expired");
    throw new SessionEnded();
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const errors = Array.isArray(data?.errors) ? data.errors : [];
    throw new ApiError(response.status, words(response.status, data), errors);
  }
  return data;
}

const q = encodeURIComponent;

export const teams = {
  list: () => request("GET", "/api/v1/teams").then((d) => d.results),
  create: (name) => request("POST", "/api/v1/teams", { body: { name } }),
  rename: (teamId, name) => request("PATCH", `/api/v1/teams/${q(teamId)}`, { body: { name } }),
  members: (teamId) => request("GET", `/api/v1/teams/${q(teamId)}/members`),
  invite: (teamId, body) => request("POST", `/api/v1/teams/${q(teamId)}/invitations`, { body }),
  withdraw: (teamId, id) => request("DELETE", `/api/v1/teams/${q(teamId)}/invitations/${q(id)}`),
  setRole: (teamId, userId, role) =>
    request("PATCH", `/api/v1/teams/${q(teamId)}/members/${q(userId)}`, { body: { role } }),
  remove: (teamId, userId) => request("DELETE", `/api/v1/teams/${q(teamId)}/members/${q(userId)}`),
};

export const invitations = {
  mine: () => request("GET", "/api/v1/account/invitations").then((d) => d.results),
  accept: (id) => request("POST", `/api/v1/account/invitations/${q(id)}/accept`),
};

export const projects = {
  list: (teamId) => request("GET", "/api/v1/projects", { query: { teamId } }).then((d) => d.results),
  get: (teamId, id) => request("GET", `/api/v1/projects/${q(id)}`, { query: { teamId } }),
  create: (teamId, body) => request("POST", "/api/v1/projects", { query: { teamId }, body }),
  update: (teamId, id, body) => request("PATCH", `/api/v1/projects/${q(id)}`, { query: { teamId }, body }),
  remove: (teamId, id) => request("DELETE", `/api/v1/projects/${q(id)}`, { query: { teamId } }),
};

export const apiKeys = {
  list: (teamId, projectId) =>
    request("GET", `/api/v1/projects/${q(projectId)}/api-keys`, { query: { teamId } }).then((d) => d.results),
  create: (teamId, projectId, name) =>
    request("POST", `/api/v1/projects/${q(projectId)}/api-keys`, { query: { teamId }, body: { name } }),
  revoke: (teamId, projectId, id) =>
    request("DELETE", `/api/v1/projects/${q(projectId)}/api-keys/${q(id)}`, { query: { teamId } }),
};

export const versions = {
  /** `query`: page, limit, sortBy, name, forceUpgrade, active. */
  list: (teamId, projectId, query) =>
    request("GET", `/api/v1/projects/${q(projectId)}/versions`, { query: { teamId, ...query } }),
  get: (teamId, projectId, id) =>
    request("GET", `/api/v1/projects/${q(projectId)}/versions/${q(id)}`, { query: { teamId } }),
  create: (teamId, projectId, body) =>
    request("POST", `/api/v1/projects/${q(projectId)}/versions`, {
      query: { teamId },
      body: { project: projectId, ...body },
    }),
  update: (teamId, projectId, id, body) =>
    request("PATCH", `/api/v1/projects/${q(projectId)}/versions/${q(id)}`, { query: { teamId }, body }),
  remove: (teamId, projectId, id) =>
    request("DELETE", `/api/v1/projects/${q(projectId)}/versions/${q(id)}`, { query: { teamId } }),
  /** Every revision, newest first (a deleted version's too). */
  history: (teamId, projectId, id) =>
    request("GET", `/api/v1/projects/${q(projectId)}/versions/${q(id)}/history`, { query: { teamId } })
      .then((d) => d.results),
  restore: (teamId, projectId, id, revision) =>
    request("POST", `/api/v1/projects/${q(projectId)}/versions/${q(id)}/restore`, {
      query: { teamId },
      body: { revision },
    }),
};

/** Who changed what, newest first: `{results, nextCursor}` pages. */
export const activity = {
  project: (teamId, projectId, cursor) =>
    request("GET", `/api/v1/projects/${q(projectId)}/activity`, { query: { teamId, cursor } }),
  team: (teamId, cursor) => request("GET", `/api/v1/teams/${q(teamId)}/activity`, { query: { cursor } }),
  account: (cursor) => request("GET", "/api/v1/account/activity", { query: { cursor } }),
};

export const tokens = {
  list: () => request("GET", "/api/v1/account/tokens").then((d) => d.results),
  create: (body) => request("POST", "/api/v1/account/tokens", { body }),
  revoke: (id) => request("DELETE", `/api/v1/account/tokens/${q(id)}`),
  revokeAll: () => request("DELETE", "/api/v1/account/tokens"),
};

/** The fields a version's update takes, from a version the API returned. */
export function editable(version) {
  const {
    appName, appVersion, platform, environment, forceUpgrade,
    message, messageLocale, customAttributes, internalNotes, active,
  } = version;
  return {
    appName, appVersion, platform, environment, forceUpgrade,
    message: message ?? "",
    messageLocale: messageLocale ?? {},
    customAttributes: customAttributes ?? {},
    internalNotes: internalNotes ?? "",
    active: active ?? true,
  };
}
