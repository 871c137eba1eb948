// Sign in (email and password), the new-password step of an invited
// account, and sign-up where the deployment's user pool allows it. The
// password goes to Cognito only, never to the App Upgrade API.

import * as api from "./api.js";
import { h } from "./ui.js";

const CHALLENGES = {
  NEW_PASSWORD_REQUIRED: {
    title: "Choose your password",
    text: "This is your first sign-in with the temporary password you were sent: choose a new password.",
    label: "New password",
    type: "password",
    autocomplete: "new-password",
    hint: "At least 12 characters, with upper and lower case letters, a digit and a symbol.",
    button: "Set password and sign in",
  },
  SOFTWARE_TOKEN_MFA: {
    title: "Two-factor code",
    text: "Enter the code from your authenticator app.",
    label: "Code",
    type: "text",
    autocomplete: "one-time-code",
    button: "Verify",
  },
};

export default function signInView({ notice, onSignedIn }) {
  const section = h("section", { id: "sign-in", "aria-labelledby": "sign-in-title", className: "narrow" });
  if (!api.config.cognitoEndpoint || !api.config.clientId) {
    section.append(
      h("h1", { id: "sign-in-title", className: "view-title", tabIndex: -1 }, "Sign in"),
      h("p", { id: "not-configured", className: "error" },
        "Sign-in is not configured on this deployment: its accounts come from another identity provider."),
    );
    return section;
  }
  const noticeLine = h("p", { id: "notice", className: "notice", role: "status", hidden: !notice }, notice ?? "");
  section.append(noticeLine);
  showCredentials(section, { onSignedIn, mode: "sign-in" });
  return section;
}

function passwordField({ id, label, autocomplete, hint }) {
  return [
    h("label", { for: id }, label),
    h("input", { id, name: id, type: "password", autocomplete, required: true,
      "aria-describedby": hint ? `${id}-hint` : undefined }),
    hint && h("p", { id: `${id}-hint`, className: "hint" }, hint),
  ];
}

function replaceForm(section, ...nodes) {
  for (const node of section.querySelectorAll("h1, form, .switch-mode")) node.remove();
  section.append(...nodes);
}

function showCredentials(section, { onSignedIn, mode, email = "" }) {
  const signingUp = mode === "sign-up";
  const title = h("h1", { id: "sign-in-title", className: "view-title", tabIndex: -1 },
    signingUp ? "Create an account" : "Sign in");
  const username = h("input", {
    id: "username", name: "username", type: "email", autocomplete: "username",
    autocapitalize: "none", spellcheck: false, required: true, value: email,
  });
  const error = h("p", { id: "sign-in-error", className: "error", role: "alert" });
  const button = h("button", { type: "submit", id: "sign-in-button", className: "primary" }, signingUp ? "Create account" : "Sign in");
  const form = h(
    "form",
    { id: "sign-in-form", noValidate: true },
    h("label", { for: "username" }, "Email"),
    username,
    ...passwordField({
      id: "password",
      label: "Password",
      autocomplete: signingUp ? "new-password" : "current-password",
      hint: signingUp ? CHALLENGES.NEW_PASSWORD_REQUIRED.hint : null,
    }),
    error,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const password = form.querySelector("#password");
    const who = username.value.trim();
    error.textContent = "";
    if (!who || !password.value) {
      error.textContent = "Enter your email and password.";
      (who ? password : username).focus();
      return;
    }
    button.disabled = true;
    button.textContent = signingUp ? "Creating account…" : "Signing in…";
    try {
      if (signingUp) {
        await api.signUp(who, password.value);
        const secret = password.value;
        password.value = "";
        showConfirm(section, { onSignedIn, email: who, password: secret });
        return;
      }
      const challenge = await api.signIn(who, password.value);
      password.value = "";
      if (challenge) showChallenge(section, { onSignedIn, challenge });
      else onSignedIn();
    } catch (err) {
      password.value = "";
      error.textContent = err.message;
      button.disabled = false;
      button.textContent = signingUp ? "Create account" : "Sign in";
      password.focus();
    }
  });
  const switcher = api.config.signUp
    ? h("p", { className: "switch-mode" },
      signingUp ? "Already have an account? " : "New here? ",
      h("button", {
        type: "button",
        className: "link",
        id: signingUp ? "show-sign-in" : "show-sign-up",
        onclick: () => showCredentials(section, { onSignedIn, mode: signingUp ? "sign-in" : "sign-up", email: username.value }),
      }, signingUp ? "Sign in" : "Create an account"))
    : h("p", { className: "switch-mode hint" },
      "No account yet? Ask an owner of your team to invite you: the invitation email has a temporary password.");
  replaceForm(section, title, form, switcher);
  queueMicrotask(() => (email ? form.querySelector("#password") : username).focus());
}

function showChallenge(section, { onSignedIn, challenge }) {
  const spec = CHALLENGES[challenge.name];
  const error = h("p", { id: "sign-in-error", className: "error", role: "alert" });
  const input = h("input", {
    id: "challenge-answer", name: "challenge-answer", type: spec.type, autocomplete: spec.autocomplete,
    required: true, "aria-describedby": spec.hint ? "challenge-hint" : undefined,
  });
  const confirmInput = spec.type === "password"
    ? h("input", { id: "challenge-repeat", name: "challenge-repeat", type: "password", autocomplete: "new-password", required: true })
    : null;
  const button = h("button", { type: "submit", id: "sign-in-button", className: "primary" }, spec.button);
  const form = h(
    "form",
    { id: "challenge-form", noValidate: true },
    h("p", { id: "challenge-text" }, spec.text),
    h("label", { for: "challenge-answer" }, spec.label),
    input,
    spec.hint && h("p", { id: "challenge-hint", className: "hint" }, spec.hint),
    confirmInput && [h("label", { for: "challenge-repeat" }, "Repeat the new password"), confirmInput],
    error,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!input.value) {
      error.textContent = `Enter the ${spec.label.toLowerCase()}.`;
      input.focus();
      return;
    }
    if (confirmInput && confirmInput.value !== input.value) {
      error.textContent = "The two passwords differ.";
      confirmInput.value = "";
      confirmInput.focus();
      return;
    }
    button.disabled = true;
    button.textContent = "Working…";
    try {
      const next = await challenge.answer(input.value);
      input.value = "";
      if (confirmInput) confirmInput.value = "";
      if (next) showChallenge(section, { onSignedIn, challenge: next });
      else onSignedIn();
    } catch (err) {
      input.value = "";
      if (confirmInput) confirmInput.value = "";
      error.textContent = err.message;
      button.disabled = false;
      button.textContent = spec.button;
      input.focus();
    }
  });
  replaceForm(section, h("h1", { id: "sign-in-title", className: "view-title", tabIndex: -1 }, spec.title), form);
  queueMicrotask(() => input.focus());
}

/** After sign-up: the code Cognito emailed, then straight in. */
function showConfirm(section, { onSignedIn, email, password }) {
  const error = h("p", { id: "sign-in-error", className: "error", role: "alert" });
  const input = h("input", { id: "confirm-code", name: "code", autocomplete: "one-time-code", inputMode: "numeric", required: true });
  const button = h("button", { type: "submit", id: "sign-in-button", className: "primary" }, "Confirm and sign in");
  const form = h(
    "form",
    { id: "confirm-form", noValidate: true },
    h("p", {}, "We sent a code to ", h("strong", {}, email), ". Enter it to confirm your email."),
    h("label", { for: "confirm-code" }, "Code"),
    input,
    error,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    button.disabled = true;
    button.textContent = "Confirming…";
    try {
      await api.confirmSignUp(email, input.value.trim());
      const challenge = await api.signIn(email, password);
      password = "";
      if (challenge) showChallenge(section, { onSignedIn, challenge });
      else onSignedIn();
    } catch (err) {
      error.textContent = err.message;
      button.disabled = false;
      button.textContent = "Confirm and sign in";
      input.focus();
    }
  });
  replaceForm(section, h("h1", { id: "sign-in-title", className: "view-title", tabIndex: -1 }, "Confirm your email"), form);
  queueMicrotask(() => input.focus());
}
