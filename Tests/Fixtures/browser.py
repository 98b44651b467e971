#!/usr/bin/env python3
"""Drives headless Chromium over its DevTools pipe (no extra package needed) to check
the statistics page as a user's browser sees it.

usage: browser.py URL SCREENSHOT [SERVER ACTION]

Loads URL, saves a PNG screenshot, and prints one JSON object: the page title, the
proxies' tables with each row's name, CSS class and status cell, and, when SERVER and
ACTION are given, the outcome of ticking that server's box in the admin form, choosing
ACTION and pressing Apply (the URL the browser lands on and the outcome message).
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self):
        to_child_r, self.to_child_w = os.pipe()
        self.from_child_r, from_child_w = os.pipe()
        self.profile = tempfile.mkdtemp(prefix="fulcrum-browser-")

        def wire():
            # Chromium reads commands on fd 3 and writes answers on fd 4.
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--user-data-dir=" + self.profile, "--window-size=1400,900", "about:blank"],
            preexec_fn=wire, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.next_id = 0
        self.buffer = b""
        self.session = None

    def send(self, method, params=None, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_child_w, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def read(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.from_child_r, 65536)
            if not chunk:
                raise RuntimeError("browser went away")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def open(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Page.navigate", {"url": url})
        self.wait_loaded()

    def wait_loaded(self, previous=None):
        for _ in range(200):
            state = self.evaluate("document.readyState + ' ' + location.href")
            ready, href = state.split(" ", 1)
            if ready == "complete" and href != previous:
                return href
            time.sleep(0.05)
        raise RuntimeError("page did not load")

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        self.proc.kill()
        self.proc.wait()
        subprocess.run(["rm", "-rf", self.profile])


TABLES = """JSON.stringify(Array.from(document.querySelectorAll('table.px')).map(t => ({
  id: t.id,
  rows: Array.from(t.querySelectorAll('tr[data-name]')).map(r => ({
    name: r.dataset.name, css: r.className,
    status: (r.querySelector('td.status') || {}).textContent || ''}))
})))"""


def main():
    url, screenshot = sys.argv[1], sys.argv[2]
    server = sys.argv[3] if len(sys.argv) > 4 else None
    action = sys.argv[4] if len(sys.argv) > 4 else None
    browser = Browser()
    try:
        browser.open(url)
        out = {"title": browser.evaluate("document.title"), "tables": json.loads(browser.evaluate(TABLES))}
        shot = browser.send("Page.captureScreenshot", {"format": "png"})
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        if server:
            before = browser.evaluate("location.href")
            clicked = browser.evaluate(f"""(() => {{
              const box = document.querySelector('input[type=checkbox][name=s][value="{server}"]');
              if (!box) return false;
              box.checked = true;
              const form = box.form;
              form.querySelector('select[name=action]').value = '{action}';
              form.querySelector('input[type=submit]').click();
              return true; }})()""")
            out["clicked"] = clicked
            if clicked:
                out["landed"] = browser.wait_loaded(previous=before)
                out["outcome"] = browser.evaluate("(document.getElementById('outcome') || {}).textContent || ''")
                out["after"] = json.loads(browser.evaluate(TABLES))
        print(json.dumps(out))
    finally:
        browser.close()


if __name__ == "__main__":
    main()
