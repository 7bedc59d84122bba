// Strato's two-user journey in a real browser: headless Chromium (Debian's) driven by
// playwright-core, passkeys from the DevTools Protocol's virtual authenticators.
//
// alice registers, creates an organization and a VM, watches it go from pending to running
// once a host comes up, stops it; bob registers in a second browser; alice makes him a member;
// bob sees the VM change state live when alice starts it, has no delete button and is refused
// a direct POST; alice deletes the VM after typing its name; the audit log and the VM's history
// name who did what.
//
// The test brings its own stack: a nats-server on a free port (hosts register over the bus, so
// a shared one would let another `strato serve` answer this test's host), `strato serve` on a
// fresh database in the test PostgreSQL, and one `strato-hostd` whose VMs run on the Cloud
// Hypervisor simulator, started in the step that needs it. A screenshot of every step goes to
// build/test-artifacts/browser/journey-*.png.
//
// Features still being built are waited for, not hung on: a step that needs live updates (an
// event stream the page opens) or the audit log page (/audit) when the server has none prints
// "not ok N - ... # waiting for <feature>", counts as skipped, and the journey goes on (a live
// step reloads the page to get to the state the next steps need). Once the feature is there,
// the step must pass. Every wait is at most 15 s.
//
// Env:
//   DATABASE_URL   a PostgreSQL URL allowed to CREATE DATABASE (ops/test exports one)  required
//   STRATO_BIN     the strato binary (default: build/strato of this checkout); strato-hostd and
//                  cloud-hypervisor-simulator are taken from the same folder unless
//   STRATO_HOSTD_BIN, STRATO_CH_BINARY  name them
//   STRATO_NATS_SERVER_BIN          nats-server (default: nats-server on the PATH, or /usr/sbin)
//   STRATO_CHROMIUM                 the browser (default: /usr/bin/chromium)
//   STRATO_BROWSER_ARTIFACTS        screenshots and logs (default: build/test-artifacts/browser)
//   STRATO_BROWSER_KEEP_DB=1        keep the test database (its name is printed)
//   STRATO_BROWSER_STRICT=1         count "waiting for" steps as failures
//
// Prints one line per step and "N passed, N failed, N skipped" at the end; exits non-zero on any
// failure. The processes, the browser and the database are always cleaned up.
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
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
  slug,
  sql,
} from "./lib.mjs";

const HOSTD_BIN = process.env.STRATO_HOSTD_BIN || path.join(path.dirname(STRATO_BIN), "strato-hostd");
const SIMULATOR_BIN =
  process.env.STRATO_CH_BINARY || path.join(path.dirname(STRATO_BIN), "cloud-hypervisor-simulator");
const STRICT = process.env.STRATO_BROWSER_STRICT === "1";
const WAIT_MS = 15000; // the longest any one wait may take
const LIVE_UPDATES = "live updates (an event stream opened by the page)";
const AUDIT_PAGE = "the audit log page (/audit)";

// ---------------------------------------------------------------------------------------------
// Small helpers

// A step whose feature is not there yet: reported as "# waiting for <feature>".
class Waiting extends Error {
  constructor(feature, detail) {
    super(detail ? `${feature}: ${detail}` : feature);
    this.feature = feature;
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function freePort() {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

function findNatsServer() {
  if (process.env.STRATO_NATS_SERVER_BIN) return process.env.STRATO_NATS_SERVER_BIN;
  for (const dir of (process.env.PATH || "").split(":").concat(["/usr/sbin", "/usr/local/bin"])) {
    const candidate = path.join(dir, "nats-server");
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  throw new Failure("nats-server is not installed (ops/setup installs it), or set STRATO_NATS_SERVER_BIN");
}

// ---------------------------------------------------------------------------------------------
// Processes: each started with its output in a log file, stopped with SIGTERM (then SIGKILL).

// Starts `argv` and waits until `ready` (a RegExp) matches its output; resolves to
// { child, out, match }.
async function startProcess(what, argv, env, logPath, ready, timeoutMs = 60000) {
  check(fs.existsSync(argv[0]), `${argv[0]} does not exist; build it first (ops/setup), or set its variable`);
  const out = fs.createWriteStream(logPath);
  const child = spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
  let seen = "";
  const match = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Failure(`${what} was not ready within ${timeoutMs / 1000} s; see ${logPath}`)),
      timeoutMs,
    );
    const onData = (chunk) => {
      out.write(chunk);
      if (seen === null) return;
      seen += chunk.toString();
      const m = ready && seen.match(ready);
      if (m) {
        seen = null;
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (seen === null) return;
      reject(
        new Failure(
          `${what} exited (${signal || "code " + code}) before it was ready; the end of ${logPath}:\n` +
            seen.split("\n").slice(-15).join("\n"),
        ),
      );
    });
    if (!ready) {
      seen = null;
      clearTimeout(timer);
      resolve(null);
    }
  });
  return { child, out, match };
}

async function stopProcess(proc) {
  if (!proc) return;
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    const exited = once(proc.child, "exit");
    proc.child.kill("SIGTERM");
    const timer = setTimeout(() => proc.child.kill("SIGKILL"), 10000);
    await exited;
    clearTimeout(timer);
  }
  proc.out.end();
}

// hostd leaves its VMMs running on purpose (a restart must not reboot guests); the test stops
// them itself, by the pid files hostd keeps.
function killVmms(stateDir) {
  const vms = path.join(stateDir, "vms");
  if (!fs.existsSync(vms)) return;
  for (const entry of fs.readdirSync(vms)) {
    const pidFile = path.join(vms, entry, "vmm.pid");
    if (!fs.existsSync(pidFile)) continue;
    const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
    if (pid > 1) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

// The VMMs' own logs (vms/<vm>/*.log in hostd's state folder, which is removed) go with the
// other logs, as journey-vm-<vm>-<file>.
function keepVmmLogs(stateDir) {
  const vms = path.join(stateDir, "vms");
  if (!fs.existsSync(vms)) return;
  for (const vm of fs.readdirSync(vms)) {
    const dir = path.join(vms, vm);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const f of fs.readdirSync(dir)) {
      if (f.endsWith(".log")) fs.copyFileSync(path.join(dir, f), path.join(ARTIFACTS, `journey-vm-${vm}-${f}`));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The browser

// A browser context of its own (a person's browser) with a virtual authenticator, a record of
// what went wrong in it (script errors, CSP violations) and of the event streams it opened.
async function openBrowser(browser, label) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  await cdp.send("WebAuthn.addVirtualAuthenticator", { options: AUTHENTICATOR });
  const tab = { label, context, page, cdp, problems: [], streams: [] };
  page.on("pageerror", (e) => tab.problems.push(`${label}: script error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) {
      tab.problems.push(`${label}: ${m.text()}`);
    }
  });
  page.on("request", (r) => {
    if (r.resourceType() === "eventsource") tab.streams.push(r.url());
  });
  page.on("response", (r) => {
    if ((r.headers()["content-type"] || "").startsWith("text/event-stream")) tab.streams.push(r.url());
  });
  return tab;
}

async function heading(page) {
  return (await page.locator("h1").first().innerText()).trim();
}

async function statusText(page) {
  return (await page.locator('[role="status"]').first().innerText()).trim();
}

async function register(tab, base, username, displayName) {
  const { page } = tab;
  await page.goto(base + "/register");
  expectEqual(await heading(page), "Create an account", "heading");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Display name").fill(displayName);
  await page.getByLabel("Name for this passkey").fill(`${username}'s laptop (virtual)`);
  await page.getByRole("button", { name: "Create account with a passkey" }).click();
  await page.waitForURL(base + "/");
  expectEqual((await page.getByTestId("signed-in-user").innerText()).trim(), username, "the header's user");
}

// The page's CSRF token (the layout's <meta name="csrf-token">).
async function csrfToken(page) {
  return page.locator('meta[name="csrf-token"]').getAttribute("content");
}

// Starts watching the text of `selector` in the tab's page, before whatever should change it:
// marks the page, so that a reload or navigation shows, and keeps the text it had.
async function watchLive(tab, selector) {
  const marker = `journey-${Date.now()}-${Math.random()}`;
  await tab.page.evaluate((m) => {
    window.__journeyMarker = m;
  }, marker);
  const before = (await tab.page.locator(selector).first().textContent().catch(() => null)) ?? "";
  return { tab, selector, marker, before };
}

// Waits until the watched text matches `expected` without the page being reloaded or left, and
// checks that the element `#listId` (the list or facts the text is in) is still there. When the
// page opened no event stream, live updates are not built yet: reloads until the state shows
// (so the journey can go on) and throws Waiting; when it has one, not updating is a failure.
async function waitLive(watch, expected, listId) {
  const { tab, selector, marker, before } = watch;
  const { page } = tab;
  if (expected.test(before)) log(`#   ${selector} already showed "${before.trim()}" when watching began`);
  let updated = false;
  try {
    await page.waitForFunction(
      ([sel, source, flags]) => {
        const el = document.querySelector(sel);
        return el !== null && new RegExp(source, flags).test(el.textContent);
      },
      [selector, expected.source, expected.flags],
      { timeout: WAIT_MS },
    );
    updated = true;
  } catch (e) {
    if (!/Timeout/i.test(e.message)) throw e;
  }
  if (updated) {
    const same = await page.evaluate((m) => window.__journeyMarker === m, marker);
    check(same, "the page was reloaded or left instead of being updated in place");
    if (listId) check((await page.locator("#" + listId).count()) === 1, `the element #${listId} is gone after the update`);
    return;
  }
  const shown = (await page.locator(selector).first().textContent().catch(() => null)) ?? "(no such element)";
  if (tab.streams.length > 0) {
    throw new Failure(
      `${selector} did not change to ${expected} within ${WAIT_MS / 1000} s although the page has an ` +
        `event stream (${tab.streams[0]}); it shows: ${shown.trim()}`,
    );
  }
  const deadline = Date.now() + WAIT_MS;
  let now = shown;
  while (Date.now() < deadline) {
    await page.reload();
    now = (await page.locator(selector).first().textContent().catch(() => null)) ?? "(no such element)";
    if (expected.test(now)) {
      throw new Waiting(LIVE_UPDATES, `the page opened no event stream; after reloading it shows "${now.trim()}"`);
    }
    await sleep(500);
  }
  throw new Failure(`${selector} shows "${now.trim()}", not ${expected}, even after reloading for ${WAIT_MS / 1000} s`);
}

// ---------------------------------------------------------------------------------------------
// The journey

async function main() {
  const adminUrl = need("DATABASE_URL");
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const f of fs.readdirSync(ARTIFACTS)) {
    if (f.startsWith("journey-vm-") || (f.startsWith("journey-") && f.endsWith(".png"))) {
      fs.rmSync(path.join(ARTIFACTS, f));
    }
  }

  const dbName = `strato_journey_${process.pid}_${Date.now()}`;
  const dbUrl = databaseUrl(adminUrl, dbName);
  const scratch = fs.mkdtempSync(path.join(process.env.STRATO_TEST_TMPDIR || os.tmpdir(), "strato-journey-"));
  const hostStateDir = path.join(scratch, "hostd");
  let nats = null;
  let server = null;
  let hostd = null;
  let browser = null;
  let dbCreated = false;
  const results = [];
  let stepNo = 0;
  let shown = []; // the tabs a step's screenshot shows

  const cleanup = async () => {
    if (browser) await browser.close().catch(() => {});
    browser = null;
    await stopProcess(hostd).catch(() => {});
    hostd = null;
    killVmms(hostStateDir);
    keepVmmLogs(hostStateDir);
    await stopProcess(server).catch(() => {});
    server = null;
    await stopProcess(nats).catch(() => {});
    nats = null;
    if (dbCreated && process.env.STRATO_BROWSER_KEEP_DB === "1") {
      log(`# kept database ${dbName}`);
    } else if (dbCreated) {
      try {
        sql(adminUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      } catch (e) {
        log(`# could not drop database ${dbName}: ${e.message}`);
      }
    }
    dbCreated = false;
    fs.rmSync(scratch, { recursive: true, force: true });
  };
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, async () => {
      log(`# stopped by ${sig}`);
      await cleanup();
      process.exit(130);
    });
  }

  // Runs one step, then screenshots the tabs in `tabs` (journey-NN-<step>[-<who>].png). A real
  // failure ends the journey (later steps build on it) unless the step is `independent`; a
  // Waiting step does not.
  async function step(name, tabs, fn, { independent = false } = {}) {
    stepNo += 1;
    shown = tabs;
    const n = String(stepNo).padStart(2, "0");
    const started = Date.now();
    const shoot = async (suffix) => {
      for (const tab of shown) {
        const who = shown.length > 1 ? `-${tab.label}` : "";
        await tab.page
          .screenshot({ path: path.join(ARTIFACTS, `journey-${n}-${slug(name).slice(0, 60)}${who}${suffix}.png`), fullPage: true })
          .catch(() => {});
      }
    };
    try {
      await fn();
      const problems = [];
      for (const tab of allTabs) problems.push(...tab.problems.splice(0));
      check(problems.length === 0, "the page reported problems:\n  " + problems.join("\n  "));
      await shoot("");
      results.push({ name, ok: true });
      log(`ok ${stepNo} - ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      if (e instanceof Waiting) {
        await shoot("-WAITING");
        results.push({ name, ok: false, waiting: true });
        log(`not ok ${stepNo} - ${name} # waiting for ${e.feature}`);
        log(`  ${e.message}`);
        return;
      }
      await shoot("-FAILED");
      results.push({ name, ok: false });
      log(`not ok ${stepNo} - ${name}`);
      const where = shown.map((t) => `\n  ${t.label}'s page: ${t.page.url()}`).join("");
      log(`  ${String(e.message || e).split("\n").join("\n  ")}${where}`);
      if (!independent) throw e;
    }
  }
  const allTabs = [];

  try {
    const natsPort = await freePort();
    nats = await startProcess(
      "nats-server",
      [findNatsServer(), "-js", "-a", "127.0.0.1", "-p", String(natsPort), "-sd", path.join(scratch, "nats")],
      process.env,
      path.join(ARTIFACTS, "journey-nats.log"),
      /Server is ready/,
      30000,
    );
    const natsUrl = `nats://127.0.0.1:${natsPort}`;
    sql(adminUrl, `CREATE DATABASE ${dbName}`);
    dbCreated = true;
    server = await startProcess(
      "strato serve",
      [STRATO_BIN, "serve"],
      {
        ...process.env,
        DATABASE_URL: dbUrl,
        NATS_URL: natsUrl,
        STRATO_ENV: "development",
        STRATO_HTTP_ADDR: "127.0.0.1:0",
      },
      path.join(ARTIFACTS, "journey-server.log"),
      /strato serving on http:\/\/127\.0\.0\.1:(\d+)/,
    );
    const base = `http://localhost:${server.match[1]}`; // the relying party's origin in development
    log(`# strato on ${base}, database ${dbName}, nats on ${natsUrl}, artifacts in ${ARTIFACTS}`);
    const startHostd = async () =>
      startProcess(
        "strato-hostd",
        [HOSTD_BIN],
        {
          ...process.env,
          NATS_URL: natsUrl,
          STRATO_HOST_ID: "journey-host",
          STRATO_HOST_NAME: "journey-host",
          STRATO_STATE_DIR: hostStateDir,
          STRATO_CH_BINARY: SIMULATOR_BIN,
          STRATO_VM_KERNEL: "/boot/vmlinuz-strato-test",
          STRATO_HOST_CPUS: "16",
          STRATO_HOST_MEMORY_MB: "65536",
          STRATO_HOST_DISK_GB: "1000",
          STRATO_HEARTBEAT_INTERVAL_MS: "500",
          STRATO_RESYNC_INTERVAL_MS: "5000",
          STRATO_STOP_TIMEOUT_SECONDS: "0", // the simulator's guests need no graceful stop
        },
        path.join(ARTIFACTS, "journey-hostd.log"),
        null,
      );
    check(fs.existsSync(HOSTD_BIN), `${HOSTD_BIN} does not exist; build strato-hostd, or set STRATO_HOSTD_BIN`);
    check(fs.existsSync(SIMULATOR_BIN), `${SIMULATOR_BIN} does not exist; build cloud-hypervisor-simulator, or set STRATO_CH_BINARY`);

    browser = await launchChromium();
    log(`# chromium ${browser.version()}`);

    const suffix = String(Date.now()).slice(-6);
    const alice = { name: `alice${suffix}`, display: "Alice Liddell" };
    const bob = { name: `bob${suffix}`, display: "Bob Baker" };
    const orgName = `Wonderland ${suffix}`;
    const vmName = `web-${suffix}`;
    let orgId = "";
    let vmId = "";
    let history = []; // the VM page's history rows just before the deletion: {type, who}
    const vmRow = () => `#vms tr[data-vm-id="${vmId}"]`;

    const a = await openBrowser(browser, "alice");
    allTabs.push(a);

    await step("every page loads htmx and the Tailwind style sheet, with no inline style", [a], async () => {
      await a.page.goto(base + "/signin");
      const src = await a.page.locator('script[src^="/static/htmx.min.js"]').getAttribute("src");
      check(/^\/static\/htmx\.min\.js\?v=[0-9a-f]{12}$/.test(src), "htmx's address " + src);
      await a.page.waitForFunction(() => typeof window.htmx === "object");
      const htmx = await a.page.evaluate(() => ({
        version: window.htmx.version,
        indicatorStyles: window.htmx.config.includeIndicatorStyles,
        styles: document.querySelectorAll("style").length,
        styled: document.querySelectorAll("[style]").length,
      }));
      check(/^2\./.test(htmx.version), "htmx version " + htmx.version);
      expectEqual(htmx.indicatorStyles, false, "htmx.config.includeIndicatorStyles (from the htmx-config meta)");
      expectEqual(htmx.styles, 0, "<style> elements in the page");
      expectEqual(htmx.styled, 0, "elements with a style attribute");
      const js = await a.page.request.get(base + src);
      expectEqual(js.status(), 200, "GET " + src);
      check(js.headers()["content-type"].startsWith("text/javascript"), "htmx content type " + js.headers()["content-type"]);
      const cssHref = await a.page.locator('link[rel="stylesheet"]').getAttribute("href");
      const css = await (await a.page.request.get(base + cssHref)).text();
      check(/tailwindcss v3\./.test(css), "the style sheet is Tailwind's build (its banner)");
      check(css.includes(".notice.error"), "the style sheet keeps the pages' own rules (.notice.error)");
      log(`#   htmx ${htmx.version}, ${css.length} bytes of CSS`);
    }, { independent: true });

    await step("alice registers with a passkey", [a], async () => {
      await register(a, base, alice.name, alice.display);
    });

    await step("alice creates an organization", [a], async () => {
      await a.page.getByRole("link", { name: "Organizations", exact: true }).click();
      expectEqual(await heading(a.page), "Organizations", "heading");
      await a.page.getByLabel("Name", { exact: true }).fill(orgName);
      await a.page.getByRole("button", { name: "Create organization" }).click();
      await a.page.waitForURL(/\/orgs\/[^/?]+\?notice=created$/);
      orgId = decodeURIComponent(new URL(a.page.url()).pathname.split("/")[2]);
      expectEqual(await heading(a.page), orgName, "heading");
      check((await statusText(a.page)).includes("The organization was created."), "the confirmation");
      check((await a.page.locator("#members").innerText()).includes(alice.name), "alice is listed as a member");
    });

    await step("alice creates a VM; with no host yet it is pending", [a], async () => {
      await a.page.getByRole("link", { name: "VMs", exact: true }).click();
      await a.page.getByRole("link", { name: "Create VM" }).click();
      expectEqual(await heading(a.page), "Create a VM", "heading");
      await a.page.getByLabel("Organization").selectOption({ label: orgName });
      await a.page.getByLabel("Name", { exact: true }).fill(vmName);
      await a.page.getByLabel("Description").fill("The journey's VM");
      await a.page.getByLabel("Memory (MiB)").fill("256");
      await a.page.getByLabel("Disk (GiB)").fill("1");
      await a.page.getByRole("button", { name: "Create VM" }).click();
      await a.page.waitForURL(/\/vms\/[^/?]+\?notice=created$/);
      vmId = decodeURIComponent(new URL(a.page.url()).pathname.split("/")[2]);
      expectEqual(await heading(a.page), `VM ${vmName}`, "heading");
      expectEqual((await a.page.locator("#desired").innerText()).trim(), "running", "desired state");
      check(/pending/.test(await a.page.locator("#observed").innerText()), "observed state: " + (await a.page.locator("#observed").innerText()));
    });

    await step("a host comes up: alice sees the VM go from pending to running without reloading", [a], async () => {
      await a.page.getByRole("link", { name: "Virtual machines" }).click();
      await a.page.locator(vmRow()).waitFor();
      check(/pending/.test(await a.page.locator(vmRow()).innerText()), "the VM's row says pending: " + (await a.page.locator(vmRow()).innerText()));
      const watch = await watchLive(a, `${vmRow()} .state`);
      hostd = await startHostd();
      log(`#   strato-hostd started (log ${path.join(ARTIFACTS, "journey-hostd.log")})`);
      await waitLive(watch, /^\s*running\b/, "vms");
      check((await a.page.locator(vmRow()).innerText()).includes("journey-host"), "the row names the host");
    });

    await step("alice stops the VM, and sees it stopped without reloading", [a], async () => {
      await a.page.locator(vmRow()).getByRole("link", { name: vmName }).click();
      await a.page.waitForSelector("#vm-live");
      // The action posts in the background (htmx) and swaps the answer in: the page stays.
      await a.page.evaluate(() => { window.__sameDocument = true; });
      await a.page.getByRole("button", { name: `Stop VM ${vmName}`, exact: true }).click();
      await a.page.waitForURL(/\?notice=stop$/);
      await a.page.waitForFunction(() => document.querySelector("#desired")?.textContent.trim() === "stopped");
      check(await a.page.evaluate(() => window.__sameDocument === true), "the stop did not reload the page");
      // The pressed button is gone (a stopped VM offers Start): focus moves to what happened.
      await a.page.waitForFunction(() => document.activeElement?.closest("#vm-notice") !== null);
      check((await statusText(a.page)).includes("The VM was asked to stop."), "the confirmation");
      // What changes after the answer changes in place, through the live stream.
      await waitLive(await watchLive(a, "#observed"), /^\s*stopped\b/, "vm-state");
    });

    const b = await openBrowser(browser, "bob");
    allTabs.push(b);

    await step("bob registers in a second browser", [b], async () => {
      await register(b, base, bob.name, bob.display);
      await b.page.goto(base + "/vms");
      expectEqual(await b.page.locator(vmRow()).count(), 0, "VMs bob sees before he is a member");
    });

    await step("alice adds bob to her organization as a member", [a], async () => {
      await a.page.goto(`${base}/orgs/${encodeURIComponent(orgId)}`);
      await a.page.getByLabel("Username").fill(bob.name);
      await a.page.getByLabel("Role").selectOption("member");
      await a.page.getByRole("button", { name: "Add member" }).click();
      await a.page.waitForURL(/\?notice=added$/);
      check((await statusText(a.page)).includes("The member was added."), "the confirmation");
      const row = a.page.locator("#members tbody tr").filter({ hasText: bob.name });
      expectEqual(await row.count(), 1, "bob's row in the members table");
      check((await row.innerText()).includes("member"), "bob's role: " + (await row.innerText()));
    });

    await step("bob sees the organization's VM, stopped", [b], async () => {
      await b.page.goto(base + "/vms");
      await b.page.locator(vmRow()).waitFor();
      const text = await b.page.locator(vmRow()).innerText();
      check(text.includes(vmName) && text.includes(orgName), "bob's row names the VM and its organization: " + text);
      check(/stopped/.test(await b.page.locator(`${vmRow()} .state`).innerText()), "the row says stopped: " + text);
    });

    await step("alice starts the VM; bob sees it running without reloading", [a, b], async () => {
      const watch = await watchLive(b, `${vmRow()} .state`);
      await a.page.goto(`${base}/vms/${encodeURIComponent(vmId)}`);
      await a.page.getByRole("button", { name: `Start VM ${vmName}`, exact: true }).click();
      await a.page.waitForURL(/\?notice=start$/);
      check((await statusText(a.page)).includes("The VM was asked to start."), "alice's confirmation");
      await waitLive(watch, /^\s*running\b/, "vms");
    });

    await step("bob has no delete button, and a direct POST to delete is refused (403)", [b], async () => {
      await b.page.goto(`${base}/vms/${encodeURIComponent(vmId)}`);
      expectEqual(await heading(b.page), `VM ${vmName}`, "heading");
      expectEqual(await b.page.locator("#delete-vm").count(), 0, "delete forms on bob's page");
      expectEqual(await b.page.getByRole("button", { name: /delete/i }).count(), 0, "delete buttons on bob's page");
      check(await b.page.getByRole("button", { name: `Stop VM ${vmName}`, exact: true }).isVisible(), "a member may stop the VM: the Stop button is there");
      const token = await csrfToken(b.page);
      check(token, "bob's page has a CSRF token");
      const form = await b.page.request.post(`${base}/vms/${encodeURIComponent(vmId)}/delete`, {
        headers: { Accept: "text/html" },
        form: { csrf_token: token, confirm_name: vmName },
        maxRedirects: 0,
      });
      expectEqual(form.status(), 403, "POST /vms/{id}/delete as bob (with his CSRF token)");
      const api = await b.page.request.delete(`${base}/api/v1/vms/${encodeURIComponent(vmId)}`, {
        headers: { Accept: "application/json", "X-CSRF-Token": token },
      });
      expectEqual(api.status(), 403, "DELETE /api/v1/vms/{id} as bob");
      await b.page.reload();
      expectEqual(await heading(b.page), `VM ${vmName}`, "the VM is still there");
      check(!/was deleted/.test(await b.page.locator("main").innerText()), "the VM page does not say it was deleted");
    });

    await step("alice deletes the VM after typing its name", [a], async () => {
      await a.page.goto(`${base}/vms/${encodeURIComponent(vmId)}`);
      // The VM's page is gone with the VM (its permissions go with it): keep its history now.
      history = await a.page.locator("#history tbody tr").evaluateAll((rows) =>
        rows.map((r) => ({ type: r.dataset.type, who: r.cells[1].textContent.trim() })),
      );
      const n = String(stepNo).padStart(2, "0");
      await a.page.screenshot({ path: path.join(ARTIFACTS, `journey-${n}-the-vm-before-its-deletion.png`), fullPage: true });
      await a.page.locator("#delete-vm summary").click();
      await a.page.getByLabel(/Type the VM's name/).fill(vmName + "x");
      await a.page.getByRole("button", { name: `Delete VM ${vmName}` }).click();
      const refusal = (await a.page.locator('[role="alert"]').first().innerText()).trim();
      check(refusal.includes(`VM ${vmName} was not deleted`), "a wrong name is refused with a sentence: " + refusal);
      await a.page.getByLabel(/Type the VM's name/).fill(vmName);
      await a.page.getByRole("button", { name: `Delete VM ${vmName}` }).click();
      await a.page.waitForURL(/\/vms\?notice=deleted$/);
      check((await statusText(a.page)).includes("The VM was deleted."), "the confirmation");
      expectEqual(await a.page.locator(vmRow()).count(), 0, "the VM's row in alice's list");
    });

    // Who did what, as the audit log and the VM's history should both say it.
    const expected = [
      { type: "OrganizationCreated", actor: alice.name },
      { type: "VmCreated", actor: alice.name, vm: true },
      { type: "VmStopRequested", actor: alice.name, vm: true },
      { type: "MemberAdded", actor: alice.name },
      { type: "VmStartRequested", actor: alice.name, vm: true },
      { type: "VmDeleteRequested", actor: alice.name, vm: true },
    ];

    await step("the audit log shows each step with its actor", [a], async () => {
      const probe = await a.page.request.get(base + "/audit", { headers: { Accept: "text/html" } });
      if (probe.status() === 404) throw new Waiting(AUDIT_PAGE, "GET /audit answers 404");
      expectEqual(probe.status(), 200, "GET /audit");
      await a.page.goto(base + "/audit");
      const missing = [];
      for (const e of expected) {
        const rows = a.page.locator(`[data-type="${e.type}"]`).filter({ hasText: e.actor });
        if ((await rows.count()) === 0) missing.push(`${e.type} by ${e.actor}`);
      }
      check(missing.length === 0, "entries missing from /audit (rows with data-type and the actor's name): " + missing.join(", "));
    }, { independent: true });

    await step("the VM's history matches: each request with who made it, and the host's reports", [a], async () => {
      const types = history.map((h) => h.type);
      for (const e of expected.filter((x) => x.vm && x.type !== "VmDeleteRequested")) {
        const row = history.find((h) => h.type === e.type);
        check(row, `${e.type} is missing from the VM's history (it has: ${types.join(", ")})`);
        expectEqual(row.who, e.actor, `who made ${e.type}`);
      }
      check(history.some((h) => h.type === "VmScheduled" && h.who === "the system"), "the system placed it on a host");
      check(history.some((h) => h.type === "VmObserved" && h.who === "its host"), "its host reported its state");
      // Newest first: the start came after the stop, which came after the creation.
      const at = (t) => types.indexOf(t);
      check(at("VmStartRequested") < at("VmStopRequested") && at("VmStopRequested") < at("VmCreated"), "the history's order (newest first): " + types.join(", "));
      // The audit log, where there is one, tells the same of this VM.
      const audit = await a.page.request.get(base + "/audit", { headers: { Accept: "text/html" } });
      if (audit.status() === 200) {
        await a.page.goto(base + "/audit");
        for (const e of expected.filter((x) => x.vm)) {
          const n = await a.page.locator(`[data-type="${e.type}"]`).filter({ hasText: e.actor }).count();
          check(n > 0, `the audit log has no ${e.type} by ${e.actor}, which the VM's history has`);
        }
      } else {
        await a.page.goto(base + "/vms");
        log("#   (no /audit yet: the VM's history was checked on its own)");
      }
    });
  } catch (e) {
    if (!(results.length && !results[results.length - 1].ok && !results[results.length - 1].waiting)) {
      log(`not ok - setup: ${e.message}`);
      results.push({ name: "setup", ok: false });
    }
  } finally {
    await cleanup();
  }
  const passed = results.filter((r) => r.ok).length;
  const waiting = results.filter((r) => r.waiting).length;
  const failed = results.length - passed - (STRICT ? 0 : waiting);
  const skipped = STRICT ? 0 : waiting;
  log(`# screenshots and logs: ${ARTIFACTS}/journey-*`);
  if (waiting) log(`# ${waiting} step(s) wait for features still being built${STRICT ? " (counted as failures: STRATO_BROWSER_STRICT=1)" : ""}`);
  log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((e) => {
  log(`not ok - ${e.stack || e}`);
  log("0 passed, 1 failed");
  process.exit(1);
});
