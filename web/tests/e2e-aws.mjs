// The browser journey on the AWS profile: Chromium → the edge stand-in derived from
// Pulumi.yaml (CloudFront for the app, API Gateway for the API) → the intake Lambda's
// handler and moto (Cognito, S3, SQS, SNS, DynamoDB, SES) → the other services' Lambda
// handlers → the inference container. Sign-up, confirmation and sign-in against the user
// pool, the photo PUT to S3 through its presigned URL, clicks and a box decoded in the
// browser, reconstruction, the viewer, the downloads, and the mail read back from moto's
// SES and followed. The journeys are the local ones (journey.mjs).
//
//   node tests/e2e-aws.mjs --url EDGE_WEB_URL --moto MOTO_URL [--out DIR]
// (`tests/tests/browser_aws.rs` starts the stack and the edge, then runs this.)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { args, launch } from './harness.mjs';
import { boxAndTwoObjects, photoToMesh } from './journey.mjs';

const opts = args({ out: join(process.cwd(), 'test-results', 'aws') });
if (!opts.url || !opts.moto) throw new Error('pass --url EDGE_WEB_URL and --moto MOTO_URL');
mkdirSync(opts.out, { recursive: true });
const PASSWORD = 'Correct-horse-42';

/** Sign-up through the app's form against the user pool, with the emailed code. */
async function signUp(page, url) {
  const email = `aws-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  await page.goto(url);
  await page.getByTestId('signin-toggle').click();
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill(PASSWORD);
  await page.getByTestId('signin-submit').click();
  // Seen once: Chromium could not reach moto's Cognito on the first try. A person presses
  // the button again on that message; so does the test, once, and says so.
  const first = await Promise.race([
    page.getByTestId('code').waitFor({ state: 'visible' }).then(() => 'code'),
    page.getByTestId('signin-error').filter({ hasText: /Cannot reach/ }).waitFor().then(() => 'unreachable'),
  ]);
  if (first === 'unreachable') {
    console.log('  sign-up: the sign-in service was unreachable once; trying again');
    await page.getByTestId('signin-submit').click();
  }
  await page.getByTestId('code').waitFor({ state: 'visible' });
  await page.getByTestId('code').fill('123456'); // moto accepts any code
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('dropzone').waitFor();
  return { email, password: PASSWORD };
}

/** The link in the mail moto's SES accepted about `object`, on the edge's origin. */
async function mailLink(object) {
  for (let i = 0; i < 300; i++) {
    // moto's state dump can fail for a moment while another Cognito call is under way.
    const data = await fetch(`${opts.moto}/moto-api/data.json`).then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
    for (const m of data.ses?.Message ?? []) {
      const text = JSON.stringify(m.body ?? '').replace(/\\n/g, ' ');
      const found = new RegExp(`https?://[^\\s"<\\\\]*(#/sessions/[^\\s"<\\\\]*/objects/${object})`).exec(text);
      if (found) return opts.url.replace(/\/$/, '') + '/' + found[1];
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail about object ${object} in moto's SES`);
}

const journeys = [
  ['AWS: photo to downloaded mesh through the edge, Cognito sign-up, the SES mail link', photoToMesh],
  ['AWS: a hover preview, a box, Escape and Ctrl+Z, the cut-out, marker removal, candidates, two objects', boxAndTwoObjects],
];
const browser = await launch();
let failed = 0;
try {
  for (const [name, journey] of journeys) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    const page = await context.newPage();
    const errors = [];
    const refused = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('response', (r) => [401, 403, 404, 429].includes(r.status()) && refused.push(`${r.status()} ${r.request().method()} ${r.url()}`));
    const shot = (n) => page.screenshot({ path: join(opts.out, `aws-${n}.jpg`), type: 'jpeg', quality: 80, fullPage: true });
    const t0 = Date.now();
    try {
      await journey(page, { url: opts.url, shot, out: opts.out, signUp, mailLink });
      assert.deepEqual(errors, [], 'no uncaught errors in the page');
      console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}\n  ${e.stack ?? e}`);
      await page.screenshot({ path: join(opts.out, `aws-failed-${journeys.findIndex((j) => j[0] === name)}.png`), fullPage: true }).catch(() => {});
      if (errors.length) console.log('  page errors:', errors);
      if (refused.length) console.log('  refused requests:', refused);
    }
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(`${journeys.length - failed} passed, ${failed} failed; screenshots in ${opts.out}`);
process.exit(failed ? 1 : 0);
