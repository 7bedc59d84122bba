// Strato's real-browser passkey test: headless Chromium (Debian's), driven by playwright-core,
// with the DevTools Protocol's virtual authenticators standing in for a person's passkeys.
//
// It starts its own `strato serve` against a fresh database in the test PostgreSQL and the test
// NATS, walks the sign-in slice as a person would (register, sign out, sign in by name and
// without one, add a passkey, remove the first, end another session), and checks that a page
// from another origin cannot finish a ceremony and that state changes without the CSRF token
// are refused. A screenshot of every step goes to build/test-artifacts/browser/.
//
// Env:
//   DATABASE_URL   a PostgreSQL URL allowed to CREATE DATABASE (ops/test exports one)  required
//   NATS_URL       nats://host:port                                                    required
//   STRATO_BIN     the strato binary (default: build/strato of this checkout)
//   STRATO_CHROMIUM                 the browser (default: /usr/bin/chromium)
//   STRATO_BROWSER_ARTIFACTS        screenshots and logs (default: build/test-artifacts/browser)
//   STRATO_BROWSER_KEEP_DB=1        keep the test database (its name is printed)
//
// Prints one line per step ("ok N - ..." / "not ok N - ...") and "N passed, N failed" at the
// end; exits non-zero on any failure. The server, the browser and the database are always
// cleaned up.
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import {
  ARTIFACTS,
  AUTHENTICATOR,
  STRATO_BIN,
  Failure,
  check,
  databaseUrl,
  expectEqual,
  launchChromium,
  log,
  need,
  quoteLiteral,
  slug,
  sql,
} from "./lib.mjs";

const STEP_TIMEOUT_MS = 30000;

// ---------------------------------------------------------------------------------------------
// The server

async function startServer(dbUrl, natsUrl, logPath) {
  check(fs.existsSync(STRATO_BIN), `the strato binary ${STRATO_BIN} does not exist; build it first (ops/setup), or set STRATO_BIN`);
  const out = fs.createWriteStream(logPath);
  const child = spawn(STRATO_BIN, ["serve"], {
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      NATS_URL: natsUrl,
      STRATO_ENV: "development",
      STRATO_HTTP_ADDR: "127.0.0.1:0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let seen = "";
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Failure(`strato serve did not say where it serves within 60 s; see ${logPath}`)),
      60000,
    );
    const onData = (chunk) => {
      out.write(chunk);
      seen += chunk.toString();
      const m = seen.match(/strato serving on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => out.write(chunk));
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(
        new Failure(
          `strato serve exited (${signal || "code " + code}) before serving; the end of ${logPath}:\n` +
            seen.split("\n").slice(-15).join("\n"),
        ),
      );
    });
  });
  child.stdout.on("data", (chunk) => out.write(chunk));
  return { child, port, out };
}

async function stopServer(server) {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = once(server.child, "exit");
  server.child.kill("SIGTERM");
  const timer = setTimeout(() => server.child.kill("SIGKILL"), 10000);
  await exited;
  clearTimeout(timer);
  server.out.end();
}

// ---------------------------------------------------------------------------------------------
// The browser

// A page with its own DevTools session, virtual authenticators and a record of what went wrong
// in it (script errors, CSP violations).
async function openPage(browser, label) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`${label}: script error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) {
      problems.push(`${label}: ${m.text()}`);
    }
  });
  return { context, page, cdp, problems };
}

async function addAuthenticator(tab) {
  const { authenticatorId } = await tab.cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: AUTHENTICATOR,
  });
  return authenticatorId;
}

async function credentialsOf(tab, authenticatorId) {
  const { credentials } = await tab.cdp.send("WebAuthn.getCredentials", { authenticatorId });
  return credentials;
}

// The sentence in the page's visible role="alert" element (waits for one to appear).
async function alertText(page) {
  const alert = page.locator('[role="alert"]:visible').first();
  await alert.waitFor({ state: "visible" });
  return (await alert.innerText()).trim();
}

async function heading(page) {
  return (await page.locator("h1").first().innerText()).trim();
}

async function session(tab, base) {
  const res = await tab.page.request.get(base + "/auth/session", {
    headers: { Accept: "application/json" },
  });
  expectEqual(res.status(), 200, "GET /auth/session status");
  return res.json();
}

// ---------------------------------------------------------------------------------------------
// The walk

async function main() {
  const adminUrl = need("DATABASE_URL");
  const natsUrl = need("NATS_URL");
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const f of fs.readdirSync(ARTIFACTS)) {
    if (f.endsWith(".png")) fs.rmSync(path.join(ARTIFACTS, f));
  }

  const dbName = `strato_browser_${process.pid}_${Date.now()}`;
  const dbUrl = databaseUrl(adminUrl, dbName);
  let server = null;
  let browser = null;
  const results = [];
  let stepNo = 0;
  let current = null;

  const cleanup = async () => {
    if (browser) await browser.close().catch(() => {});
    browser = null;
    await stopServer(server).catch(() => {});
    server = null;
    if (process.env.STRATO_BROWSER_KEEP_DB === "1") {
      log(`# kept database ${dbName}`);
    } else {
      try {
        sql(adminUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      } catch (e) {
        log(`# could not drop database ${dbName}: ${e.message}`);
      }
    }
  };
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, async () => {
      log(`# stopped by ${sig}`);
      await cleanup();
      process.exit(130);
    });
  }

  // Runs one step: a screenshot of the page it leaves behind, a line saying how it went.
  async function step(name, fn) {
    stepNo += 1;
    const n = String(stepNo).padStart(2, "0");
    const started = Date.now();
    try {
      await fn();
      const problems = [];
      for (const tab of [current].concat(extraTabs)) if (tab) problems.push(...tab.problems.splice(0));
      check(problems.length === 0, "the page reported problems:\n  " + problems.join("\n  "));
      if (current) await current.page.screenshot({ path: path.join(ARTIFACTS, `${n}-${slug(name)}.png`), fullPage: true });
      await closeLater();
      results.push({ name, ok: true });
      log(`ok ${stepNo} - ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      if (current) {
        await current.page
          .screenshot({ path: path.join(ARTIFACTS, `${n}-${slug(name)}-FAILED.png`), fullPage: true })
          .catch(() => {});
      }
      results.push({ name, ok: false });
      log(`not ok ${stepNo} - ${name}`);
      const where = current ? `\n  page: ${current.page.url()}` : "";
      log(`  ${String(e.message || e).split("\n").join("\n  ")}${where}`);
      throw e;
    }
  }
  const extraTabs = [];
  // Tabs a step opened for itself are closed after its screenshot; `current` goes back to `home`.
  let home = null;
  const toClose = [];
  async function closeLater() {
    while (toClose.length) await toClose.pop().context.close().catch(() => {});
    current = home;
  }

  try {
    sql(adminUrl, `CREATE DATABASE ${dbName}`);
    server = await startServer(dbUrl, natsUrl, path.join(ARTIFACTS, "server.log"));
    const base = `http://localhost:${server.port}`; // the relying party's origin in development
    const otherBase = `http://127.0.0.1:${server.port}`; // the same server, another origin
    // A look-alike origin (localhost, the next port) whose every request the real server
    // answers, as a proxy would; with hideOrigin the proxy drops the headers that say where a
    // request comes from. Returns the look-alike's base URL.
    const proxyLookalike = async (tab, { hideOrigin }) => {
      const fakeBase = `http://localhost:${server.port === 65535 ? 65534 : server.port + 1}`;
      await tab.page.route(fakeBase + "/**", async (route) => {
        const url = base + route.request().url().slice(fakeBase.length);
        const headers = hideOrigin
          ? Object.fromEntries(
              Object.entries(route.request().headers()).filter(([k]) => !/^(origin|sec-fetch-)/i.test(k)),
            )
          : undefined;
        const response = await route.fetch({ url, headers });
        await route.fulfill({ response });
      });
      return fakeBase;
    };
    log(`# strato on ${base}, database ${dbName}, artifacts in ${ARTIFACTS}`);

    browser = await launchChromium();
    log(`# chromium ${browser.version()}`);

    const username = `ada${String(Date.now()).slice(-6)}`;
    const displayName = "Ada <Lovelace> & Co";
    const userIdOf = (name) => sql(dbUrl, `SELECT user_id FROM users WHERE username = ${quoteLiteral(name)}`);
    const tab = await openPage(browser, "main");
    current = home = tab;
    const { page } = tab;
    let authA = null;
    let credentialA = null;

    await step("pages need a session: / sends a stranger to the sign-in page", async () => {
      await page.goto(base + "/");
      expectEqual(new URL(page.url()).pathname, "/signin", "address after opening /");
      expectEqual(new URL(page.url()).searchParams.get("next"), "/", "the next parameter");
      expectEqual(await heading(page), "Sign in", "heading");
      const js = await page.request.get(base + "/static/passkeys.js");
      expectEqual(js.status(), 200, "GET /static/passkeys.js");
      check(js.headers()["content-type"].startsWith("text/javascript"), "passkeys.js content type is " + js.headers()["content-type"]);
      const cssHref = await page.locator('link[rel="stylesheet"]').getAttribute("href");
      check(/^\/static\/app\.css\?v=[0-9a-f]{12}$/.test(cssHref), "style sheet address " + cssHref);
      const css = await page.request.get(base + cssHref);
      check(css.headers()["content-type"].startsWith("text/css"), "app.css content type is " + css.headers()["content-type"]);
      check(/immutable/.test(css.headers()["cache-control"] || ""), "a versioned asset is cached for good, got " + css.headers()["cache-control"]);
      const etag = css.headers()["etag"];
      check(etag, "app.css has an ETag");
      const again = await page.request.get(base + cssHref, { headers: { "If-None-Match": etag } });
      expectEqual(again.status(), 304, "GET app.css with its ETag");
      const missing = await page.request.get(base + "/static/nope.js");
      expectEqual(missing.status(), 404, "GET /static/nope.js");
    });

    await step("register a new user with a passkey", async () => {
      authA = await addAuthenticator(tab);
      await page.getByRole("link", { name: "Register" }).first().click();
      expectEqual(await heading(page), "Create an account", "heading");
      await page.getByLabel("Username").fill(username);
      await page.getByLabel("Display name").fill(displayName);
      await page.getByLabel("Name for this passkey").fill("Laptop (virtual)");
      await page.getByRole("button", { name: "Create account with a passkey" }).click();
      await page.waitForURL(base + "/");
      expectEqual(await heading(page), `Welcome, ${displayName}`, "heading (the display name, escaped)");
      expectEqual((await page.getByTestId("signed-in-user").innerText()).trim(), username, "the header's user");
      const creds = await credentialsOf(tab, authA);
      expectEqual(creds.length, 1, "credentials in the virtual authenticator");
      check(creds[0].isResidentCredential, "the passkey is discoverable (resident)");
      credentialA = creds[0];
      check(userIdOf(username) !== "", "the user is in the users read model");
    });

    await step("state changes without the CSRF token are refused (403) and change nothing", async () => {
      const s = await session(tab, base);
      check(s.signed_in && s.csrf_token, "signed in with a CSRF token");
      const credId = sql(dbUrl, `SELECT credential_id FROM passkeys WHERE user_id = ${quoteLiteral(s.user_id)}`);
      const json = { Accept: "application/json" };
      const attempts = [
        ["POST /auth/logout", () => page.request.post(base + "/auth/logout", { headers: json })],
        ["POST /auth/logout (wrong token)", () =>
          page.request.post(base + "/auth/logout", { headers: { ...json, "X-CSRF-Token": "x" + s.csrf_token } })],
        ["DELETE /api/v1/account/passkeys/{id}", () =>
          page.request.delete(`${base}/api/v1/account/passkeys/${credId}`, { headers: json })],
        ["POST /auth/register/options", () =>
          page.request.post(base + "/auth/register/options", { headers: json, data: {} })],
        ["POST /account/passkeys/{id}/remove (form)", () =>
          page.request.post(`${base}/account/passkeys/${credId}/remove`, {
            headers: { Accept: "text/html" },
            form: { other: "1" },
          })],
      ];
      for (const [what, send] of attempts) {
        const res = await send();
        expectEqual(res.status(), 403, what + " without the CSRF token");
        check(/CSRF/.test(await res.text()), what + ": the refusal names the CSRF token");
      }
      const after = await session(tab, base);
      check(after.signed_in, "still signed in after the refused sign-out");
      expectEqual(sql(dbUrl, `SELECT count(*) FROM passkeys WHERE user_id = ${quoteLiteral(s.user_id)}`), "1", "passkeys after the refused removals");
      // With the token, the form reaches the domain, which keeps the last passkey.
      const last = await page.request.post(`${base}/account/passkeys/${credId}/remove`, {
        headers: { Accept: "text/html" },
        form: { csrf_token: s.csrf_token },
      });
      expectEqual(last.status(), 409, "removing the last passkey");
      check(/role="alert"><strong>Error:<\/strong> <span>[^<]*last passkey/.test(await last.text()), "the refusal says it is the last passkey, in role=alert");
    });

    await step("sign out", async () => {
      await page.getByRole("button", { name: "Sign out" }).first().click();
      await page.waitForURL(/\/signin/);
      expectEqual(await heading(page), "Sign in", "heading");
      expectEqual((await session(tab, base)).signed_in, false, "signed in after signing out");
    });

    await step("sign in with the username", async () => {
      await page.getByLabel("Username").fill(username);
      await page.getByRole("button", { name: "Sign in with a passkey" }).click();
      await page.waitForURL(base + "/");
      expectEqual(await heading(page), `Welcome, ${displayName}`, "heading");
      expectEqual((await session(tab, base)).username, username, "the session's user");
    });

    await step("sign out again", async () => {
      await page.getByRole("button", { name: "Sign out" }).first().click();
      await page.waitForURL(/\/signin/);
      expectEqual(await heading(page), "Sign in", "heading");
    });

    await step("sign in without typing a name (discoverable passkey)", async () => {
      await page.goto(base + "/account"); // and come back to where we were going
      await page.waitForURL(/\/signin\?next=%2Faccount|\/signin\?next=\/account/);
      await page.getByRole("button", { name: "Use a passkey without typing a name" }).click();
      await page.waitForURL(base + "/account");
      expectEqual(await heading(page), "Your account", "heading");
      expectEqual((await session(tab, base)).username, username, "the session's user");
      const rows = page.locator("#passkeys tbody tr");
      expectEqual(await rows.count(), 1, "passkeys listed");
      check((await rows.first().innerText()).includes("Laptop (virtual)"), "the passkey's name is listed");
      check((await rows.first().innerText()).includes("Your only passkey"), "the only passkey cannot be removed");
      expectEqual(await page.locator('#passkeys button:has-text("Remove")').count(), 0, "remove buttons with one passkey");
    });

    await step("a second browser signs in; the account page ends that other session", async () => {
      const other = await openPage(browser, "second browser");
      extraTabs.push(other);
      const auth = await addAuthenticator(other);
      // The same passkey, synced to the second browser's authenticator.
      const copy = (await credentialsOf(tab, authA))[0];
      await other.cdp.send("WebAuthn.addCredential", { authenticatorId: auth, credential: copy });
      await other.page.goto(base + "/signin");
      await other.page.getByLabel("Username").fill(username);
      await other.page.getByRole("button", { name: "Sign in with a passkey" }).click();
      await other.page.waitForURL(base + "/");
      await other.page.screenshot({ path: path.join(ARTIFACTS, `${String(stepNo).padStart(2, "0")}-second-browser-signed-in.png`) });

      await page.reload();
      const sessions = page.locator("#sessions tbody tr");
      expectEqual(await sessions.count(), 2, "open sessions listed");
      expectEqual(await page.locator('#sessions tr[data-current="true"]').count(), 1, "the current session is marked");
      check((await page.locator('#sessions tr[data-current="true"]').innerText()).includes("This session"), "the current session says so in words");
      await page.locator('#sessions tbody tr:not([data-current]) button:has-text("End")').click();
      await page.waitForURL(base + "/account?notice=session-ended");
      check((await page.locator('[role="status"]').first().innerText()).includes("The session was ended."), "the confirmation");
      expectEqual(await page.locator("#sessions tbody tr").count(), 1, "open sessions after ending the other");
      await other.page.goto(base + "/account");
      await other.page.waitForURL(/\/signin/);
      await other.context.close();
      extraTabs.pop();
    });

    await step("add a second passkey from the account page", async () => {
      // A second authenticator (the first would refuse: it already holds this account's
      // passkey, which the server lists in excludeCredentials).
      credentialA = (await credentialsOf(tab, authA))[0];
      await tab.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: authA });
      const authB = await addAuthenticator(tab);
      tab.authB = authB;
      await page.getByLabel("Name for the new passkey").fill("Phone (virtual)");
      await page.getByRole("button", { name: "Add a passkey" }).click();
      await page.waitForURL(base + "/account?notice=passkey-added");
      check((await page.locator('[role="status"]').first().innerText()).includes("The passkey was added."), "the confirmation");
      const rows = page.locator("#passkeys tbody tr");
      expectEqual(await rows.count(), 2, "passkeys listed");
      check((await rows.nth(1).innerText()).includes("Phone (virtual)"), "the new passkey's name");
      expectEqual((await credentialsOf(tab, authB)).length, 1, "credentials in the second authenticator");
    });

    await step("remove the first passkey: the sessions it signed in end, this one too", async () => {
      await page.getByRole("button", { name: "Remove Laptop (virtual)" }).click();
      await page.waitForURL(/\/signin\?signed_out=1/);
      expectEqual((await session(tab, base)).signed_in, false, "still signed in with a removed passkey's session");
    });

    await step("sign in with the second passkey; only it is left", async () => {
      await page.getByLabel("Username").fill(username);
      await page.getByRole("button", { name: "Sign in with a passkey" }).click();
      await page.waitForURL(base + "/");
      expectEqual(await heading(page), `Welcome, ${displayName}`, "heading");
      await page.getByRole("link", { name: "Account", exact: true }).click();
      const rows = page.locator("#passkeys tbody tr");
      expectEqual(await rows.count(), 1, "passkeys listed");
      check((await rows.first().innerText()).includes("Phone (virtual)"), "the second passkey is left");
      const used = await rows.first().locator("td").nth(1).innerText();
      check(used.trim() !== "never", "the second passkey's last use is shown");
    });

    await step("the removed passkey no longer signs in", async () => {
      await page.getByRole("button", { name: "Sign out" }).first().click();
      await page.waitForURL(/\/signin/);
      await tab.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: tab.authB });
      const authA2 = await addAuthenticator(tab);
      await tab.cdp.send("WebAuthn.addCredential", { authenticatorId: authA2, credential: credentialA });
      await page.getByRole("button", { name: "Use a passkey without typing a name" }).click();
      const text = await alertText(page);
      check(/not registered/.test(text), "the alert says the passkey is not registered; it says: " + text);
      log("#   the page said: " + text);
      expectEqual(new URL(page.url()).pathname, "/signin", "still on the sign-in page");
      expectEqual((await session(tab, base)).signed_in, false, "signed in with a removed passkey");
    });

    await step("registering a taken username shows the server's sentence in role=alert", async () => {
      await page.goto(base + "/register");
      await page.getByLabel("Username").fill(username);
      await page.getByRole("button", { name: "Create account with a passkey" }).click();
      const text = await alertText(page);
      check(text.includes(`The username ${username} is taken; choose another.`), "the alert gives the API's sentence; it says: " + text);
      expectEqual(new URL(page.url()).pathname, "/register", "still on the registration page");
      log("#   the page said: " + text);
    });

    await step("another origin (127.0.0.1) cannot register: refused before any ceremony", async () => {
      const mallory = await openPage(browser, "127.0.0.1");
      current = mallory;
      await addAuthenticator(mallory);
      const name = `mallory${String(Date.now()).slice(-6)}`;
      await mallory.page.goto(otherBase + "/register");
      await mallory.page.getByLabel("Username").fill(name);
      await mallory.page.getByRole("button", { name: "Create account with a passkey" }).click();
      const text = await alertText(mallory.page);
      check(/another origin|not one Strato's passkeys are for|relying party|not (a )?valid/i.test(text), "the alert explains the refusal; it says: " + text);
      expectEqual(new URL(mallory.page.url()).pathname, "/register", "still on the registration page");
      expectEqual(userIdOf(name), "", "an account was created from another origin: user id");
      log("#   the page said: " + text);
      toClose.push(mallory);
    });

    await step("a look-alike origin (localhost, another port) completes the browser side; the server refuses", async () => {
      const lookalike = await openPage(browser, "look-alike origin");
      current = lookalike;
      const auth = await addAuthenticator(lookalike);
      // A proxy that hides where its requests come from (it drops Origin and Sec-Fetch-Site,
      // which the server would refuse at once: the next step), so the passkey check itself is
      // what refuses.
      const fakeBase = await proxyLookalike(lookalike, { hideOrigin: true });
      const name = `eve${String(Date.now()).slice(-6)}`;
      await lookalike.page.goto(fakeBase + "/register");
      await lookalike.page.getByLabel("Username").fill(name);
      await lookalike.page.getByRole("button", { name: "Create account with a passkey" }).click();
      const text = await alertText(lookalike.page);
      check(/origin/i.test(text), "the alert gives the server's reason (the origin); it says: " + text);
      expectEqual((await credentialsOf(lookalike, auth)).length, 1, "the browser made a credential (the server alone refused it)");
      expectEqual(userIdOf(name), "", "an account was created from a look-alike origin: user id");
      log("#   the page said: " + text);
      toClose.push(lookalike);
    });

    await step("a look-alike origin's requests that say where they come from are refused before any ceremony", async () => {
      const lookalike = await openPage(browser, "look-alike origin, headers kept");
      current = lookalike;
      const auth = await addAuthenticator(lookalike);
      const fakeBase = await proxyLookalike(lookalike, { hideOrigin: false });
      const name = `eve${String(Date.now()).slice(-6)}`;
      await lookalike.page.goto(fakeBase + "/register");
      await lookalike.page.getByLabel("Username").fill(name);
      await lookalike.page.getByRole("button", { name: "Create account with a passkey" }).click();
      const text = await alertText(lookalike.page);
      check(/another (origin|site)/i.test(text), "the alert says the request came from elsewhere; it says: " + text);
      expectEqual((await credentialsOf(lookalike, auth)).length, 0, "credentials made (the options were refused)");
      expectEqual(userIdOf(name), "", "an account was created from a look-alike origin: user id");
      log("#   the page said: " + text);
      toClose.push(lookalike);
    });
  } catch (e) {
    if (!(results.length && !results[results.length - 1].ok)) {
      // A failure outside a step (setup): say so plainly.
      log(`not ok - setup: ${e.message}`);
      results.push({ name: "setup", ok: false });
    }
  } finally {
    await cleanup();
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  log(`# screenshots and the server log: ${ARTIFACTS}`);
  log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((e) => {
  log(`not ok - ${e.stack || e}`);
  log("0 passed, 1 failed");
  process.exit(1);
});
