// The reviewer page in a real browser against the real daemon: sign in; a production deployment appears
// live after staging succeeds; two reviewers approve it in two browser contexts and watch it succeed
// without a reload; a reviewer without `approve` is told why there is no button; a forged cross-site
// POST is refused; the page carries its CSP; an approval is made with the keyboard alone; the board fits
// a phone. Writes screenshots of the board and a deployment page.
// Usage: node review.test.mjs SHIPGATE DOKPLOY_STANDIN SCREENSHOT_DIR
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { freePort, launchChromium, push, startDaemons, waitFor } from './harness.mjs';

const [shipgate, dokploy, outDir] = process.argv.slice(2);
const SECRET = 'browser-secret';
const TOKENS = { alice: 'alice-browser-token-0123', bob: 'bob-browser-token-01234', carol: 'carol-browser-token-0123' };
const SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';

const config = ({ port, dokploy: url, store }) => `
server: { listen: 127.0.0.1:${port}, api_rate: 1000000, api_burst: 1000000 }
store: sqlite:${store}
github: { secrets: [${SECRET}] }
reviewers:
  alice: { token: ${TOKENS.alice}, can: [approve, deploy, rollback] }
  bob: { token: ${TOKENS.bob}, can: [approve] }
  carol: { token: ${TOKENS.carol} }
projects:
  planera:
    repository: acme/planera
    components: { backend: { image: ghcr.io/acme/planera-backend } }
    environments:
      staging:
        deploy_on: [push]
        tag: "staging-{short_sha}"
        targets: [ { type: dokploy, url: "${url}", api_key: browser-key, application_id: app_staging, poll_interval: 20ms } ]
      production:
        promote_from: staging
        deploy_on: [dispatch]
        approval: { required: 2, reviewers: [alice, bob] }
        confirm: ship-it
        targets: [ { type: dokploy, url: "${url}", api_key: browser-key, application_id: app_production, poll_interval: 20ms } ]
`;

// Script errors and Content-Security-Policy violations on any page fail the test (a refused request,
// like the first session check before sign-in, is not an error of the page).
const pageErrors = [];
function watchErrors(page, name) {
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(`${name}: ${m.text()}`);
  });
}

async function signIn(browser, base, name, path) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  watchErrors(page, name);
  const response = await page.goto(base + path);
  await page.fill('#token', TOKENS[name]);
  await page.press('#token', 'Enter');
  await page.waitForSelector(`#who:text("${name}")`);
  await page.waitForSelector('#live.on');  // the event stream is open
  // Set once: still there later means the page was never reloaded.
  await page.evaluate(() => { window.notReloaded = true; });
  return { context, page, response };
}

const notReloaded = (page) => page.evaluate(() => window.notReloaded === true);

async function main() {
  const run = await startDaemons({ shipgate, dokploy, config });
  const browser = await launchChromium();
  let evil;
  try {
    const alice = await signIn(browser, run.base, 'alice', '/approvals');
    const bob = await signIn(browser, run.base, 'bob', '/approvals');
    const carol = await signIn(browser, run.base, 'carol', '/');

    // The page itself: strict CSP, no framing.
    const headers = alice.response.headers();
    assert.match(headers['content-security-policy'], /default-src 'self'/);
    assert.match(headers['content-security-policy'], /script-src 'self'(;|$)/);
    assert.equal(headers['x-frame-options'], 'DENY');

    // A push: staging deploys, production waits for approval and appears in both inboxes, live.
    assert.equal(await alice.page.locator('article.pending').count(), 0);
    const accepted = await push(run.base, SECRET, 'acme/planera', SHA);
    assert.equal(accepted.deployments[0].environment, 'staging');
    for (const r of [alice, bob]) await r.page.waitForSelector('article.pending', { timeout: 20000 });
    const id = Number(await alice.page.getAttribute('article.pending', 'data-deployment'));
    assert.ok(id > 0);
    assert.ok(await notReloaded(alice.page) && await notReloaded(bob.page), 'the inbox updated without a reload');
    await alice.page.waitForSelector('#inbox-count:text("1")');

    // Alice approves from her inbox, then follows the deployment.
    await alice.page.fill('article.pending textarea', 'looks good on staging');
    await alice.page.click('article.pending button[data-action=approve]');
    await bob.page.waitForSelector('article.pending .approvals:text("1 of 2")');
    await alice.page.click(`article.pending h2 a`);
    await alice.page.waitForSelector(`h1 .state-pending_approval`);
    assert.equal(await alice.page.locator('button[data-action=approve]').count(), 1, 'a repeated approval is still offered');

    // Carol may view but not approve: her inbox has nothing for her, the deployment waits on others with
    // the reason, and its page has no button either.
    await carol.page.click('nav a[data-nav=approvals]');
    await carol.page.waitForSelector('.inbox.others article.pending [data-why=approve]');
    assert.match(await carol.page.textContent('#view'), /Nothing waits for your decision/);
    await carol.page.goto(`${run.base}/deployments/${id}`);
    await carol.page.waitForSelector('[data-why=approve]');
    assert.equal(await carol.page.locator('button[data-action=approve]').count(), 0);
    assert.match(await carol.page.textContent('[data-why=approve]'), /needs the 'approve' permission/);

    // Bob approves with the keyboard alone (Tab from his comment reaches Approve, Enter presses it);
    // Alice's deployment page reaches succeeded by itself.
    await bob.page.focus('article.pending textarea');
    // A live update redraws the inbox under his cursor: the new comment box has the focus.
    await bob.page.evaluate(() => { document.querySelector('article.pending textarea').dataset.drawn = 'before'; });
    let reads = 0;
    const redrawn = new Promise((resolve) => bob.page.on('response', (r) => {
      if (r.url().includes('state=pending_approval') && ++reads === 2) resolve();
    }));
    await bob.page.evaluate(() => window.dispatchEvent(new Event('shipgate:changed')));
    await redrawn;
    assert.deepEqual(await bob.page.evaluate(() => [document.activeElement.tagName, document.activeElement.dataset.drawn]),
                     ['TEXTAREA', undefined], 'the redrawn comment box has the focus');
    await bob.page.keyboard.type('ok');
    await bob.page.keyboard.press('Tab');
    assert.equal(await bob.page.evaluate(() => document.activeElement.dataset.action), 'approve');
    await bob.page.keyboard.press('Enter');
    await alice.page.waitForSelector('h1 .state-succeeded', { timeout: 30000 });
    assert.ok(await notReloaded(alice.page), 'the deployment page updated without a reload');
    await alice.page.waitForSelector('.timeline li:has-text("approved")');
    mkdirSync(outDir, { recursive: true });
    await alice.page.screenshot({ path: join(outDir, 'deployment.png'), fullPage: true });

    // A page on another origin posts a form to shipgate with Alice's cookie: refused, nothing changes.
    const evilPort = await freePort();
    evil = createServer((req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<form method="POST" action="${run.base}/api/v1/deployments" enctype="text/plain">
        <input name='{"project":"planera","environment":"staging","version":"x","a":"' value='"}'></form>
        <script>document.forms[0].submit()</script>`);
    });
    await new Promise((r) => evil.listen(evilPort, '127.0.0.1', r));
    const before = await (await fetch(`${run.base}/api/v1/deployments?limit=500`, {
      headers: { Authorization: `Bearer ${TOKENS.alice}` } })).json();
    const evilPage = await alice.context.newPage();
    const [forged] = await Promise.all([
      evilPage.waitForResponse((r) => r.url().startsWith(`${run.base}/api/v1/deployments`)),
      evilPage.goto(`http://127.0.0.1:${evilPort}/`),
    ]);
    assert.equal(forged.status(), 403);
    assert.equal((await forged.json()).error, 'csrf');
    const after = await (await fetch(`${run.base}/api/v1/deployments?limit=500`, {
      headers: { Authorization: `Bearer ${TOKENS.alice}` } })).json();
    assert.equal(after.deployments.length, before.deployments.length, 'the forged POST created nothing');

    // The board shows what runs where, then the screenshot for the README.
    await alice.page.click('nav a[data-nav=board]');
    await alice.page.waitForSelector('[data-env="planera/production"] .current');
    assert.match(await alice.page.textContent('[data-env="planera/production"] .current'), /staging-611372|6113728/);
    await alice.page.screenshot({ path: join(outDir, 'board.png'), fullPage: true });

    // Insights: the four figures for production, with a chart of its day.
    await alice.page.click('nav a[data-nav=insights]');
    await alice.page.waitForSelector('[data-env="planera/production"] .figure');
    assert.match(await alice.page.textContent('[data-env="planera/production"]'), /Deployment frequency\s*1 /);
    assert.ok(await alice.page.locator('[data-env="planera/production"] svg.chart.deploys rect').count() >= 30);
    await alice.page.screenshot({ path: join(outDir, 'insights.png'), fullPage: true });

    // On a small phone (360 px): every page fits the screen's width, nothing to scroll sideways.
    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true });
    await phone.addCookies(await alice.context.cookies());
    const small = await phone.newPage();
    for (const [path, ready] of [['/', '[data-env="planera/production"] .current'], ['/approvals', '#view h1'],
                                 [`/deployments/${id}`, '.timeline li'], ['/audit', 'table.audit td'],
                                 ['/insights', '.figure']]) {
      await small.goto(`${run.base}${path}`);
      await small.waitForSelector(ready);
      const wide = await small.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= 360, `${path} is ${wide} px wide on a 360 px phone`);
      if (path === '/') await small.screenshot({ path: join(outDir, 'board-phone.png') });
    }
    await phone.close();

    // Sign-out ends the session on the server: the old cookie no longer works.
    const cookies = await alice.context.cookies();
    const session = cookies.find((c) => c.name === 'shipgate_session');
    assert.ok(session && session.httpOnly && session.sameSite === 'Strict');
    await alice.page.click('#sign-out');
    await alice.page.waitForSelector('#sign-in:not([hidden])');
    const stale = await fetch(`${run.base}/api/v1/session`, { headers: { Cookie: `shipgate_session=${session.value}` } });
    assert.equal(stale.status, 401);
    assert.deepEqual(pageErrors, [], 'no script errors and no CSP violations');
    console.log(`ok: reviewer page (deployment ${id}); screenshots in ${outDir}`);
  } catch (e) {
    console.error(`shipgate log:\n${run.daemon.log}`);
    throw e;
  } finally {
    if (evil) evil.close();
    await browser.close();
    run.stop();
  }
}

await waitFor(async () => true, 'nothing');
await main();
