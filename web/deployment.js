// The approvals inbox and one deployment's page: its timeline and what this reviewer may do with it.
import * as api from './api.js';
import { h, time, stateBadge, commitLink, compareLink, version } from './dom.js';

const changed = () => window.dispatchEvent(new Event('shipgate:changed'));

// Each visible project's repository and what runs in its environments, from one board read.
async function projects() {
  const data = await api.get('/api/v1/projects');
  const out = {};
  for (const p of data.projects)
    out[p.name] = { repository: p.repository, running: (env) => (p.environments.find((e) => e.name === env) || {}).current };
  return out;
}
const unknown = { repository: '', running: () => undefined };

// A button for an action, or the reason it is not offered.
function action(actions, name, label, run) {
  const a = actions[name];
  if (!a || !a.allowed) return a && a.why ? h('p', { class: 'why', 'data-why': name }, `${label}: ${a.why}`) : '';
  return h('button', { type: 'button', 'data-action': name, onclick: run }, label);
}

function reviewForm(d) {
  const comment = h('textarea', { 'aria-label': 'Comment', placeholder: 'Comment (needed to reject)', rows: 2 });
  const error = h('p', { class: 'error', role: 'alert' });
  const send = (verb) => async () => {
    error.textContent = '';
    try {
      await api.post(`/api/v1/deployments/${d.id}/${verb}`, { comment: comment.value });
      comment.value = '';
      changed();
    } catch (e) { error.textContent = e.message; }
  };
  return h('div', { class: 'review' },
    d.actions.approve.allowed || d.actions.reject.allowed ? comment : '',
    h('div', { class: 'buttons' }, action(d.actions, 'approve', 'Approve', send('approve')),
      action(d.actions, 'reject', 'Reject', send('reject'))), error);
}

function approvalsLine(d) {
  if (d.state !== 'pending_approval') return '';
  const by = (d.approvals || []).map((a) => a.reviewer);
  return h('p', { class: 'approvals' }, `${by.length} of ${d.approvals_required} approval(s)`, by.length ? ` (by ${by.join(', ')})` : '',
           d.expires_at ? [' · expires ', time(d.expires_at)] : '');
}

function pendingCard(d, r) {
  const running = r.running(d.environment);
  return h('article', { class: 'pending', 'data-deployment': d.id },
    h('h2', {}, h('a', { href: `/deployments/${d.id}` }, `${d.project} / ${d.environment}: `, version(d.version))),
    h('p', {}, 'triggered by ', h('strong', {}, d.actor), ' ', time(d.created_at), ' · ',
      commitLink(r.repository, d.sha), ' ', compareLink(r.repository, running && running.sha, d.sha)),
    approvalsLine(d), reviewForm(d));
}

// What this reviewer may decide comes first; what waits on others is listed with the reason.
export async function renderApprovals(view, me) {
  const list = await api.get('/api/v1/deployments?state=pending_approval&limit=100');
  const items = await Promise.all(list.deployments.map((d) => api.get(`/api/v1/deployments/${d.id}`)));
  const repos = items.length ? await projects() : {};
  const card = (d) => pendingCard(d, repos[d.project] || unknown);
  const mine = items.filter((d) => d.actions.approve.allowed || d.actions.reject.allowed);
  const others = items.filter((d) => !mine.includes(d));
  view.replaceChildren(h('h1', {}, 'Approvals'),
    items.length === 0 ? h('p', { class: 'muted' }, 'Nothing waits for approval.') : '',
    mine.length ? h('div', { class: 'inbox' }, mine.map(card)) : '',
    items.length && !mine.length ? h('p', { class: 'muted' }, 'Nothing waits for your decision.') : '',
    others.length ? h('h2', {}, 'Waiting on other reviewers') : '',
    others.length ? h('div', { class: 'inbox others' }, others.map(card)) : '');
  return me;
}

// Where a row goes among rows of the same millisecond: an approval before the state it let through, the
// final state after the calls that led to it.
const AFTER_CALLS = new Set(['succeeded', 'failed', 'rolled_back', 'cancelled', 'rejected', 'superseded', 'expired']);

function timeline(d) {
  const rows = [];
  for (const t of d.history || [])
    rows.push({ at: t.at, what: [stateBadge(t.to), ' ', t.reason || ''], who: t.actor, rank: AFTER_CALLS.has(t.to) ? 3 : 1 });
  for (const a of d.approvals || []) rows.push({ at: a.at, what: ['approved', a.comment ? `: ${a.comment}` : ''], who: a.reviewer, rank: 0 });
  const result = d.result || {};
  // Each target call, smoke check and rollback step carries the time it ended (deployments recorded
  // before they did sit at the deployment's end).
  const during = d.finished_at || d.updated_at;
  for (const t of result.targets || [])
    rows.push({ at: t.at || during, what: [`target ${t.target}: ${t.ok ? 'ok' : 'failed'} in ${t.duration_ms} ms`,
                                   t.message ? ` (${t.message})` : ''], rank: 2 });
  for (const s of result.smoke || [])
    rows.push({ at: s.at || during, what: [`smoke check ${s.url}: ${s.ok ? 'passed' : 'failed'}`, s.message ? ` (${s.message})` : ''], rank: 2 });
  for (const s of result.rollback || [])
    rows.push({ at: s.at || during, what: [`rollback ${s.target}: ${s.ok ? 'ok' : 'failed'}`, s.message ? ` (${s.message})` : ''], rank: 2 });
  rows.sort((a, b) => Date.parse(a.at || 0) - Date.parse(b.at || 0) || a.rank - b.rank);
  return h('ol', { class: 'timeline' }, rows.map((r) => h('li', {}, time(r.at), ' ', r.what, r.who ? h('span', { class: 'muted' }, ` by ${r.who}`) : '')));
}

function manageForm(d) {
  const error = h('p', { class: 'error', role: 'alert' });
  const run = (fn) => async () => {
    error.textContent = '';
    try { await fn(); changed(); } catch (e) { error.textContent = e.message; }
  };
  const confirmInput = d.actions.confirm ? h('input', { type: 'text', 'aria-label': `Type "${d.actions.confirm}" to confirm`,
                                                        placeholder: `type "${d.actions.confirm}" to deploy` }) : null;
  const reason = h('input', { type: 'text', 'aria-label': 'Reason', placeholder: 'Reason (needed to override)' });
  const env = `/api/v1/projects/${api.enc(d.project)}/environments/${api.enc(d.environment)}`;
  return h('div', { class: 'manage' },
    h('div', { class: 'buttons' },
      action(d.actions, 'cancel', 'Cancel', run(() => api.post(`/api/v1/deployments/${d.id}/cancel`, { reason: reason.value }))),
      action(d.actions, 'rollback', 'Roll back this environment', run(() => api.post(`${env}/rollback`, { reason: reason.value })))),
    d.actions.deploy.allowed ? h('div', { class: 'deploy' }, confirmInput,
      action(d.actions, 'deploy', 'Deploy this version again', run(() => api.post('/api/v1/deployments', {
        project: d.project, environment: d.environment, version: d.version,
        confirm: confirmInput ? confirmInput.value : undefined })))) : action(d.actions, 'deploy', 'Deploy', null),
    d.actions.override.allowed ? h('div', { class: 'override' }, reason,
      action(d.actions, 'override', 'Emergency override', run(() => d.trigger === 'github_actions'
        // A GitHub Actions job is let through where it waits; any other version is deployed anew.
        ? api.post(`/api/v1/deployments/${d.id}/override`, { reason: reason.value })
        : api.post('/api/v1/deployments', {
          project: d.project, environment: d.environment, version: d.version, override: { reason: reason.value } })))) : '',
    error);
}

export async function renderDeployment(view, me, id) {
  const d = await api.get(`/api/v1/deployments/${id}`);
  const r = (await projects())[d.project] || unknown;
  view.replaceChildren(
    h('h1', {}, `${d.project} / ${d.environment}: `, version(d.version), ' ', stateBadge(d.state)),
    h('p', {}, `#${d.id} · ${d.trigger} by `, h('strong', {}, d.actor), ' ', time(d.created_at), ' · ',
      commitLink(r.repository, d.sha), d.config_sha256 ? h('span', { class: 'muted' }, ` · config ${d.config_sha256.slice(0, 12)}`) : ''),
    d.waiting_reason ? h('p', { class: 'gate' }, d.waiting_reason) : '',
    approvalsLine(d),
    d.state === 'pending_approval' ? reviewForm(d) : '',
    h('h2', {}, 'Timeline'), timeline(d),
    h('h2', {}, 'Actions'), manageForm(d),
    d.result && Object.keys(d.result).length ? h('details', {}, h('summary', {}, 'Target results'),
      h('pre', {}, JSON.stringify(d.result, null, 2))) : '');
  return me;
}
