// The version form, for create and edit: every field of the version object,
// and the API's field errors next to their fields.

import { clearErrors, errorLine, field, h, showErrors } from "./ui.js";

export const LABELS = {
  appName: "App name",
  appVersion: "Version",
  platform: "Platform",
  environment: "Environment",
  forceUpgrade: "Force upgrade",
  active: "Active",
  message: "Message",
  messageLocale: "Localized messages",
  customAttributes: "Custom attributes",
  internalNotes: "Internal notes",
  project: "Project",
};

let forms = 0;

/** Rows of two inputs (key, value) with add/remove, for the two maps. */
function pairs({ name, legend, keyLabel, valueLabel, hint, entries, valueHint }) {
  const rows = h("div", { className: "pairs" });
  const id = `${name}-${forms}`;
  const addRow = (key = "", value = "", focus = false) => {
    const n = rows.children.length + 1;
    const keyInput = h("input", { className: "pair-key", "aria-label": `${keyLabel} ${n}`, value: key, autocomplete: "off" });
    const valueInput = h(valueHint === "textarea" ? "textarea" : "input",
      { className: "pair-value", "aria-label": `${valueLabel} ${n}`, value, rows: 2, autocomplete: "off" });
    const row = h("div", { className: "pair" }, keyInput, valueInput,
      h("button", { type: "button", className: "small", "aria-label": `Remove ${keyLabel.toLowerCase()} ${n}`,
        onclick: () => { row.remove(); addButton.focus(); } }, "Remove"));
    rows.append(row);
    if (focus) keyInput.focus();
  };
  const addButton = h("button", { type: "button", className: "small", id: `${id}-add`,
    onclick: () => addRow("", "", true) }, `Add ${keyLabel.toLowerCase()}`);
  for (const [key, value] of Object.entries(entries ?? {})) addRow(key, value);
  const fieldset = h("fieldset", { name, "aria-describedby": `${id}-hint ${id}-error` },
    h("legend", {}, legend),
    h("p", { id: `${id}-hint`, className: "hint" }, hint),
    rows,
    addButton,
    h("p", { id: `${id}-error`, className: "error field-error", dataset: { field: name } }));
  fieldset.read = () => [...rows.children].map((row) => [
    row.querySelector(".pair-key").value.trim(),
    row.querySelector(".pair-value").value,
  ]).filter(([key, value]) => key || value.trim());
  return fieldset;
}

/**
 * `versionForm({ version, submitLabel, onSubmit(body) })`: a form element;
 * `onSubmit` returns a promise; its ApiError is shown by the fields.
 */
export function versionForm({ id, version = {}, submitLabel, busyLabel, onSubmit }) {
  forms += 1;
  const v = version;
  const text = (name, props) => field({ label: LABELS[name], name, value: v[name] ?? "", autocomplete: "off", ...props });
  const check = (name, checked, hint) => {
    const input = h("input", { type: "checkbox", name, id: `${name}-${forms}`, checked,
      "aria-describedby": `${name}-${forms}-hint` });
    return h("div", { className: "field check-field" },
      h("label", { className: "check", for: input.id }, input, " ", LABELS[name]),
      h("p", { id: `${name}-${forms}-hint`, className: "hint" }, hint),
      h("p", { className: "error field-error", dataset: { field: name } }));
  };
  const list = (listId, values) => h("datalist", { id: `${listId}-${forms}` }, values.map((value) => h("option", { value })));
  const attributes = Object.fromEntries(Object.entries(v.customAttributes ?? {})
    .map(([key, value]) => [key, Array.isArray(value) ? value.join(", ") : value]));
  const locales = pairs({
    name: "messageLocale", legend: LABELS.messageLocale, keyLabel: "Language", valueLabel: "Message in that language",
    hint: "Shown instead of the message to apps that send that app_language (a language tag such as fr or pt-BR).",
    entries: v.messageLocale, valueHint: "textarea",
  });
  const custom = pairs({
    name: "customAttributes", legend: LABELS.customAttributes, keyLabel: "Attribute", valueLabel: "Value",
    hint: "Matched against what the app sends, e.g. country = US, CA (commas separate several values).",
    entries: attributes,
  });
  const formError = errorLine(`${id}-error`);
  const button = h("button", { type: "submit", className: "primary", id: `${id}-submit` }, submitLabel);
  const form = h("form", { id, className: "version-form", noValidate: true },
    h("div", { className: "grid" },
      text("appName", { maxLength: 100, required: true, hint: "Exactly as the app sends it in app_name." }),
      text("appVersion", { maxLength: 64, required: true,
        hint: "An exact version (1.4.0) or a range rule: <2.0.0, >=1.0.0, <1.4.0, ^1.2, ~1.2.3." }),
      text("platform", { maxLength: 32, required: true, list: `platforms-${forms}`, hint: "android, ios, …" }),
      text("environment", { maxLength: 32, required: true, list: `environments-${forms}`, hint: "production, staging, …" })),
    list("platforms", ["android", "ios", "web", "macos", "windows", "linux"]),
    list("environments", ["production", "staging", "development"]),
    check("forceUpgrade", v.forceUpgrade ?? false, "Apps on a matching version must upgrade before they can be used."),
    check("active", v.active ?? true, "Inactive versions are ignored by the check."),
    field({ label: LABELS.message, name: "message", hint: "Shown to the person using the app. Up to 1000 characters.",
      input: h("textarea", { rows: 2, maxLength: 1000, value: v.message ?? "" }) }),
    locales,
    custom,
    field({ label: LABELS.internalNotes, name: "internalNotes", hint: "For your team only: never sent to apps.",
      input: h("textarea", { rows: 2, maxLength: 2000, value: v.internalNotes ?? "" }) }),
    formError,
    button);

  form.read = () => ({
    appName: form.elements.appName.value,
    appVersion: form.elements.appVersion.value,
    platform: form.elements.platform.value,
    environment: form.elements.environment.value,
    forceUpgrade: form.elements.forceUpgrade.checked,
    active: form.elements.active.checked,
    message: form.elements.message.value,
    messageLocale: Object.fromEntries(locales.read()),
    customAttributes: Object.fromEntries(custom.read().map(([key, value]) => {
      const values = value.split(",").map((s) => s.trim()).filter(Boolean);
      return [key, value.includes(",") ? values : value.trim()];
    })),
    internalNotes: form.elements.internalNotes.value,
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = busyLabel;
    try {
      await onSubmit(form.read());
    } catch (err) {
      showErrors(form, err, formError, LABELS);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = submitLabel;
    }
  });
  return form;
}
