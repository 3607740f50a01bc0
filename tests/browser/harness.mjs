// What the browser test needs around the page: the real daemon and the Dokploy stand-in as child
// processes on loopback ports, signed GitHub pushes, and Chromium from Debian driven by playwright-core.
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.SHIPGATE_CHROMIUM || '/usr/bin/chromium';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitFor(check, what, ms = 15000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export class Child {
  constructor(name, argv) {
    this.name = name;
    this.log = '';
    this.proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [this.proc.stdout, this.proc.stderr]) s.on('data', (b) => { this.log += b.toString(); });
  }
  stop() { if (this.proc.exitCode === null) this.proc.kill('SIGKILL'); }
}

export async function startDaemons({ shipgate, dokploy, config }) {
  const dir = mkdtempSync(join(tmpdir(), 'shipgate-browser-'));
  const dokployPort = await freePort();
  const port = await freePort();
  const standin = new Child('dokploy', [dokploy, '--port', String(dokployPort), '--api-key', 'browser-key']);
  await waitFor(async () => standin.log.includes('listening'), 'the Dokploy stand-in');
  const file = join(dir, 'shipgate.yaml');
  writeFileSync(file, config({ port, dokploy: `http://127.0.0.1:${dokployPort}`, store: join(dir, 'shipgate.db') }));
  const daemon = new Child('shipgate', [shipgate, 'serve', '-c', file, '--init']);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/healthz`)).ok, `shipgate (log: ${daemon.log})`);
  return { base, daemon, standin, dir, stop() { daemon.stop(); standin.stop(); } };
}

export async function push(base, secret, repository, sha) {
  const commit = { id: sha, message: 'Fix the thing', timestamp: new Date(Date.now() - 3600e3).toISOString(),
                   author: { name: 'Octo Cat', email: 'octo@example.com', username: 'octocat' },
                   added: [], modified: ['src/main.cpp'], removed: [] };
  const body = JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, created: false, deleted: false,
    forced: false, base_ref: null, compare: `https://github.com/${repository}/compare`, commits: [commit], head_commit: commit,
    repository: { id: 1, name: repository.split('/')[1], full_name: repository, private: true, default_branch: 'main' },
    pusher: { name: 'octocat', email: 'octo@example.com' }, sender: { login: 'octocat', id: 1, type: 'User' } });
  const signature = 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
  const res = await fetch(`${base}/webhooks/github`, { method: 'POST', body, headers: {
    'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': randomUUID(),
    'X-Hub-Signature-256': signature, 'User-Agent': 'GitHub-Hookshot/test' } });
  if (res.status !== 202) throw new Error(`push answered ${res.status}: ${await res.text()}`);
  return res.json();
}

export async function launchChromium() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (scripts/setup)`);
  // No background networking: this machine's network is closed, and the test needs none.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'] });
}

export { waitFor };
