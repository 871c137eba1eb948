"""The Access Tokens page as a person uses it, in headless Chromium.

Run by infra/scripts/browser-test.sh (part of `make test`) against a private
`make run` stack whose credentials file it has sourced (APP_UPGRADE_*,
COGNITO_*). Steps, each asserted:

  0. a wrong password shows an error and starts no session
  1. sign in as the demo account (keyboard only)
  2. create a versions:read token (after the API's 400 for a nameless one)
     and read it from the page
  3. with it, outside the browser: list versions 200, create a version 403
  3b. a limited token from the form (the demo project chosen, "Staging"
     typed): the list shows its project by name and its environment; with
     it, a production version is a 403 naming production and a staging one
     201; axe finds nothing; screenshots at 1280 and 375 px (no sideways
     scrolling); "Create replacement" on it (it expires within 7 days)
     fills in the form with a new name, its permissions and limits
  4. reload: the token is nowhere in the DOM or browser storage
  5. a duplicate name: the API's 409 message next to the form
  6. revoke it with the confirmation step: the row goes, the token gets 401
  6b. revoke all with the confirmation step: cancel keeps every token;
     confirmed (by keyboard), the list is empty and the seeded demo token
     gets 401
  7. sign out: the sign-in screen, no JWT or token in the DOM or storage;
     an expired session: back to sign-in with a clear message
  8. the local JWT check: a real Cognito access token passes; signed by
     another key, tampered, from another pool (issuer), for another app
     client, expired, or an id token: 401 on every account route
"""

import argparse
import base64
import json
import os
import re
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

# joserfc and load_resource: moto's own JWT library and key loader.
from joserfc import jwt
from joserfc.jwk import RSAKey
from moto.utilities.utils import load_resource
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as visible
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra/scripts"))
import local_cognito  # noqa: E402  (the stack's own Cognito set-up)

ENV = os.environ
API = ENV["APP_UPGRADE_URL"]
PAGE = ENV["APP_UPGRADE_PAGE_URL"]
COGNITO = ENV["COGNITO_ENDPOINT"]
ROOT = Path(__file__).resolve().parents[2]
SECRET = re.compile(r"aau_[A-Za-z0-9_-]{20,}")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ")

# Never send local traffic through an HTTP(S)_PROXY from the environment.
urlopen = urllib.request.build_opener(urllib.request.ProxyHandler({})).open


def step(text):
    print(f"browser-test: {text}", file=sys.stderr, flush=True)


def http(method, url, token=None, body=None, headers=None):
    """(status, parsed JSON body or None)."""
    request = urllib.request.Request(url, method=method, headers=dict(headers or {}))
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        request.data = json.dumps(body).encode()
        if not request.has_header("Content-type"):
            request.add_header("Content-Type", "application/json")
    try:
        with urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    return status, (json.loads(raw) if raw.strip() else None)


def cognito(action, body):
    status, data = http(
        "POST",
        COGNITO,
        body=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}",
        },
    )
    assert status == 200, (action, status, data)
    return data


def sign_in_tokens(client_id, username, password):
    return cognito(
        "InitiateAuth",
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": client_id,
            "AuthParameters": {"USERNAME": username, "PASSWORD": password},
        },
    )["AuthenticationResult"]


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--lang=en-US"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))


class Page:
    def __init__(self, driver):
        self.d = driver
        # The list is re-rendered after each change: retry a read that raced it.
        self.wait = WebDriverWait(driver, 30, ignored_exceptions=(StaleElementReferenceException,))

    def el(self, element_id):
        return self.d.find_element(By.ID, element_id)

    def displayed(self, element_id):
        """Whether the element is in the page and visible (views replace
        each other, so a hidden view is usually not in the DOM at all)."""
        found = self.d.find_elements(By.ID, element_id)
        return bool(found) and found[0].is_displayed()

    def shown(self, element_id):
        return self.wait.until(visible.visibility_of_element_located((By.ID, element_id)))

    def text_in(self, element_id, pattern):
        self.wait.until(lambda _: re.search(pattern, self.el(element_id).text))
        return self.el(element_id).text

    def rows(self):
        return {
            row.find_element(By.CSS_SELECTOR, "th").text: row
            for row in self.d.find_elements(By.CSS_SELECTOR, "#token-rows tr")
        }

    def storage(self):
        """Everything the page could have kept in the browser."""
        return self.d.execute_script(
            "return {local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage),"
            " cookie: document.cookie, url: location.href, history: history.length};"
        )

    def assert_nothing_kept(self, *secrets):
        kept = self.storage()
        assert kept["local"] == "{}" and kept["session"] == "{}" and kept["cookie"] == "", kept
        assert kept["url"] == PAGE, kept
        html = self.d.page_source
        for secret in secrets:
            assert secret not in html and secret not in json.dumps(kept), "a secret is still in the page"
        assert not SECRET.search(html), SECRET.search(html)
        assert not JWT.search(html), "a JWT is in the DOM"

    def sign_in(self, username, password):
        """By keyboard: the sign-in screen focuses the email field, or after
        a failed attempt the password field (the email is kept)."""
        self.shown("sign-in-form")
        fields = (self.el("username"), self.el("password"))
        self.wait.until(lambda d: d.switch_to.active_element in fields)
        if self.d.switch_to.active_element == fields[0]:
            fields[0].clear()
            self.d.switch_to.active_element.send_keys(username, Keys.TAB)
        assert fields[0].get_attribute("value") == username
        self.d.switch_to.active_element.send_keys(password, Keys.ENTER)

    def console_errors(self):
        # A 4xx the page shows on purpose (Cognito's 400 for a wrong password,
        # the API's 400/409) is logged as a failed resource load; anything
        # else (a script error, a CSP violation) is a bug.
        return [
            entry["message"]
            for entry in self.d.get_log("browser")
            if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
        ]


def check_headers():
    request = urllib.request.Request(PAGE)
    with urlopen(request, timeout=60) as response:
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    origin = COGNITO.rstrip("/")
    assert f"connect-src 'self' {origin};" in csp, csp
    assert "frame-ancestors 'none'" in csp and "unsafe" not in csp, csp
    assert headers["Referrer-Policy"] == "no-referrer", headers
    assert headers["X-Content-Type-Options"] == "nosniff", headers


def axe(page, source, name):
    """axe-core on the page as it is now: no violation at all."""
    d = page.d
    if not d.execute_script("return typeof window.axe === 'object'"):
        d.execute_script(source)
    result = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))))"
        ".catch(e => done({error: String(e)}));")
    assert result == [], f"axe on {name}: {json.dumps(result, indent=1)}"


def whole_page(d, path, width):
    """The whole page at `width` CSS px; at a phone's width it must not
    scroll sideways."""
    path.parent.mkdir(parents=True, exist_ok=True)
    phone = width < 400
    size = d.get_window_size()
    if phone:
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": True})
    else:
        d.set_window_size(width, size["height"])
    time.sleep(0.3)
    try:
        if phone:
            overflow = d.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path.name}: the page scrolls sideways by {overflow}px at {width}px"
        content = d.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = d.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": content["width"], "height": content["height"], "scale": 1}})
        path.write_bytes(base64.b64decode(shot["data"]))
    finally:
        if phone:
            d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        d.set_window_size(size["width"], size["height"])


def limited_token(page, versions, axe_source, shots):
    d = page.d
    project_id = ENV["APP_UPGRADE_PROJECT_ID"]
    name = "Staging deploys"
    page.el("token-name").send_keys(name)
    read, write = d.find_elements(By.CSS_SELECTOR, 'input[name="scopes"]')
    write.click()
    box = d.find_element(By.CSS_SELECTOR, f'#token-projects input[value="{project_id}"]')
    label = box.find_element(By.XPATH, "..").text
    assert "Demo Project" in label, label
    box.click()
    page.el("token-environments").send_keys("Staging")
    Select(page.el("token-expiry")).select_by_value("7")
    before = page.el("new-token-value").text
    page.el("create-button").click()
    page.wait.until(lambda _: page.el("new-token-value").text != before)
    secret = page.el("new-token-value").text
    assert SECRET.fullmatch(secret), "the page shows the new token"
    page.wait.until(lambda _: name in page.rows())
    row = page.rows()[name]
    cells = {c.get_attribute("data-label"): c.text for c in row.find_elements(By.CSS_SELECTOR, "td")}
    assert cells["Projects"] == "Demo Project", cells
    assert cells["Environments"] == "staging", cells
    assert "Expires soon" in cells["Expires"], cells
    others = [r for n, r in page.rows().items() if n != name]
    assert all("All projects" in r.text and "All environments" in r.text for r in others), \
        "an unlimited token says so"
    assert page.el("token-environments").get_attribute("value") == "", "the form is reset"

    status, body = http("POST", versions, secret, {
        "project": project_id, "appName": "Browser App", "appVersion": "1.0.0",
        "platform": "android", "environment": "production", "forceUpgrade": False})
    assert status == 403 and "production" in body["message"], (status, body)
    status, body = http("POST", versions, secret, {
        "project": project_id, "appName": "Browser App", "appVersion": "1.0.0",
        "platform": "android", "environment": "staging", "forceUpgrade": False})
    assert status == 201, (status, body)
    status, body = http("GET", versions, secret)
    assert status == 200 and all(v["environment"] == "staging" for v in body["results"]), body

    axe(page, axe_source, "access tokens, a limited token listed")
    whole_page(d, shots / "access-tokens-limited.png", 1280)
    whole_page(d, shots / "access-tokens-375.png", 375)

    row.find_element(By.XPATH, ".//button[text()='Create replacement']").click()
    assert page.text_in("create-status", r"Filled in from")
    assert d.switch_to.active_element == page.el("token-name")
    assert page.el("token-name").get_attribute("value") == f"{name} (replacement)"
    read, write = d.find_elements(By.CSS_SELECTOR, 'input[name="scopes"]')
    assert read.is_selected() and write.is_selected()
    assert d.find_element(By.CSS_SELECTOR, f'#token-projects input[value="{project_id}"]').is_selected()
    assert page.el("token-environments").get_attribute("value") == "staging"
    axe(page, axe_source, "access tokens, a replacement filled in")
    return secret


def journey(page, screenshot, axe_source):
    d = page.d
    user, password = ENV["APP_UPGRADE_USERNAME"], ENV["APP_UPGRADE_PASSWORD"]
    versions = (f"{API}/api/v1/projects/{ENV['APP_UPGRADE_PROJECT_ID']}/versions"
                f"?teamId={ENV['APP_UPGRADE_TEAM_ID']}")
    d.get(PAGE)

    step("0. a wrong password: an error, no session")
    page.sign_in(user, password + "x")
    assert page.text_in("sign-in-error", r"Incorrect email or password")
    assert not page.displayed("tokens") and not page.displayed("who")
    assert page.el("password").get_attribute("value") == "", "the password field is cleared"
    assert d.switch_to.active_element == page.el("password"), "ready for another try"
    page.assert_nothing_kept(password)

    step("1. sign in as the demo account")
    page.sign_in(user, password)
    page.shown("tokens")
    assert page.text_in("who-name", re.escape(user))
    page.wait.until(lambda _: {"demo read-write", "demo read-only"} <= set(page.rows()))
    page.assert_nothing_kept(password)

    step("2. create a versions:read token (a nameless one first: the API's 400)")
    read, write = d.find_elements(By.CSS_SELECTOR, 'input[name="scopes"]')
    assert read.get_attribute("value") == "versions:read" and read.is_selected()
    assert write.get_attribute("value") == "versions:write" and not write.is_selected()
    assert page.el("token-expiry").get_attribute("value") == "90"
    page.el("create-button").click()
    assert page.text_in("name-error", r"^Name must not be empty")
    assert page.el("create-error").text == "", "the message is beside its field only"
    assert page.el("token-name").get_attribute("aria-invalid") == "true"
    name = "GitHub Actions production"  # the stack is seeded afresh for every run
    page.el("token-name").send_keys(name)
    page.el("create-button").click()
    secret = page.shown("new-token-value").text
    assert SECRET.fullmatch(secret), "the page shows the new token"
    assert "displayed only once" in page.el("new-token").text
    page.wait.until(lambda _: name in page.rows())
    cells = [c.text for c in page.rows()[name].find_elements(By.CSS_SELECTOR, "th, td")]
    assert cells[1] == "versions:read" and cells[2].endswith(secret[-4:]), cells
    assert cells[5] == "Never", cells
    assert page.el("name-error").text == "" and page.el("create-error").text == ""
    page.el("new-token-copy").click()
    assert page.text_in("new-token-copy-status", r"Copied|Selected")
    # The whole page, list included (the token is revoked in step 6).
    Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
    size = d.get_window_size()
    d.set_window_size(size["width"], d.execute_script("return document.body.scrollHeight") + 120)
    d.save_screenshot(str(screenshot))
    d.set_window_size(size["width"], size["height"])

    step("3. the new token outside the browser: list 200, create 403")
    status, body = http("GET", versions, secret)
    assert status == 200 and "results" in body, (status, body)
    status, body = http("POST", versions, secret, {
        "project": ENV["APP_UPGRADE_PROJECT_ID"], "appName": "Browser App", "appVersion": "1.0.0",
        "platform": "android", "environment": "production", "forceUpgrade": False})
    assert status == 403, (status, body)

    step("3b. a limited token from the form; its replacement filled in")
    limited = limited_token(page, versions, axe_source, Path(screenshot).parent)

    step("4. reload: the token is gone from the DOM and storage")
    d.refresh()
    page.shown("sign-in-form")
    page.assert_nothing_kept(secret, limited, password)
    assert not page.displayed("new-token")

    step("5. a duplicate name: the API's 409 message next to the form")
    page.sign_in(user, password)
    page.wait.until(lambda _: name in page.rows())
    page.el("token-name").send_keys(name)
    page.el("create-button").click()
    conflict = page.text_in("create-error", r"\S")
    assert name in conflict or "already" in conflict, conflict
    assert not page.displayed("new-token")

    step("6. revoke with confirmation: the row goes, the token gets 401")
    page.rows()[name].find_element(By.CSS_SELECTOR, "button").click()
    dialog = page.shown("confirm-dialog")
    assert name in dialog.text and "Revoke token?" in dialog.text
    page.el("confirm-cancel").click()
    assert not dialog.is_displayed() and name in page.rows(), "cancel keeps the token"
    page.rows()[name].find_element(By.CSS_SELECTOR, "button").click()
    page.shown("confirm-dialog")
    assert d.switch_to.active_element == page.el("confirm-cancel"), "the safe choice has focus"
    d.switch_to.active_element.send_keys(Keys.TAB)
    d.switch_to.active_element.send_keys(Keys.ENTER)  # "Revoke token", by keyboard
    page.wait.until(lambda _: name not in page.rows())
    assert page.text_in("list-status", r"revoked")
    status, _ = http("GET", versions, secret)
    assert status == 401, status

    step("6b. revoke all with confirmation: the list empties, every token gets 401")
    demo = ENV["APP_UPGRADE_READ_TOKEN"]
    status, _ = http("GET", versions, demo)
    assert status == 200, status
    before = set(page.rows())
    assert before, "the seeded tokens are listed"
    page.shown("revoke-all").click()
    dialog = page.shown("confirm-dialog")
    assert "every" in dialog.text
    page.el("confirm-cancel").click()
    assert not dialog.is_displayed() and set(page.rows()) == before, "cancel keeps them all"
    page.el("revoke-all").click()
    page.shown("confirm-dialog")
    assert d.switch_to.active_element == page.el("confirm-cancel"), "the safe choice has focus"
    d.switch_to.active_element.send_keys(Keys.TAB)
    d.switch_to.active_element.send_keys(Keys.ENTER)  # "Revoke all tokens", by keyboard
    page.wait.until(lambda _: not page.rows())
    assert page.text_in("list-status", rf"All tokens revoked \({len(before)}\)")
    assert not page.el("revoke-all").is_displayed(), "nothing left to revoke"
    status, _ = http("GET", versions, demo)
    assert status == 401, status

    step("7. sign out: the sign-in screen, nothing left behind")
    page.el("sign-out").click()
    page.shown("sign-in-form")
    assert page.text_in("notice", r"signed out")
    assert not page.displayed("tokens") and not page.displayed("token-rows")
    page.assert_nothing_kept(secret, password)

    step("7b. an expired session: back to sign-in with a clear message")
    page.sign_in(user, password)
    page.shown("tokens")
    # From here on the browser sends the API an expired access token, as it
    # would once the session outlived the token (DevTools: extra headers
    # replace the page's Authorization header on every request).
    d.execute_cdp_cmd("Network.enable", {})
    d.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                      {"headers": {"Authorization": f"Bearer {expired_access_token()}"}})
    try:
        page.el("token-name").send_keys("after expiry")
        page.el("create-button").click()
        page.shown("sign-in-form")
        assert page.text_in("notice", r"session has expired")
    finally:
        d.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})
    assert not page.displayed("tokens") and not page.displayed("token-rows")
    page.assert_nothing_kept(password)

    errors = page.console_errors()
    assert not errors, errors


def issuer_key():
    """The emulator's own signing key (moto ships it): lets this test make
    tokens that differ from a real one in exactly one way."""
    return RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


def expired_access_token():
    real = sign_in_tokens(ENV["COGNITO_CLIENT_ID"], ENV["APP_UPGRADE_USERNAME"],
                          ENV["APP_UPGRADE_PASSWORD"])["AccessToken"]
    now = int(time.time())
    claims = dict(claims_of(real), iat=now - 7200, auth_time=now - 7200, exp=now - 3600)
    return forged(claims, issuer_key(), kid_of(real))


def kid_of(token):
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]


def forged(claims, key, kid):
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def local_jwt_check():
    step("8. the local JWT check on every account route")
    user, password = ENV["APP_UPGRADE_USERNAME"], ENV["APP_UPGRADE_PASSWORD"]
    pool, client = ENV["COGNITO_USER_POOL_ID"], ENV["COGNITO_CLIENT_ID"]
    real = sign_in_tokens(client, user, password)
    tokens = f"{API}/api/v1/account/tokens"
    routes = [("GET", tokens, None),
              ("POST", tokens, {"name": "must not exist", "scopes": ["versions:read"]}),
              ("DELETE", f"{tokens}/01J00000000000000000000000", None)]
    status, body = http("GET", tokens, real["AccessToken"])
    assert status == 200, (status, body)

    claims = claims_of(real["AccessToken"])
    kid = kid_of(real["AccessToken"])
    head, _, signature = real["AccessToken"].split(".")
    tampered_claims = dict(claims, sub="someone-else")
    tampered_body = base64.urlsafe_b64encode(json.dumps(tampered_claims).encode()).rstrip(b"=").decode()

    idp = local_cognito.client(COGNITO)
    other = local_cognito.create_pool(idp, "other-pool", "other@example.com")
    other_client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="other-app", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    bad = {
        "signed by another key": forged(claims, RSAKey.generate_key(2048), kid),
        "tampered claims": f"{head}.{tampered_body}.{signature}",
        "another pool (wrong issuer)": sign_in_tokens(
            other["clientId"], other["username"], other["password"])["AccessToken"],
        "another app client": sign_in_tokens(other_client, user, password)["AccessToken"],
        "expired": expired_access_token(),
        "an id token": real["IdToken"],
    }
    # The forging itself is sound: the same key and claims pass.
    status, _ = http("GET", tokens, forged(claims, issuer_key(), kid))
    assert status == 200, f"a re-signed genuine token got {status}"
    for why, token in bad.items():
        for method, url, payload in routes:
            status, body = http(method, url, token, payload)
            assert status == 401, (why, method, url, status, body)
            assert body["code"], body
    status, body = http("GET", tokens, real["AccessToken"])
    assert status == 200 and all(t["name"] != "must not exist" for t in body["results"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--artifacts", required=True)
    parser.add_argument("--axe", required=True, help="axe.min.js of the pinned axe-core")
    args = parser.parse_args()
    check_headers()
    driver = browser()
    page = Page(driver)
    try:
        journey(page, args.screenshot, Path(args.axe).read_text())
    except BaseException:
        driver.save_screenshot(str(Path(args.artifacts) / "failure.png"))
        Path(args.artifacts, "failure.html").write_text(driver.page_source)
        step(f"failed; screenshot and DOM in {args.artifacts}; console: {driver.get_log('browser')}")
        raise
    finally:
        driver.quit()
    local_jwt_check()
    step(f"OK: the whole journey in Chromium; screenshot {args.screenshot}")


if __name__ == "__main__":
    main()
