// Shared by the browser tests and the decode benchmark: start `gen3d serve` on a free
// port with a fresh data directory, launch Debian's Chromium headless through
// playwright-core, and sign a new user in through the app's own form.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = resolve(WEB, '../../shared/fixtures/images');

export function args(defaults) {
  const out = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = argv[i].startsWith('--') && argv[i].includes('=') ? argv[i].slice(2).split('=') : [argv[i].slice(2), argv[++i]];
    out[k] = v;
  }
  return out;
}

/** `gen3d serve` from `bin` (or an already running `url`): {url, stop}. */
export async function server({ gen3d, url, extra = [] }) {
  if (url) return { url, stop: async () => {} };
  if (!gen3d) throw new Error('pass --gen3d PATH_TO_BINARY or --url URL');
  const data = mkdtempSync(join(tmpdir(), 'gen3d-web-'));
  const child = spawn(gen3d, ['--data', data, 'serve', '--port', '0', '--web-dir', join(WEB, 'dist'), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const found = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`gen3d serve did not start in 60 s:\n${log}`)), 60_000);
    child.stdout.on('data', (d) => {
      const m = /listening on (http:\/\/\S+)/.exec(String(d));
      if (m) (clearTimeout(timer), ok(m[1]));
    });
    child.on('exit', (code) => fail(new Error(`gen3d serve exited with ${code}:\n${log}`)));
  });
  return {
    url: found,
    data,
    log: () => log,
    stop: async () => {
      child.kill('SIGINT');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--enable-unsafe-swiftshader',
      '--use-angle=swiftshader',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function signUp(page, url, domain = 'example.com') {
  await page.goto(url);
  await page.getByTestId('signin-toggle').click();
  const email = `web-${Date.now()}-${Math.floor(Math.random() * 1e6)}@${domain}`;
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill(PASSWORD);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('dropzone').waitFor();
  return email;
}

export const PASSWORD = 'correct horse battery';

/** Uploads a photo through the file input and waits until the page can decode clicks. */
export async function uploadPhoto(page, path, timeout = 180_000) {
  await page.getByTestId('photo-input').setInputFiles(path);
  await page.locator('[data-testid=workspace][data-state=ready]').waitFor({ timeout });
}

/** Clicks the stage at photo pixel (x, y) and waits for the decoded mask. */
export async function clickPhoto(page, x, y, { button = 'left', width, height }) {
  const stage = page.getByTestId('stage');
  const before = Number((await stage.getAttribute('data-decoded')) ?? 0);
  const box = await stage.boundingBox();
  await page.mouse.move(box.x + (x / width) * box.width, box.y + (y / height) * box.height);
  await page.mouse.down({ button });
  await page.mouse.up({ button });
  await page.waitForFunction((b) => Number(document.querySelector('[data-testid=stage]').dataset.decoded ?? 0) > b, before);
}

/** Drags a box on the stage from photo pixel (x0, y0) to (x1, y1) and waits for its mask. */
export async function dragBox(page, [x0, y0], [x1, y1], { width, height }) {
  const stage = page.getByTestId('stage');
  const b = await stage.boundingBox();
  const at = (x, y) => [b.x + (x / width) * b.width, b.y + (y / height) * b.height];
  const before = Number((await stage.getAttribute('data-decoded')) ?? 0);
  await page.mouse.move(...at(x0, y0));
  await page.mouse.down();
  await page.mouse.move(...at((x0 + x1) / 2, (y0 + y1) / 2), { steps: 5 });
  await page.mouse.move(...at(x1, y1), { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=stage]').dataset.decoded ?? 0) > n, before);
}

/** A call to Cognito's JSON API (here: moto server's). */
export async function cognitoCall(endpoint, action, body) {
  const res = await fetch(endpoint.replace(/\/?$/, '/'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}` },
    body: JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(`cognito ${action}: ${JSON.stringify(data)}`);
  return data;
}
