// The audit log, newest first, filtered by project, actor, action and time, a page at a time.
import * as api from './api.js';
import { h, time } from './dom.js';

const ACTIONS = ['created', 'transition', 'approve', 'reject', 'cancel', 'override', 'rollback', 'refused', 'skipped',
                 'reload', 'reload_refused', 'scheduled', 'drift', 'self_heal'];
const state = { project: '', actor: '', action: '', since: '', before: [] };

function query() {
  const q = new URLSearchParams({ limit: '50' });
  for (const k of ['project', 'actor', 'action']) if (state[k]) q.set(k, state[k]);
  if (state.since) q.set('since', new Date(state.since).toISOString());
  if (state.before.length) q.set('before', String(state.before[state.before.length - 1]));
  return q.toString();
}

export async function renderAudit(view) {
  const data = await api.get(`/api/v1/audit?${query()}`);
  const field = (key, attrs) => {
    const el = h(attrs.options ? 'select' : 'input', { id: `audit-${key}`, 'aria-label': key, ...attrs.a },
                 attrs.options ? [h('option', { value: '' }, `any ${key}`),
                                  ...attrs.options.map((o) => h('option', { value: o, selected: o === state[key] }, o))] : []);
    if (!attrs.options) el.value = state[key];
    el.addEventListener('change', () => { state[key] = el.value.trim(); state.before = []; renderAudit(view); });
    return el;
  };
  const rows = [...data.entries].reverse();
  const older = data.next_before ? h('button', { type: 'button', onclick: () => {
    state.before.push(data.next_before);
    renderAudit(view);
  } }, 'Older') : '';
  const newer = state.before.length ? h('button', { type: 'button', onclick: () => { state.before.pop(); renderAudit(view); } },
                                        'Newer') : '';
  view.replaceChildren(h('h1', {}, 'Audit'),
    h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() },
      field('project', { a: { type: 'search', placeholder: 'project' } }),
      field('actor', { a: { type: 'search', placeholder: 'actor' } }),
      field('action', { options: ACTIONS }),
      field('since', { a: { type: 'datetime-local' } })),
    h('table', { class: 'audit' },
      h('thead', {}, h('tr', {}, ['when', 'actor', 'action', 'where', 'why'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((e) => h('tr', {},
        h('td', {}, time(e.at)), h('td', {}, e.actor), h('td', {}, e.action),
        h('td', {}, e.project ? `${e.project}/${e.environment || ''}` : '', ' ',
          e.deployment ? h('a', { href: `/deployments/${e.deployment}` }, `#${e.deployment}`) : ''),
        h('td', {}, e.reason))))),
    h('div', { class: 'buttons' }, newer, older));
}
