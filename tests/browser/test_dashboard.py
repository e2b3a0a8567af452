#!/usr/bin/python3
"""The dashboard in a real browser (headless chromium through chromedriver, no network needed).

Starts oos-api on a free loopback port against a temporary state directory with OOS_API_TOKEN set, prepares
queues with oos-queue (and SQL for what the CLI cannot make quickly: a dead task, an open breaker), then drives
the dashboard: sign in with the token, see a queue's counts change after an enqueue, reset an open breaker,
filter the dead letter by error, open and cancel the bulk retry's confirmation, open a dead task (its hostile
payload shown as text), retry it, then retry another in bulk, confirmed (each write with the CSRF token); then against a server without a token: it reads
without asking for one and its buttons are disabled with the hint. Fails on any console error or CSP violation.
CTest runs it as browser.dashboard with OOS_API_BIN and OOS_QUEUE_BIN set.
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TOKEN = "browser-test-admin-token"
HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'
WAIT = 12  # seconds: more than two polls


def binary(name):
    path = os.environ.get(name)
    if not path or not os.access(path, os.X_OK):
        sys.exit(f"{name} must name the built binary (CTest sets it): {path!r}")
    return path


class State:
    """A temporary state directory and the CLI over it."""

    def __init__(self, root):
        self.dir = os.path.join(root, "state")
        os.mkdir(self.dir)
        self.config = os.path.join(root, "oos.toml")
        with open(self.config, "w") as f:
            f.write("")
        self.queue_bin = binary("OOS_QUEUE_BIN")

    def queue(self, *args):
        done = subprocess.run([self.queue_bin, "--state-dir", self.dir, "--config", self.config, *args],
                              capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise AssertionError(f"oos-queue {' '.join(args)}: exit {done.returncode}: {done.stderr}")
        return done.stdout

    def enqueue(self, queue, data="{}"):
        return json.loads(self.queue("enqueue", queue, "job", "--data", data, "--json"))["id"]

    def sql(self, statement, *params):
        db = sqlite3.connect(os.path.join(self.dir, "oos.db"), timeout=10)
        try:
            with db:
                db.execute(statement, params)
        finally:
            db.close()


def start_api(state, token=TOKEN):
    env = dict(os.environ)
    for name in ("OOS_API_TOKEN", "OOS_API_READONLY_TOKEN", "CREDENTIALS_DIRECTORY"):
        env.pop(name, None)
    if token:
        env["OOS_API_TOKEN"] = token
    api = subprocess.Popen([binary("OOS_API_BIN"), "--state-dir", state.dir, "--config", state.config,
                            "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                           text=True)
    line = api.stdout.readline()
    if not line.startswith("listening on 127.0.0.1:"):
        api.kill()
        raise AssertionError(f"oos-api did not start: {line!r} {api.stderr.read()}")
    return api, "http://" + line.strip().removeprefix("listening on ")


def health_status(base):
    """The status of oos-api's GET /health (503 when CRITICAL: the body is the document still)."""
    try:
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
        with direct.open(base + "/health", timeout=10) as reply:
            return json.loads(reply.read())["status"]
    except urllib.error.HTTPError as e:
        return json.loads(e.read())["status"]


def browser():
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} is missing: install chromium and chromium-driver (scripts/install-deps)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait_for(driver, what, condition):
    try:
        # The page re-renders its tables at each poll: an element found just before may be gone (stale).
        return WebDriverWait(driver, WAIT, poll_frequency=0.1,
                             ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
            lambda d: condition(d))
    except Exception as e:
        raise AssertionError(f"timed out waiting for {what}; the page said: "
                             f"{driver.find_element(By.TAG_NAME, 'body').text[:2000]}") from e


def click(driver, what, selector):
    """Clicks the element at `selector` once it is there, again if a poll replaced it meanwhile."""
    def attempt(d):
        d.find_element(By.CSS_SELECTOR, selector).click()
        return True
    wait_for(driver, what, attempt)


def cell(driver, queue, column):
    return driver.find_element(By.CSS_SELECTOR, f'#queues tr[data-queue="{queue}"] td.{column}').text


def ask_bulk_retry(driver, error, task_id):
    """Filters the dead letter list by `error`, waits for task `task_id` in it, asks for the bulk retry and
    returns the confirmation's text."""
    driver.find_element(By.ID, "dead-error").clear()
    driver.find_element(By.ID, "dead-error").send_keys(error)
    wait_for(driver, "the filtered list", lambda d: d.find_elements(By.CSS_SELECTOR, f'#dead tr[data-task="{task_id}"]'))
    click(driver, "the bulk retry button", "#bulk-retry")
    wait_for(driver, "the confirmation", lambda d: d.find_element(By.ID, "bulk-confirm").is_displayed())
    return driver.find_element(By.ID, "bulk-confirm-text").text


# What the browser may log at SEVERE besides script errors: HTTP statuses the dashboard expects and handles
# (/health's 503 when CRITICAL; before the sign-in, the 401s that make it ask for a token).
EXPECTED_STATUSES = ("/health - Failed to load resource: the server responded with a status of 503",)
UNAUTHORIZED = "Failed to load resource: the server responded with a status of 401"


def check_console(driver, signed_in_ms):
    problems = []
    for entry in driver.get_log("browser"):
        message = entry.get("message", "")
        if "Content Security Policy" in message or "Content-Security-Policy" in message:
            problems.append(f"CSP violation: {message}")
        elif entry.get("level") == "SEVERE":
            if entry.get("source") == "network" and any(s in message for s in EXPECTED_STATUSES):
                continue
            before_sign_in = entry.get("timestamp", 0) <= signed_in_ms
            if entry.get("source") == "network" and UNAUTHORIZED in message and "/api/v1/" in message and before_sign_in:
                continue
            problems.append(f"console error ({entry.get('source')}): {message}")
    if problems:
        raise AssertionError("the browser logged:\n  " + "\n  ".join(problems))


def main():
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="oos-browser-") as root:
        state = State(root)
        state.enqueue("mail")
        state.enqueue("mail")
        dead_id = state.enqueue("mail", json.dumps({"to": "ops@example.org", "note": HOSTILE}))
        now_ms = int(time.time() * 1000)
        state.sql("UPDATE tasks SET status = 'dead', attempts = 1, max_attempts = 1, finished_at = ?, updated_at = ?, "
                  "last_error = 'exit 3: smtp: connection refused' WHERE id = ?", now_ms, now_ms, dead_id)
        bulk_id = state.enqueue("mail")
        state.sql("UPDATE tasks SET status = 'dead', attempts = 1, max_attempts = 1, finished_at = ?, updated_at = ?, "
                  "last_error = 'exit 3: smtp: timeout' WHERE id = ?", now_ms, now_ms, bulk_id)
        state.enqueue("flaky")
        state.sql("INSERT INTO breakers (kind, name, state, consecutive_failures, opened_at, cooldown_ms, updated_at) "
                  "VALUES ('queue', 'flaky', 'open', 5, ?, 600000, ?)", now_ms, now_ms)

        api, base = start_api(state)
        driver = browser()
        try:
            driver.get(base + "/")
            # The server has a token: the dashboard asks for it, and keeps it for the tab.
            wait_for(driver, "the token form", lambda d: d.find_element(By.ID, "token-form").is_displayed())
            driver.find_element(By.ID, "token-input").send_keys(TOKEN)
            signed_in_ms = time.time() * 1000
            driver.find_element(By.ID, "token-save").click()

            # The first screen: the verdict from /health and the queues.
            wait_for(driver, "the queue mail", lambda d: cell(d, "mail", "runnable") == "2")
            wait_for(driver, "the verdict of GET /health", lambda d: d.find_element(By.ID, "verdict-status").text ==
                     health_status(base))
            wait_for(driver, "two dead tasks in mail", lambda d: cell(d, "mail", "dead") == "2")

            # Counts follow the queue: an enqueue shows within a poll.
            state.enqueue("mail")
            wait_for(driver, "runnable 3 after an enqueue", lambda d: cell(d, "mail", "runnable") == "3")

            # An open breaker, reset from the dashboard.
            wait_for(driver, "the open breaker", lambda d: cell(d, "flaky", "breaker").startswith("open"))
            click(driver, "the reset button", '#queues tr[data-queue="flaky"] button.reset-breaker')
            wait_for(driver, "the breaker closed", lambda d: cell(d, "flaky", "breaker") == "closed")
            assert json.loads(state.queue("breaker", "flaky", "--json"))["breaker"]["state"] == "closed"

            # The dead letter queue, a dead task with its payload as text, and its retry.
            click(driver, "the dead letter tab", '#nav a[data-view="dead"]')
            wait_for(driver, "the dead letter list", lambda d: Select(d.find_element(By.ID, "dead-queue"))
                     .first_selected_option.text == "mail")
            wait_for(driver, "the dead task's row with its error", lambda d: "smtp: connection refused" in d.find_element(
                By.CSS_SELECTOR, f'#dead tr[data-task="{dead_id}"]').text)
            # The error filter, and the bulk retry's confirmation step (cancelled: the single retry follows).
            driver.find_element(By.ID, "dead-error").send_keys("no such error")
            wait_for(driver, "an empty filtered list", lambda d: d.find_element(By.ID, "dead-empty").is_displayed())
            text = ask_bulk_retry(driver, "smtp", dead_id)
            assert text.startswith('Retry 2 dead tasks of queue mail whose error contains "smtp"?'), text
            click(driver, "cancel", "#bulk-confirm-no")
            assert not driver.find_element(By.ID, "bulk-confirm").is_displayed()
            assert json.loads(state.queue("show", str(dead_id), "--json"))["status"] == "dead", "retried unconfirmed"
            click(driver, "the dead task's row", f'#dead tr[data-task="{dead_id}"] td:nth-child(2)')
            wait_for(driver, "the task view", lambda d: f"Task #{dead_id} (dead)" in d.find_element(By.ID, "task-title").text)
            payload = driver.find_element(By.ID, "task-payload").text
            assert json.loads(payload) == {"to": "ops@example.org", "note": HOSTILE}, payload
            assert '\n  "to"' in payload, "the payload is not pretty-printed: " + payload
            assert not driver.find_elements(By.CSS_SELECTOR, "#task-payload img"), "the payload was parsed as HTML"
            click(driver, "the retry button", "#task-retry")
            wait_for(driver, "the task pending again",
                     lambda d: f"Task #{dead_id} (pending)" in d.find_element(By.ID, "task-title").text)
            assert json.loads(state.queue("show", str(dead_id), "--json"))["status"] == "pending"
            assert driver.title == "OOS", driver.title

            # The bulk retry, confirmed: the one dead task left whose error matches goes back to pending.
            click(driver, "the dead letter tab", '#nav a[data-view="dead"]')
            text = ask_bulk_retry(driver, "timeout", bulk_id)
            assert text.startswith('Retry 1 dead task of queue mail whose error contains "timeout"?'), text
            click(driver, "confirm", "#bulk-confirm-yes")
            wait_for(driver, "the task pending after the bulk retry",
                     lambda d: json.loads(state.queue("show", str(bulk_id), "--json"))["status"] == "pending")
            wait_for(driver, "the emptied dead letter list", lambda d: d.find_element(By.ID, "dead-empty").is_displayed())

            check_console(driver, signed_in_ms)

            # A server without a token: the dashboard reads (loopback GET) and says how to act. The page leaves
            # before its server stops, and what the browser logged until then is read and dropped: a poll of the
            # stopped server (connection refused) is the test's doing, not the dashboard's.
            driver.execute_script("sessionStorage.clear()")
            driver.get("about:blank")
            driver.get_log("browser")
            api.terminate()
            api.wait(timeout=10)
            api, base = start_api(state, token=None)
            driver.get(base + "/")
            wait_for(driver, "the queues without a token", lambda d: cell(d, "mail", "runnable") == "5")
            assert not driver.find_element(By.ID, "token-form").is_displayed(), "asked for a token it does not need"
            assert driver.find_element(By.ID, "write-hint").is_displayed()
            pause = driver.find_element(By.CSS_SELECTOR, '#queues tr[data-queue="mail"] button.pause')
            assert not pause.is_enabled() and "OOS_API_TOKEN" in pause.get_attribute("title"), pause.get_attribute("title")
            check_console(driver, 0)
        finally:
            driver.quit()
            api.terminate()
            api.wait(timeout=10)
    print(f"browser.dashboard: passed in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
