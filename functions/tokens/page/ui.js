// The few pieces every view shares: building elements (textContent only,
// never innerHTML), dates in the person's locale, busy buttons, field errors
// next to their fields, the copy-once panel, the confirmation dialog, and a
// pager whose links carry the page in the URL.

import { ApiError, SessionEnded } from "./api.js";

// Set as attributes: `list` is read-only as a property, `for` is `htmlFor`.
const ATTRIBUTES = new Set(["role", "for", "list"]);

/** `h("p", { className: "x", onclick }, "text", child)`: an element. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    // A form's reset() goes back to these defaults, not to the first values.
    else if (name === "checked") element.defaultChecked = element.checked = Boolean(value);
    else if (name === "selected") element.defaultSelected = element.selected = Boolean(value);
    else if (name === "value" && "defaultValue" in element) element.defaultValue = element.value = value;
    else if (name.includes("-") || ATTRIBUTES.has(name)) element.setAttribute(name, value === true ? "" : value);
    else element[name] = value;
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

export const code = (text) => h("code", {}, text);

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A `<time>` in the person's locale; "—" when there is no date. */
export function time(iso) {
  if (!iso) return "—";
  return h("time", { dateTime: iso }, dateFormat.format(new Date(iso)));
}

/** A page heading the router focuses after navigating. */
export function heading(text, level = 1) {
  return h(`h${level}`, { tabIndex: -1, className: "view-title" }, text);
}

/** A polite live region: `say(text)` announces and shows it. */
export function status(id) {
  const element = h("p", { id, role: "status", className: "status" });
  element.say = (text) => {
    element.textContent = text;
  };
  return element;
}

/** An error line; empty hides it. */
export const errorLine = (id) => h("p", { id, className: "error", role: "alert" });

/**
 * Run `work` with `button` disabled and saying `label` (e.g. "Saving…");
 * a failure other than an ended session is written into `target` in words.
 * Returns whether it succeeded.
 */
export async function busy(button, label, target, work) {
  const text = button?.textContent;
  if (button) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    if (label) button.textContent = label;
  }
  if (target) target.textContent = "";
  try {
    await work();
    return true;
  } catch (err) {
    if (!(err instanceof SessionEnded) && target) target.textContent = err.message;
    if (!(err instanceof ApiError) && !(err instanceof SessionEnded)) console.error(err);
    return false;
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (label) button.textContent = text;
    }
  }
}

// --- Forms and field errors ---------------------------------------------------------

let fieldIds = 0;

/**
 * A labelled field: `{ label, name, hint, input }` where `input` is an
 * element (or built from `type`/attrs). Its error line has
 * `data-field=name`; the input is described by hint and error.
 */
export function field({ label, name, hint, input, ...attrs }) {
  const id = attrs.id ?? `f-${name}-${++fieldIds}`;
  const control = input ?? h("input", { name, ...attrs });
  control.id = id;
  if (!control.name) control.name = name;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  control.setAttribute("aria-describedby", hint ? `${hintId} ${errorId}` : errorId);
  return h(
    "div",
    { className: "field" },
    h("label", { for: id }, label),
    control,
    hint && h("p", { id: hintId, className: "hint" }, hint),
    h("p", { id: errorId, className: "error field-error", dataset: { field: name } }),
  );
}

export function clearErrors(form) {
  for (const element of form.querySelectorAll(".error")) element.textContent = "";
  for (const element of form.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
}

/**
 * The API's field errors, each next to its field (`messageLocale.fr` goes to
 * `messageLocale`); the rest, and the message, in `formError`.
 */
export function showErrors(form, err, formError, labels = {}) {
  if (err instanceof SessionEnded) return;
  const other = [];
  let first = null;
  for (const { field: name, message } of err.errors ?? []) {
    const base = String(name).split(".")[0];
    const target = form.querySelector(`.field-error[data-field="${CSS.escape(base)}"]`);
    const label = labels[base] ?? base;
    const detail = name === base ? "" : ` (${String(name).slice(base.length + 1)})`;
    const text = `${label}${detail} ${message}.`;
    if (target) {
      target.textContent = target.textContent ? `${target.textContent} ${text}` : text;
      const control = form.querySelector(`[name="${CSS.escape(base)}"]`);
      control?.setAttribute("aria-invalid", "true");
      first ??= control;
    } else {
      other.push(text);
    }
  }
  if (other.length || !err.errors?.length) {
    formError.textContent = [err.message, ...other].join(" ");
  }
  first?.focus();
}

// --- Copy, and secrets shown once ------------------------------------------------------

async function copyText(text, statusElement, selectable) {
  try {
    await navigator.clipboard.writeText(text);
    statusElement.textContent = "Copied.";
  } catch {
    // No clipboard permission: select it for the person to copy.
    if (selectable) getSelection().selectAllChildren(selectable);
    statusElement.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
  }
}

/** A value with a copy button, e.g. an id. */
export function copyable(label, value, id) {
  const valueElement = h("code", { id }, value);
  const said = h("span", { role: "status", className: "copied" });
  return h(
    "div",
    { className: "copyable" },
    h("span", { className: "copyable-label" }, label),
    valueElement,
    h("button", {
      type: "button",
      className: "small",
      "aria-label": `Copy ${label}`,
      onclick: () => copyText(value, said, valueElement),
    }, "Copy"),
    said,
  );
}

/** A block of text (a snippet) with a copy button. */
export function snippet(title, text, id) {
  const pre = h("pre", { id, tabIndex: 0 }, h("code", {}, text));
  const said = h("span", { role: "status", className: "copied" });
  return h(
    "figure",
    { className: "snippet" },
    h("figcaption", {}, title, " ",
      h("button", { type: "button", className: "small", "aria-label": `Copy ${title}`,
        onclick: () => copyText(text, said, pre) }, "Copy"),
      said),
    pre,
  );
}

/**
 * The copy-once panel: a new secret with a copy button and the warning.
 * The secret is in this panel's DOM only; "Done" removes it.
 */
export function secretPanel({ id, title, secret, warning, onDone }) {
  const value = h("code", { id: `${id}-value` }, secret);
  const said = h("span", { id: `${id}-copy-status`, role: "status" });
  const panel = h(
    "section",
    { id, className: "new-secret", "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, title),
    h("p", { className: "warning" }, warning),
    h("p", { className: "secret" }, value,
      h("button", { type: "button", id: `${id}-copy`, onclick: () => copyText(secret, said, value) }, "Copy"),
      said),
    h("button", {
      type: "button",
      id: `${id}-done`,
      onclick: () => {
        value.textContent = "";
        panel.remove();
        onDone?.();
      },
    }, "Done, I have stored it"),
  );
  queueMicrotask(() => panel.querySelector("button")?.focus());
  return panel;
}

// --- The confirmation dialog ---------------------------------------------------------------

/**
 * Ask before a destructive action. `text` names what is affected; `action`
 * runs when confirmed (the dialog says it is working, and shows an error in
 * words without closing). Resolves to whether the action ran.
 */
export function confirm({ title, text, confirmLabel, busyLabel = "Working…", action }) {
  const dialog = document.getElementById("confirm-dialog");
  const ok = document.getElementById("confirm-ok");
  const cancel = document.getElementById("confirm-cancel");
  const error = document.getElementById("confirm-error");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").replaceChildren(...[text].flat());
  ok.textContent = confirmLabel;
  error.textContent = "";
  return new Promise((resolve) => {
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      ok.removeEventListener("click", onOk);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const onOk = async () => {
      const succeeded = await busy(ok, busyLabel, error, action);
      if (succeeded) finish(true);
    };
    const onCancel = () => finish(false);
    const onClose = () => finish(false);
    ok.addEventListener("click", onOk);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    cancel.focus();
  });
}

export function closeDialogs() {
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
}

// --- Tables and pages ------------------------------------------------------------------------

/**
 * A table with a caption (visually hidden when `hideCaption`). On a phone
 * each row becomes a card whose cells name their column (`data-label`).
 */
export function table({ caption, hideCaption, columns, rows, id }) {
  labelCells(rows, columns);
  return h(
    "div",
    { className: "table-wrap" },
    h(
      "table",
      { id, className: "stack" },
      caption && h("caption", { className: hideCaption ? "visually-hidden" : "" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) =>
        h("th", { scope: "col", "aria-sort": c.sorted || undefined }, c.hidden ? h("span", { className: "visually-hidden" }, c.label) : c.label)))),
      h("tbody", {}, rows),
    ),
  );
}

/** Each cell's `data-label`: its column's name (none for hidden ones). */
export function labelCells(rows, columns) {
  for (const row of rows) {
    [...row.children].forEach((element, i) => {
      const column = columns[i];
      if (column && !column.hidden && element.tagName === "TD") element.dataset.label = column.label;
    });
  }
}

export function cell(content, kind = "td", props = {}) {
  return h(kind, { ...(kind === "th" ? { scope: "row" } : {}), ...props }, content);
}

/** "Page 2 of 3" with previous/next links to `hrefFor(page)`. */
export function pager({ page, totalPages, totalResults }, hrefFor, noun = "results") {
  if (!totalResults) return h("p", { className: "pager" });
  const link = (target, text, rel) =>
    target >= 1 && target <= totalPages
      ? h("a", { href: hrefFor(target), rel, className: "button-link" }, text)
      : h("span", { className: "button-link disabled", "aria-disabled": "true" }, text);
  return h(
    "nav",
    { className: "pager", "aria-label": "Pages" },
    link(page - 1, "‹ Previous", "prev"),
    h("span", {}, `Page ${page} of ${Math.max(totalPages, 1)} · ${totalResults} ${noun}`),
    link(page + 1, "Next ›", "next"),
  );
}
