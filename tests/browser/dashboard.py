"""The dashboard as a team uses it, in headless Chromium: one journey.

Run by infra/scripts/browser-test.sh (part of `make test`) against a private
`make run` stack whose credentials file it has sourced (APP_UPGRADE_*,
COGNITO_*, DEMO_ENV). Two browser sessions: the owner (the seeded demo
account) and a teammate they invite, whose temporary password comes from the
stack's local outbox (what AWS would email). Each step asserts what the
person sees; the version check is called outside the browser with the API
key read from the page. axe-core runs on every page of the journey (no
serious or critical violation); screenshots of each page at 1280 px and the
project, Activity and version history pages at 375 px (no sideways
scroll) go to target/browser-test/screenshots/.

  1. the owner opens the site: sign-in; signs in (keyboard) and lands in
     their team; a new team from the team switcher's "new team"
  2. a project; its page shows both ids and the CI snippets filled in
  3. an API key, shown once, read from the page
  4. a version `<2.0.0` with force upgrade on (a bad range first: the
     API's error next to the Version field)
  5. outside the browser: the check with that key for 1.4.0 → forceUpgrade true
  6. the switch in the row turns force upgrade off and says it saved; the
     check answers false once the check's cache TTL has passed
  7. search, filters and sort live in the URL: back, forward, and a
     reload (sign in again) keep the view; an expired session returns to
     sign-in and then to the same URL
  7b. the owner switches force upgrade back on; the project's Activity
     shows who, "Updated version …" and forceUpgrade false → true (axe,
     screenshots at 1280 and 375 px)
  7c. the version's history: the previous revision restored through the
     confirmation dialog (what changes, Escape cancels); forceUpgrade is
     off again on the page, 7d. through the API, and the restore is in
     the Activity (after 17 more edits, on the page "Load more" shows);
     7e. a deleted version's page keeps its history: a restore is a 409
     while another version holds its identity, then brings it back;
     7f. the team's Activity, 7g. the account's token activity (each
     where this API records it)
  8. the owner invites the teammate
  9. second browser: the teammate opens the project's URL, signs in with the
     temporary password, sets a password, is in no team (offered to accept),
     accepts, sees the project and edits the version
 10. the owner removes them; the teammate's next action says they no
     longer have access
"""

import argparse
import base64
import json
import os
import re
import sys
import time
import urllib.parse
from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as visible
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tokens_page import browser, expired_access_token, http, sign_in_tokens, step  # noqa: E402

ENV = os.environ
API = ENV["APP_UPGRADE_URL"]
ROOT = Path(__file__).resolve().parents[2]
OUTBOX = Path(ENV["DEMO_ENV"]).parent / "outbox"
API_KEY = re.compile(r"aak_[A-Za-z0-9_-]{20,}")
TEAMMATE = "teammate@example.com"
TEAMMATE_PASSWORD = "Teammate-Pass-2026!"
AXE_SOURCE = None
AXE_RESULTS = {}
SIZES = {}


class Person:
    """One browser session, driven the way a person uses the dashboard."""

    def __init__(self, name, shots):
        self.name = name
        self.d = browser()
        self.shots = shots
        self.wait = WebDriverWait(self.d, 30, ignored_exceptions=(StaleElementReferenceException,))

    # --- finding things -------------------------------------------------------

    def el(self, element_id):
        return self.d.find_element(By.ID, element_id)

    def css(self, selector):
        return self.d.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector):
        return self.d.find_elements(By.CSS_SELECTOR, selector)

    def shown(self, element_id):
        return self.wait.until(visible.visibility_of_element_located((By.ID, element_id)))

    def text_in(self, element_id, pattern):
        self.wait.until(lambda _: self.d.find_elements(By.ID, element_id)
                        and re.search(pattern, self.el(element_id).text))
        return self.el(element_id).text

    def heading(self, pattern):
        """The view's h1, once it says `pattern`."""
        self.wait.until(lambda _: any(re.search(pattern, h.text) for h in self.all("h1")))
        return self.css("h1").text

    def path(self):
        return urllib.parse.urlsplit(self.d.current_url).path

    def url(self):
        parts = urllib.parse.urlsplit(self.d.current_url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def row(self, table_id, text):
        """The row of a table whose header cell says `text`."""
        def find(_):
            for row in self.all(f"#{table_id} tbody tr"):
                if row.find_element(By.CSS_SELECTOR, "th").text.strip() == text:
                    return row
            return False
        return self.wait.until(find)

    def click_link(self, text):
        self.wait.until(visible.element_to_be_clickable((By.LINK_TEXT, text))).click()

    def type_into(self, element_id, text, clear=True):
        field = self.el(element_id) if isinstance(element_id, str) else element_id
        if clear:
            field.clear()
        field.send_keys(text)

    # --- signing in -------------------------------------------------------------

    def sign_in(self, email, password):
        """By keyboard: the sign-in screen focuses the email field."""
        self.shown("sign-in-form")
        fields = (self.el("username"), self.el("password"))
        self.wait.until(lambda d: d.switch_to.active_element in fields)
        if self.d.switch_to.active_element == fields[0]:
            fields[0].clear()
            self.d.switch_to.active_element.send_keys(email, Keys.TAB)
        assert fields[0].get_attribute("value") == email
        self.d.switch_to.active_element.send_keys(password, Keys.ENTER)

    # --- what every page gets ------------------------------------------------------

    def settle(self):
        """No view is loading and no button is busy."""
        self.wait.until(lambda _: not self.all(".loading") and not self.all("[aria-busy='true']"))

    def axe(self, page):
        """axe-core on the page as it is now: no serious or critical violation."""
        self.settle()
        if not self.d.execute_script("return typeof window.axe === 'object'"):
            self.d.execute_script(AXE_SOURCE)
        result = self.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))))"
            ".catch(e => done({error: String(e)}));")
        assert not isinstance(result, dict), result
        AXE_RESULTS[page] = result
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not bad, f"axe on {page}: {json.dumps(bad, indent=1)}"

    def screenshot(self, name, width=1280):
        """The whole page at `width` px, under target/browser-test/screenshots."""
        self.settle()
        size = self.d.get_window_size()
        phone = width < 400
        if phone:  # a phone's viewport: exactly `width` CSS px, overlay scrollbars
            self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": True})
        else:
            self.d.set_window_size(width, size["height"])
        time.sleep(0.3)
        if phone:
            overflow = self.d.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px at {width}px"
        content = self.d.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = self.d.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": content["width"], "height": content["height"], "scale": 1}})
        (self.shots / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))
        if phone:
            self.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        self.d.set_window_size(size["width"], size["height"])

    def page(self, name, shot=True):
        self.axe(name)
        if shot:
            self.screenshot(name)

    def measure_first_load(self, name, url):
        """What a fresh load of `url` transfers: the shell and its assets."""
        self.d.get(url)
        self.shown("sign-in-form")
        entries = self.d.execute_script(
            "return [performance.getEntriesByType('navigation')[0],"
            " ...performance.getEntriesByType('resource')]"
            ".map(e => ({name: e.name, size: e.transferSize, body: e.encodedBodySize}));")
        SIZES[name] = {
            "requests": len(entries),
            "transferBytes": sum(e["size"] for e in entries),
            "bodyBytes": sum(e["body"] for e in entries),
        }

    def measure_page(self, name, url, ready, user, password):
        """A fresh load of `url`, the sign-in, and the view: every request."""
        self.d.get(url)
        self.sign_in(user, password)
        self.wait.until(lambda _: ready())
        self.settle()
        entries = self.d.execute_script(
            "return [performance.getEntriesByType('navigation')[0],"
            " ...performance.getEntriesByType('resource')]"
            ".map(e => ({name: e.name, size: e.transferSize}));")
        api = [e for e in entries if "/api/v1/" in e["name"]]
        SIZES[name] = {
            "requests": len(entries),
            "transferBytes": sum(e["size"] for e in entries),
            "apiRequests": len(api),
            "apiBytes": sum(e["size"] for e in api),
        }

    def api_calls(self):
        """The API answers since the last call: [(path, bytes)]."""
        entries = self.d.execute_script(
            "const e = performance.getEntriesByType('resource').filter(r => r.initiatorType === 'fetch')"
            ".map(r => [new URL(r.name).pathname, r.transferSize]);"
            "performance.clearResourceTimings(); return e;")
        return entries

    def quit(self):
        self.d.quit()


def check(api_key, version="1.4.0"):
    query = urllib.parse.urlencode({"app_name": "Wallpaper App", "app_version": version,
                                    "platform": "android", "environment": "production"})
    status, body = http("GET", f"{API}/api/v1/versions/check?{query}", headers={"x-api-key": api_key})
    assert status == 200, (status, body)
    return body


def temporary_password(email):
    """The invitation 'email' the local stack wrote for `email`."""
    deadline = time.time() + 30
    while time.time() < deadline:
        for path in sorted(OUTBOX.glob(f"*-{email}.txt"), reverse=True):
            found = re.search(r"^Temporary password: (\S+)$", path.read_text(), re.M)
            if found:
                return found.group(1)
        time.sleep(0.5)
    raise AssertionError(f"no invitation email for {email} in {OUTBOX}")


def journey(owner, shots):
    global AXE_SOURCE
    user, password = ENV["APP_UPGRADE_USERNAME"], ENV["APP_UPGRADE_PASSWORD"]
    d = owner.d

    step("1. the owner signs in and lands in their team")
    owner.measure_first_load("shell (any dashboard URL)", f"{API}/")
    owner.page("sign-in")
    owner.sign_in(user, password + "x")
    assert owner.text_in("sign-in-error", r"Incorrect email or password")
    owner.sign_in(user, password)
    owner.heading(r"^Projects$")
    assert re.fullmatch(r"/teams/[^/]+/projects", owner.path()), owner.path()
    demo_team = Select(owner.el("team-switch")).first_selected_option.text
    assert demo_team == "Demo Team", demo_team
    assert owner.el("who-name").text == user

    step("1b. a new team, from the team switcher")
    Select(owner.el("team-switch")).select_by_visible_text("All teams / new team…")
    owner.heading(r"^Your teams$")
    owner.page("teams")
    owner.type_into(owner.css("#create-team-form input[name=name]"), "Acme Mobile")
    owner.el("create-team-button").click()
    owner.heading(r"^Projects$")
    assert owner.text_in("no-projects", r"no project yet")
    team_id = owner.path().split("/")[2]
    switch = Select(owner.el("team-switch"))
    assert switch.first_selected_option.text == "Acme Mobile"
    assert {o.text for o in switch.options} >= {"Demo Team", "Acme Mobile"}
    owner.page("projects-empty", shot=False)

    step("2. a project; its page: both ids, the CI snippets filled in")
    owner.type_into(owner.css("#create-project-form input[name=name]"), "Wallpaper App")
    owner.type_into(owner.css("#create-project-form textarea[name=description]"), "The Android and iOS wallpaper app.")
    owner.el("create-project-button").click()
    owner.heading(r"^Wallpaper App$")
    project_id = owner.path().split("/")[4]
    assert owner.path() == f"/teams/{team_id}/projects/{project_id}"
    assert owner.el("team-id").text == team_id and owner.el("project-id").text == project_id
    for snippet in ("snippet-curl", "snippet-aau"):
        text = owner.el(snippet).text
        assert f"APP_UPGRADE_TEAM_ID: {team_id}" in text, text
        assert f"APP_UPGRADE_PROJECT_ID: {project_id}" in text, text
        assert f"APP_UPGRADE_URL: {API}" in text, text
        assert "${{ secrets.APP_UPGRADE_TOKEN }}" in text, text
    assert "aau versions upsert" in owner.el("snippet-aau").text
    assert owner.text_in("no-versions", r"No versions yet") and owner.text_in("no-keys", r"No API key")

    step("3. an API key, shown once, read from the page")
    owner.type_into(owner.css("#create-key-form input[name=name]"), "Android app")
    owner.el("create-key-button").click()
    api_key = owner.shown("new-key-value").text
    assert API_KEY.fullmatch(api_key), "the page shows the new key"
    assert "displayed only once" in owner.el("new-key").text
    row = owner.row("key-table", "Android app")
    assert api_key.endswith(row.find_element(By.CSS_SELECTOR, "code").text[-4:]), row.text
    owner.el("new-key-copy").click()
    assert owner.text_in("new-key-copy-status", r"Copied|Selected")
    owner.page("project-new-key", shot=False)
    owner.el("new-key-done").click()
    assert not owner.all("#new-key"), "Done removes the key from the page"
    assert api_key not in d.page_source

    step("4. a version <2.0.0 with force upgrade on (a bad range first)")
    owner.css("#new-version summary").click()
    form = owner.el("new-version-form")
    fields = {name: form.find_element(By.NAME, name) for name in
              ("appName", "appVersion", "platform", "environment", "message", "internalNotes")}
    owner.type_into(fields["appName"], "Wallpaper App")
    owner.type_into(fields["appVersion"], "<<2")
    owner.type_into(fields["platform"], "android")
    owner.type_into(fields["environment"], "production")
    form.find_element(By.NAME, "forceUpgrade").click()
    owner.type_into(fields["message"], "Please update to continue.")
    form.find_element(By.CSS_SELECTOR, "fieldset[name=messageLocale] > button.small").click()
    owner.type_into(form.find_element(By.CSS_SELECTOR, "fieldset[name=messageLocale] .pair-key"), "fr")
    owner.type_into(form.find_element(By.CSS_SELECTOR, "fieldset[name=messageLocale] .pair-value"),
                    "Veuillez mettre à jour.")
    owner.type_into(fields["internalNotes"], "1.x has the crash on launch.")
    owner.el("new-version-form-submit").click()
    error = owner.wait.until(lambda _: form.find_element(
        By.CSS_SELECTOR, ".field-error[data-field=appVersion]").text)
    assert error.startswith("Version"), error
    assert fields["appVersion"].get_attribute("aria-invalid") == "true"
    assert owner.el("new-version-form-error").text == "", "the message is beside its field"
    owner.page("project-version-error", shot=False)
    owner.type_into(fields["appVersion"], "<2.0.0")
    owner.el("new-version-form-submit").click()
    assert owner.text_in("versions-status", r"Version Wallpaper App <2\.0\.0 created")
    row = owner.row("version-table", "Wallpaper App")
    switch = row.find_element(By.CSS_SELECTOR, "input[role=switch]")
    assert switch.is_selected() and "<2.0.0" in row.text

    step("5. outside the browser: the check with the page's key says forceUpgrade true")
    answer = check(api_key)
    assert answer["found"] is True and answer["forceUpgrade"] is True, answer
    assert answer["message"] == "Please update to continue.", answer

    step("6. the switch turns force upgrade off, saves at once and says so")
    switch.send_keys(Keys.SPACE)  # keyboard
    assert owner.text_in("versions-status", r"Saved: force upgrade is off for Wallpaper App <2\.0\.0")
    assert not owner.row("version-table", "Wallpaper App").find_element(
        By.CSS_SELECTOR, "input[role=switch]").is_selected()
    owner.screenshot("project")
    owner.screenshot("project-375", width=375)
    owner.page("project", shot=False)
    started = time.time()
    while check(api_key)["forceUpgrade"] is not False:
        assert time.time() - started < 60, "the check still says forceUpgrade true after 60 s"
        time.sleep(1)
    step(f"   the check answered forceUpgrade false after {time.time() - started:.0f} s (the cache TTL)")

    step("7. search, filters and sort in the URL; back, forward, reload, expiry")
    base = f"/teams/{team_id}/projects/{project_id}"
    filters = owner.el("version-filters")
    owner.type_into(filters.find_element(By.NAME, "name"), "wallp")
    Select(filters.find_element(By.NAME, "forceUpgrade")).select_by_visible_text("Off")
    Select(filters.find_element(By.NAME, "sortBy")).select_by_visible_text("Version, highest first")
    owner.el("apply-filters").click()
    owner.wait.until(lambda _: "forceUpgrade=false" in owner.url())
    filtered = owner.url()
    assert filtered == f"{base}?name=wallp&forceUpgrade=false&sortBy=appVersion%3Adesc", filtered
    owner.row("version-table", "Wallpaper App")
    filters = owner.el("version-filters")
    Select(filters.find_element(By.NAME, "forceUpgrade")).select_by_visible_text("On")
    owner.el("apply-filters").click()
    assert owner.text_in("no-versions", r"No version matches these filters")
    d.back()
    owner.row("version-table", "Wallpaper App")
    assert owner.url() == filtered
    assert Select(owner.css("#version-filters select[name=forceUpgrade]")).first_selected_option.text == "Off"
    d.forward()
    assert owner.text_in("no-versions", r"No version matches")
    d.back()
    owner.row("version-table", "Wallpaper App")
    d.refresh()  # the session is in memory only: sign in again, same view
    owner.sign_in(user, password)
    owner.row("version-table", "Wallpaper App")
    assert owner.url() == filtered
    assert owner.css("#version-filters input[name=name]").get_attribute("value") == "wallp"
    # From here on the browser sends an expired access token, as once the
    # session outlived it; the next action returns to sign-in, then here.
    d.execute_cdp_cmd("Network.enable", {})
    d.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                      {"headers": {"Authorization": f"Bearer {expired_access_token()}"}})
    try:
        owner.el("apply-filters").click()
        owner.shown("sign-in-form")
        assert owner.text_in("notice", r"session has expired")
    finally:
        d.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})
    assert owner.url() == filtered
    owner.sign_in(user, password)
    owner.row("version-table", "Wallpaper App")
    assert owner.url() == filtered

    activity_and_restore(owner, team_id, project_id)

    step("8. the owner invites the teammate")
    owner.click_link("Team")
    owner.heading(r"^Team$")
    me = owner.row("member-table", f"{user} (you)")
    assert "Owner" in me.text
    owner.type_into(owner.css("#invite-form input[name=email]"), TEAMMATE)
    owner.el("invite-button").click()
    assert owner.text_in("members-status", rf"Invitation sent to {re.escape(TEAMMATE)}")
    owner.row("team-invitation-table", TEAMMATE)
    owner.page("members-invited", shot=False)

    step("9. the teammate: deep link, temporary password, new password, accept")
    mate = Person("teammate", shots)
    try:
        teammate_journey(mate, team_id, project_id)

        step("10. the owner removes the teammate")
        d.refresh()
        owner.sign_in(user, password)
        row = owner.row("member-table", TEAMMATE)
        assert "Member" in row.text or row.find_elements(By.CSS_SELECTOR, "select")
        owner.screenshot("members")
        row.find_element(By.CSS_SELECTOR, "button.danger").click()
        dialog = owner.shown("confirm-dialog")
        assert TEAMMATE in dialog.text and "Acme Mobile" in dialog.text
        assert d.switch_to.active_element == owner.el("confirm-cancel"), "the safe choice has focus"
        owner.el("confirm-ok").click()
        assert owner.text_in("members-status", rf"{re.escape(TEAMMATE)} removed")
        assert not [r for r in owner.all("#member-table tbody th") if r.text == TEAMMATE]

        step("10b. the teammate's next action says they no longer have access")
        mate.el("edit-version-form-submit").click()
        said = mate.text_in("edit-version-form-error", r"\S")
        assert "no longer have access" in said, said
        mate.screenshot("teammate-removed")
        mate.click_link("Wallpaper App")
        said = mate.text_in("page-error", r"\S")
        assert "no longer have access" in said, said
    finally:
        mate.quit()

    step("10c. what each page transfers on a first load (shell, sign-in, its API calls)")
    owner.d.get(f"{API}/teams/{team_id}/projects/{project_id}")
    owner.sign_in(user, password)
    version_href = owner.row("version-table", "Wallpaper App").find_element(
        By.CSS_SELECTOR, "a").get_attribute("href")
    pages = {
        "/teams": (f"{API}/teams", lambda: owner.all("#team-list")),
        "/teams/{t}/projects": (f"{API}/teams/{team_id}/projects", lambda: owner.all("#project-table")),
        "/teams/{t}/projects/{p}": (f"{API}/teams/{team_id}/projects/{project_id}",
                                    lambda: owner.all("#version-table") and owner.all("#key-table")),
        "…/versions/{v}": (version_href, lambda: owner.all("#edit-version-form")),
        "/teams/{t}/members": (f"{API}/teams/{team_id}/members", lambda: owner.all("#member-table")),
        "/teams/{t}/activity?project={p}": (f"{API}/teams/{team_id}/activity?project={project_id}",
                                            lambda: owner.all("#activity-list li")),
        "/account/tokens": (f"{API}/account/tokens", lambda: owner.all("#tokens-title")),
    }
    for name, (url, ready) in pages.items():
        owner.measure_page(name, url, ready, user, password)

    step("10d. the owner deletes the project: the confirmation names it, its key stops working")
    owner.d.get(f"{API}/teams/{team_id}/projects/{project_id}")
    owner.sign_in(user, password)
    owner.shown("delete-project").click()
    dialog = owner.shown("confirm-dialog")
    assert "Wallpaper App" in dialog.text and "1 API key is" in dialog.text, dialog.text
    owner.el("confirm-ok").click()
    assert owner.text_in("projects-status", r"Project “Wallpaper App” deleted")
    assert owner.path() == f"/teams/{team_id}/projects"
    assert owner.text_in("no-projects", r"no project yet")
    started = time.time()
    while http("GET", f"{API}/api/v1/versions/check?app_name=x&app_version=1&platform=a&environment=b",
               headers={"x-api-key": api_key})[0] != 401:
        assert time.time() - started < 60, "the deleted project's key still works after 60 s"
        time.sleep(1)

    step("11. sign out")
    owner.el("sign-out").click()
    owner.shown("sign-in-form")
    assert owner.text_in("notice", r"signed out")
    assert not owner.all("#version-table") and not owner.el("main-nav").is_displayed()

    step("12. sign-up, where the pool allows it (COGNITO_SIGN_UP=true in this stack)")
    # moto's SignUp ignores the pool's AllowAdminCreateUserOnly (AWS refuses
    # it: the template's pool keeps the page's flag off) and its
    # ConfirmSignUp takes any code; the email stays unverified, so no
    # invitation is offered to such an account.
    owner.el("show-sign-up").click()
    owner.heading(r"^Create an account$")
    owner.type_into("username", "self-signed@example.com")
    owner.type_into("password", "short")
    owner.el("sign-in-button").click()
    assert owner.text_in("sign-in-error", r"\S")  # Cognito's password policy, in words
    owner.type_into("password", "Self-Signed-2026!")
    owner.el("sign-in-button").click()
    owner.heading(r"^Confirm your email$")
    owner.page("sign-up-confirm", shot=False)
    owner.type_into("confirm-code", "123456")
    owner.el("sign-in-button").click()
    # Signed in where the owner left off (their Access Tokens); home is
    # the no-team state.
    owner.wait.until(lambda _: owner.el("who-name").text == "self-signed@example.com")
    owner.click_link("App Upgrade")
    owner.heading(r"^Welcome to App Upgrade$")
    assert owner.path() == "/teams"
    assert owner.text_in("no-invitations", r"No pending invitations")


def activity_and_restore(owner, team_id, project_id):
    """7b–7d: the switch's change in the project's Activity, then a restore from the version's history."""
    user, password = ENV["APP_UPGRADE_USERNAME"], ENV["APP_UPGRADE_PASSWORD"]
    d = owner.d

    step("7b. the owner switches force upgrade back on; the project's Activity says who, what and before → after")
    switch = owner.row("version-table", "Wallpaper App").find_element(By.CSS_SELECTOR, "input[role=switch]")
    switch.send_keys(Keys.SPACE)
    assert owner.text_in("versions-status", r"Saved: force upgrade is on for Wallpaper App <2\.0\.0")
    owner.el("project-activity-link").click()
    owner.heading(r"^Activity · Wallpaper App$")
    assert owner.url() == f"/teams/{team_id}/activity?project={project_id}", owner.url()
    owner.wait.until(lambda _: owner.all("#activity-list li.event"))
    events = owner.all("#activity-list li.event")
    assert [e.get_attribute("data-action") for e in events] == \
        ["version.updated", "version.updated", "version.created"], [e.text for e in events]
    newest = events[0]
    what = newest.find_element(By.CSS_SELECTOR, ".event-what").text
    assert what == "Updated version Wallpaper App <2.0.0 (android, production)", what
    actor = newest.find_element(By.CSS_SELECTOR, ".actor").text
    assert actor == user, actor
    change = newest.find_element(By.CSS_SELECTOR, "li[data-field=forceUpgrade]").text
    assert change == "forceUpgrade false → true", change
    assert events[1].find_element(By.CSS_SELECTOR, "li[data-field=forceUpgrade]").text == "forceUpgrade true → false"
    stamp = newest.find_element(By.CSS_SELECTOR, "time")
    assert re.match(r"\d{4}-\d\d-\d\dT", stamp.get_attribute("datetime")), stamp.get_attribute("datetime")
    assert re.search(r"just now|seconds? ago|minutes? ago", stamp.text), stamp.text
    meta = newest.find_element(By.CSS_SELECTOR, ".event-meta").text
    # Where from: the source IP and the user agent, shortened (under `make
    # run`, cargo lambda's proxy is the agent the function sees).
    assert re.search(r" · from \S+, \S", meta), meta
    assert not owner.all("#activity-more:not([hidden])"), "three events fit one page"
    owner.page("activity")
    owner.screenshot("activity-375", width=375)

    step("7c. the version's history: restore the previous revision through the confirmation")
    newest.find_element(By.CSS_SELECTOR, ".event-what a").click()
    owner.heading(r"Wallpaper App <2\.0\.0")
    version_id = owner.path().split("/")[-1]
    assert owner.el("fact-force-upgrade").text == "On"
    revisions = owner.all("#history-list li.revision")
    assert len(revisions) == 3, [r.text for r in revisions]
    assert "Current" in revisions[0].find_element(By.CSS_SELECTOR, "h3").text
    assert not revisions[0].find_elements(By.CSS_SELECTOR, "button.restore"), "the current one is not restorable"
    previous = revisions[1]
    assert previous.find_element(By.CSS_SELECTOR, "li[data-field=forceUpgrade]").text == "forceUpgrade true → false"
    number = previous.get_attribute("data-revision")
    owner.page("version-history")
    owner.screenshot("version-history-375", width=375)
    restore = owner.all("#history-list li.revision")[1].find_element(By.CSS_SELECTOR, "button.restore")
    assert restore.get_attribute("aria-label") == f"Restore revision {number}"
    restore.click()
    dialog = owner.shown("confirm-dialog")
    assert f"Restore revision {number}?" in dialog.text, dialog.text
    assert owner.el("restore-changes").text == "forceUpgrade true → false", owner.el("restore-changes").text
    assert d.switch_to.active_element == owner.el("confirm-cancel"), "the safe choice has focus"
    owner.axe("restore-dialog")
    owner.screenshot("restore-dialog")
    d.switch_to.active_element.send_keys(Keys.ESCAPE)
    owner.wait.until(lambda _: not dialog.is_displayed())
    assert owner.el("fact-force-upgrade").text == "On", "Escape restores nothing"
    owner.all("#history-list li.revision")[1].find_element(By.CSS_SELECTOR, "button.restore").click()
    owner.shown("confirm-dialog")
    owner.el("confirm-ok").click()
    assert owner.text_in("version-status", rf"Restored revision {number} of Wallpaper App <2\.0\.0")
    assert owner.el("fact-force-upgrade").text == "Off"
    revisions = owner.all("#history-list li.revision")
    assert len(revisions) == 4 and "Restored by" in revisions[0].text, [r.text for r in revisions]
    assert revisions[0].find_element(By.CSS_SELECTOR, "li[data-field=forceUpgrade]").text == "forceUpgrade true → false"

    step("7d. the API agrees: the version's forceUpgrade is false, and the restore is in the activity")
    session = sign_in_tokens(ENV["COGNITO_CLIENT_ID"], user, password)["AccessToken"]
    status, body = http("GET", f"{API}/api/v1/projects/{project_id}/versions/{version_id}?teamId={team_id}",
                        token=session)
    assert status == 200 and body["forceUpgrade"] is False, (status, body)
    # More events than a page holds (20): 17 edits through the API, the last
    # putting the internal notes back as they were.
    url = f"{API}/api/v1/projects/{project_id}/versions/{version_id}?teamId={team_id}"
    fields = {k: body[k] for k in ("appName", "appVersion", "platform", "environment", "forceUpgrade", "message",
                                   "messageLocale", "customAttributes", "internalNotes", "active")}
    for n in range(1, 18):
        notes = fields["internalNotes"] if n == 17 else f"Draft {n}"
        status, _ = http("PATCH", url, token=session, body={**fields, "internalNotes": notes})
        assert status == 200, status
    owner.el("version-activity-link").click()
    owner.heading(r"^Activity · Wallpaper App$")
    owner.wait.until(lambda _: owner.all("#activity-list li.event"))
    events = owner.all("#activity-list li.event")
    assert len(events) == 20, len(events)
    assert events[0].find_element(By.CSS_SELECTOR, "li[data-field=internalNotes]").text == \
        "internalNotes Draft 16 → 1.x has the crash on launch."
    owner.el("activity-more").click()
    owner.wait.until(lambda _: len(owner.all("#activity-list li.event")) == 21)
    assert not owner.el("activity-more").is_displayed(), "the second page is the last"
    said = owner.el("activity-status").get_attribute("textContent")
    assert said == "1 more event shown.", said
    restored = [e for e in owner.all("#activity-list li.event") if e.get_attribute("data-action") == "version.restored"]
    assert len(restored) == 1 and f"to revision {number}" in restored[0].text, [e.text for e in restored]

    step("7e. deleted, the version's page keeps its history; a restore while another version holds its identity is a 409")
    owner.d.back()
    owner.heading(r"Wallpaper App <2\.0\.0")
    owner.el("delete-version").click()
    owner.shown("confirm-dialog")
    owner.el("confirm-ok").click()
    assert owner.text_in("versions-status", r"Version Wallpaper App <2\.0\.0 \(android, production\) deleted")
    status, other = http("POST", f"{API}/api/v1/projects/{project_id}/versions?teamId={team_id}", token=session,
                         body={**fields, "project": project_id})
    assert status == 201, (status, other)
    owner.el("project-activity-link").click()
    owner.heading(r"^Activity · Wallpaper App$")
    deleted = owner.wait.until(lambda _: owner.all("#activity-list li[data-action='version.deleted']"))[0]
    link = deleted.find_element(By.CSS_SELECTOR, ".event-what a")
    assert link.text == "Wallpaper App <2.0.0 (android, production) — deleted", link.text
    link.click()
    assert owner.text_in("version-deleted", r"This version was deleted")
    revisions = owner.all("#history-list li.revision")
    assert "Deleted" in revisions[0].find_element(By.CSS_SELECTOR, "h3").text, revisions[0].text
    # 22 revisions: the newest 10 listed, the rest folded.
    assert owner.css("#older-revisions summary").text == "Older revisions (12)", owner.css("#older-revisions").text
    owner.page("version-deleted")
    revisions[1].find_element(By.CSS_SELECTOR, "button.restore").click()
    owner.shown("confirm-dialog")
    owner.el("confirm-ok").click()
    said = owner.text_in("confirm-error", r"\S")
    assert said.startswith("Not restored: another version of this project is now Wallpaper App <2.0.0"), said
    owner.el("confirm-cancel").click()
    status, _ = http("DELETE", f"{API}/api/v1/projects/{project_id}/versions/{other['id']}?teamId={team_id}",
                     token=session)
    assert status == 204, status
    owner.all("#history-list li.revision")[1].find_element(By.CSS_SELECTOR, "button.restore").click()
    owner.shown("confirm-dialog")
    owner.el("confirm-ok").click()
    assert owner.text_in("version-status", r"Restored revision \d+ of Wallpaper App <2\.0\.0")
    assert owner.el("fact-force-upgrade").text == "Off" and not owner.all("#version-deleted")
    status, body = http("GET", url, token=session)
    assert status == 200 and body["internalNotes"] == "1.x has the crash on launch.", (status, body)

    step("7f. the team's Activity (members, projects, API keys), from the main navigation")
    owner.click_link("Activity")
    owner.heading(r"^Activity$")
    assert owner.url() == f"/teams/{team_id}/activity", owner.url()
    owner.wait.until(lambda _: owner.all("#activity-list li.event") or owner.all("#activity-unavailable")
                     or owner.all("#activity-empty"))
    if owner.all("#activity-unavailable"):
        step("   this API has no team activity route yet: the page says so")
    else:
        whats = [e.text for e in owner.all("#activity-list li.event .event-what")]
        for expected in ("Created API key Android app of project Wallpaper App", "Created project Wallpaper App",
                         "Created the team Acme Mobile"):
            assert expected in whats, whats
    owner.page("team-activity")

    step("7g. the account's token activity, below the token list")
    owner.click_link("Access Tokens")
    owner.heading(r"^Access Tokens$")
    owner.wait.until(lambda _: owner.all("#token-events-list li.event") or owner.all("#token-events-unavailable")
                     or owner.all("#token-events-empty"))
    if owner.all("#token-events-unavailable"):
        step("   this API has no account activity route yet: the page says so")
    else:
        # The Access Tokens journey (same account) created and revoked tokens.
        whats = [e.text for e in owner.all("#token-events-list li.event .event-what")]
        assert any(w.startswith("Revoked token ") for w in whats), whats
        assert any(w.startswith("Created token ") for w in whats), whats
    owner.page("token-activity", shot=False)
    owner.d.back()
    owner.heading(r"^Activity$")
    owner.d.back()
    owner.heading(r"Wallpaper App <2\.0\.0")


def teammate_journey(mate, team_id, project_id):
    project_url = f"{API}/teams/{team_id}/projects/{project_id}"
    temporary = temporary_password(TEAMMATE)
    mate.d.get(project_url)
    mate.sign_in(TEAMMATE, temporary)
    mate.heading(r"^Choose your password$")
    assert "temporary password" in mate.el("challenge-text").text
    mate.page("new-password")
    mate.type_into("challenge-answer", TEAMMATE_PASSWORD)
    mate.type_into("challenge-repeat", TEAMMATE_PASSWORD + "x")
    mate.el("sign-in-button").click()
    assert mate.text_in("sign-in-error", r"differ")
    mate.type_into("challenge-answer", TEAMMATE_PASSWORD)
    mate.type_into("challenge-repeat", TEAMMATE_PASSWORD)
    mate.el("sign-in-button").click()
    # Not in the team yet: the deep link says so, and where to go.
    mate.heading(r"do not have access to this team")
    assert mate.path() == f"/teams/{team_id}/projects/{project_id}"
    mate.click_link("Go to your teams")
    mate.heading(r"^Welcome to App Upgrade$")
    assert mate.text_in("no-team", r"not in any team yet")
    invitation = mate.row("invitation-table", "Acme Mobile")
    mate.page("no-team")
    invitation.find_element(By.CSS_SELECTOR, "button").click()
    mate.heading(r"^Projects$")
    assert Select(mate.el("team-switch")).first_selected_option.text == "Acme Mobile"
    mate.row("project-table", "Wallpaper App")
    mate.screenshot("projects")

    step("9b. the teammate edits the version")
    mate.click_link("Wallpaper App")
    mate.heading(r"^Wallpaper App$")
    mate.row("version-table", "Wallpaper App").find_element(By.LINK_TEXT, "Wallpaper App").click()
    mate.heading(r"Wallpaper App <2\.0\.0")
    form = mate.el("edit-version-form")
    message = form.find_element(By.NAME, "message")
    assert message.get_attribute("value") == "Please update to continue."
    locale = form.find_element(By.CSS_SELECTOR, "fieldset[name=messageLocale] .pair-key")
    assert locale.get_attribute("value") == "fr"
    assert form.find_element(By.NAME, "internalNotes").get_attribute("value") == "1.x has the crash on launch."
    mate.type_into(message, "Version 2 is out: please update.")
    mate.el("edit-version-form-submit").click()
    assert mate.text_in("version-status", r"Saved Wallpaper App <2\.0\.0")
    assert mate.el("edit-version-form").find_element(By.NAME, "message").get_attribute("value") \
        == "Version 2 is out: please update."
    mate.page("version")


def main():
    global AXE_SOURCE
    parser = argparse.ArgumentParser()
    parser.add_argument("--artifacts", required=True)
    parser.add_argument("--axe", required=True, help="axe.min.js of the pinned axe-core")
    args = parser.parse_args()
    AXE_SOURCE = Path(args.axe).read_text()
    artifacts = Path(args.artifacts)
    shots = artifacts / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    started = time.time()
    owner = Person("owner", shots)
    try:
        journey(owner, shots)
    except BaseException:
        owner.d.save_screenshot(str(artifacts / "dashboard-failure.png"))
        (artifacts / "dashboard-failure.html").write_text(owner.d.page_source)
        step(f"failed; screenshot and DOM in {artifacts}; console: {owner.d.get_log('browser')}")
        raise
    finally:
        owner.quit()
        report = {"seconds": round(time.time() - started, 1), "firstLoad": SIZES, "axe": AXE_RESULTS}
        (artifacts / "dashboard-report.json").write_text(json.dumps(report, indent=1))
    minor = sum(len(v) for v in AXE_RESULTS.values())
    step(f"OK: the dashboard journey in {report['seconds']} s; axe on {len(AXE_RESULTS)} pages, "
         f"{minor} moderate/minor findings; first load {SIZES}; screenshots in {shots}")


if __name__ == "__main__":
    main()
