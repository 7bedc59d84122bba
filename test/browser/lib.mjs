// What the browser tests (passkeys.test.mjs, journey.test.mjs) share: where things are, checks
// that fail a step with a sentence, psql, the virtual authenticator's options and the browser.
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, "..", "..");
// Absolute, so that what the tests derive from it (strato-hostd, the simulator it spawns) works
// from any folder.
export const STRATO_BIN = path.resolve(process.env.STRATO_BIN || path.join(ROOT, "build", "strato"));
export const CHROMIUM = process.env.STRATO_CHROMIUM || "/usr/bin/chromium";
export const ARTIFACTS =
  process.env.STRATO_BROWSER_ARTIFACTS || path.join(ROOT, "build", "test-artifacts", "browser");

// A check that failed: its message is the step's explanation.
export class Failure extends Error {}

export function need(name) {
  const v = process.env[name];
  if (!v) {
    throw new Failure(`${name} is not set; run this through ./ops/test, or export ${name} yourself`);
  }
  return v;
}

export function check(condition, message) {
  if (!condition) throw new Failure(message);
}

export function expectEqual(actual, expected, what) {
  if (actual !== expected) {
    throw new Failure(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

export function log(line) {
  process.stdout.write(line + "\n");
}

export function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

// psql against `url`: the single value of a query ("" when none).
export function sql(url, query) {
  return execFileSync("psql", [url, "-v", "ON_ERROR_STOP=1", "-tAqc", query], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

export function databaseUrl(adminUrl, name) {
  const u = new URL(adminUrl);
  u.pathname = "/" + name;
  return u.toString();
}

export function quoteLiteral(s) {
  return "'" + String(s).replace(/'/g, "''") + "'";
}

// A platform authenticator holding discoverable credentials that verifies its user at once.
export const AUTHENTICATOR = {
  protocol: "ctap2",
  transport: "internal",
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  automaticPresenceSimulation: true,
};

// Debian's Chromium, headless.
export async function launchChromium() {
  check(fs.existsSync(CHROMIUM), `${CHROMIUM} does not exist; ops/setup installs Debian's chromium, or set STRATO_CHROMIUM`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false, // root in a container: --no-sandbox
    args: [
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage", // containers often have a small /dev/shm
    ],
  });
}
