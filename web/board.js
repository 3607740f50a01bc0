// The board: every project and environment, what runs, what waits and why, the last failure.
import * as api from './api.js';
import { h, time, stateBadge, commitLink, version } from './dom.js';

let filter = '';

function environmentCard(project, env) {
  const cur = env.current;
  return h('article', { class: 'env', 'data-env': `${project.name}/${env.name}` },
    h('h3', {}, env.name),
    cur ? h('p', { class: 'current' }, h('strong', {}, version(cur.version)), ' ', commitLink(project.repository, cur.sha),
            ' since ', time(cur.since), ' ', h('a', { href: `/deployments/${cur.deployment}` }, `#${cur.deployment}`))
        : h('p', { class: 'muted' }, 'nothing deployed yet'),
    env.running ? h('p', {}, stateBadge('running'), ' ', h('a', { href: `/deployments/${env.running}` }, `#${env.running}`)) : '',
    env.gate && !env.gate.open ? h('p', { class: 'gate' }, env.gate.reason) : '',
    env.waiting.length ? h('ul', { class: 'waiting' }, env.waiting.map((w) => h('li', {},
      stateBadge(w.state), ' ', h('a', { href: `/deployments/${w.id}` }, version(w.version), ` (#${w.id})`), ' ',
      h('span', { class: 'reason' }, w.reason)))) : '',
    env.last_failure ? h('p', { class: 'failure' }, 'last failure: ',
      h('a', { href: `/deployments/${env.last_failure.deployment}` }, version(env.last_failure.version)), ' ',
      stateBadge(env.last_failure.state), ' ', time(env.last_failure.at)) : '');
}

export async function renderBoard(view) {
  const data = await api.get('/api/v1/projects');
  const input = h('input', { type: 'search', id: 'filter', placeholder: 'Filter projects', value: filter,
                             'aria-label': 'Filter projects' });
  const list = h('div', { class: 'projects' });
  const draw = () => {
    list.replaceChildren(...data.projects.filter((p) => p.name.includes(filter)).map((p) =>
      h('section', { class: 'project' }, h('h2', {}, p.name, ' ', h('span', { class: 'muted' }, p.repository)),
        h('div', { class: 'envs' }, p.environments.map((e) => environmentCard(p, e))))));
  };
  input.addEventListener('input', () => { filter = input.value.trim(); draw(); });
  draw();
  view.replaceChildren(h('h1', {}, 'Board'), input, list);
}
