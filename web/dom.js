// Building the page from data without ever parsing data as HTML: every text goes in as a text node.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// "3 min ago", "in 2 h": short and readable; the exact time is in the element's title.
export function ago(iso) {
  if (!iso) return '';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  const a = Math.abs(s);
  const text = a < 60 ? `${a} s` : a < 3600 ? `${Math.round(a / 60)} min` : a < 86400 ? `${Math.round(a / 3600)} h`
                                                                                      : `${Math.round(a / 86400)} d`;
  return s >= 0 ? `${text} ago` : `in ${text}`;
}

export function time(iso) {
  return h('time', { datetime: iso, title: iso }, ago(iso));
}

export function stateBadge(state) {
  return h('span', { class: `state state-${state}` }, state.replace('_', ' '));
}

export function shortSha(sha) { return sha ? sha.slice(0, 7) : ''; }

// A version that is a whole commit SHA reads better shortened; the full one is in the title.
export function version(v) {
  return /^[0-9a-f]{40}$/.test(v || '') ? h('span', { title: v }, v.slice(0, 12)) : v;
}

// A commit linked to its repository on GitHub (repository "owner/name").
export function commitLink(repository, sha) {
  if (!sha) return '';
  if (!repository || !/^[\w.-]+\/[\w.-]+$/.test(repository)) return h('code', {}, shortSha(sha));
  return h('a', { href: `https://github.com/${repository}/commit/${encodeURIComponent(sha)}`, rel: 'noreferrer' },
           h('code', {}, shortSha(sha)));
}

export function compareLink(repository, from, to) {
  if (!repository || !from || !to || from === to || !/^[\w.-]+\/[\w.-]+$/.test(repository)) return '';
  return h('a', { href: `https://github.com/${repository}/compare/${encodeURIComponent(from)}...${encodeURIComponent(to)}`,
                  rel: 'noreferrer' }, 'what changes');
}
