// The reviewer's page: sign-in, the section router (plain paths, so the links in notifications open
// the right view) and live updates from the event stream.
import * as api from './api.js';
import { renderBoard } from './board.js';
import { renderApprovals, renderDeployment } from './deployment.js';
import { renderAudit } from './audit.js';
import { renderInsights } from './insights.js';

const view = document.getElementById('view');
const live = document.getElementById('live');
let me = null;
let events = null;
let rerenderPending = false;

const routes = [
  [/^\/$/, 'board', () => renderBoard(view, me)],
  [/^\/approvals$/, 'approvals', () => renderApprovals(view, me)],
  [/^\/deployments\/(\d+)$/, 'board', (m) => renderDeployment(view, me, Number(m[1]))],
  [/^\/audit$/, 'audit', () => renderAudit(view, me)],
  [/^\/insights$/, 'insights', () => renderInsights(view, me)],
];

async function render() {
  const path = location.pathname;
  for (const [re, nav, fn] of routes) {
    const m = path.match(re);
    if (!m) continue;
    for (const a of document.querySelectorAll('[data-nav]')) a.toggleAttribute('aria-current', a.dataset.nav === nav);
    try {
      await fn(m);
    } catch (e) {
      if (e.status === 401) return showSignIn();
      view.replaceChildren(Object.assign(document.createElement('p'), { className: 'error', textContent: e.message }));
    }
    return;
  }
  view.textContent = 'No such page.';
}

// A form someone is filling in is not thrown away by a live update: the update waits until it is sent.
function busy() {
  return [...view.querySelectorAll('textarea, input[type=text]')].some((el) => el.value.trim() !== '');
}

// Which control has the focus, said so that the same control is found after an update: a text field
// or an action button, inside the card of its deployment if it has one. Anything else is not kept.
function focusPlace() {
  const el = document.activeElement;
  if (!el || !view.contains(el) || !(el.matches('textarea, input') || el.dataset.action)) return null;
  const card = el.closest('[data-deployment]');
  const within = card ? `[data-deployment="${card.dataset.deployment}"] ` : '';
  const action = el.dataset.action ? `[data-action="${el.dataset.action}"]` : '';
  return { selector: within + el.tagName.toLowerCase() + action, value: el.matches('textarea, input') ? el.value : null };
}

// The control that had the focus before an update (or took it while the update was read) has it back
// afterwards, with what was typed in it: a keyboard user's place survives a live update.
function restoreFocus(place) {
  if (!place || view.contains(document.activeElement)) return;
  const el = view.querySelector(place.selector);
  if (!el) return;
  if (place.value !== null) el.value = place.value;
  el.focus();
}

function rerenderSoon() {
  if (rerenderPending) return;
  rerenderPending = true;
  setTimeout(async () => {
    rerenderPending = false;
    if (busy()) return rerenderSoon();
    const before = { place: focusPlace() };
    const watch = () => { before.place = focusPlace(); };
    view.addEventListener('focusin', watch);
    view.addEventListener('input', watch);
    await render();
    view.removeEventListener('focusin', watch);
    view.removeEventListener('input', watch);
    restoreFocus(before.place);
    await updateInbox();
  }, 150);
}

async function updateInbox() {
  const count = document.getElementById('inbox-count');
  try {
    const list = await api.get('/api/v1/deployments?state=pending_approval&limit=100');
    count.textContent = String(list.deployments.length);
    count.hidden = list.deployments.length === 0;
  } catch {
    count.hidden = true;
  }
}

function connectEvents() {
  if (events) events.close();
  // Reconnects by itself and sends Last-Event-ID: nothing is missed across a restart.
  events = new EventSource('/api/v1/events');
  events.onopen = () => { live.textContent = 'live'; live.classList.add('on'); };
  events.onerror = () => {
    live.textContent = 'reconnecting';
    live.classList.remove('on');
    // An ended session would be retried forever (and count as failed sign-ins): ask to sign in again.
    api.session().catch((e) => { if (e.status === 401) showSignIn(); });
  };
  // Every audit action (the event's name; the table in domain/deployment.cpp): the audit view
  // shows them all, the other views re-read what they show.
  const refresh = () => rerenderSoon();
  for (const name of ['created', 'transition', 'approve', 'reject', 'cancel', 'override', 'rollback', 'refused',
                      'skipped', 'reload', 'reload_refused', 'scheduled', 'drift', 'self_heal']) {
    events.addEventListener(name, refresh);
  }
  // Too far behind to catch up: what is shown is read again, and the stream goes on live.
  events.addEventListener('reset', refresh);
  // The session or token no longer holds (signed out elsewhere, expired, rotated): sign in again.
  events.addEventListener('ended', () => {
    events.close();
    api.session().then(() => connectEvents(), () => showSignIn());
  });
}

function showSignIn() {
  me = null;
  if (events) events.close();
  document.getElementById('sign-in').hidden = false;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('who').textContent = '';
  view.replaceChildren();
  document.getElementById('token').focus();
}

async function signedIn(session) {
  me = session;
  document.getElementById('sign-in').hidden = true;
  document.getElementById('sign-out').hidden = false;
  document.getElementById('who').textContent = session.reviewer;
  connectEvents();
  await render();
  await updateInbox();
}

document.getElementById('sign-in-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = document.getElementById('token');
  const error = document.getElementById('sign-in-error');
  error.textContent = '';
  try {
    const s = await api.signIn(input.value);
    input.value = '';
    await signedIn(s);
  } catch (e) {
    error.textContent = e.status === 401 ? 'That token is not valid.' : e.message;
  }
});

document.getElementById('sign-out').addEventListener('click', async () => {
  await api.signOut().catch(() => {});
  showSignIn();
});

// Links inside the page change the view without a reload.
document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a');
  if (!a || a.origin !== location.origin || a.target || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
  ev.preventDefault();
  if (a.pathname + a.search !== location.pathname + location.search) history.pushState(null, '', a.pathname + a.search);
  render();
  document.getElementById('main').focus();
});
window.addEventListener('popstate', render);
window.addEventListener('shipgate:changed', rerenderSoon);

api.session().then(signedIn, showSignIn);
