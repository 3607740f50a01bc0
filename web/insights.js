// Delivery insights: the four figures per project and environment over 7, 30 or 90 days, with small
// SVG charts drawn from the API's daily series.
import * as api from './api.js';
import { h } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
let days = 30;

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

// Bars of one daily value; `title` says what they are for screen readers.
function bars(daily, value, title, cls) {
  const w = 240, hgt = 48;
  const max = Math.max(1, ...daily.map(value).map((v) => v || 0));
  const chart = svg('svg', { viewBox: `0 0 ${w} ${hgt}`, preserveAspectRatio: 'none', role: 'img', class: `chart ${cls}` });
  const t = svg('title', {});
  t.textContent = title;
  chart.append(t);
  chart.append(svg('line', { x1: 0, y1: hgt - 0.5, x2: w, y2: hgt - 0.5, class: 'axis' }));
  const bw = w / daily.length;
  daily.forEach((d, i) => {
    const v = value(d) || 0;
    const bh = (v / max) * (hgt - 2);
    const r = svg('rect', { x: (i * bw).toFixed(2), y: (hgt - bh).toFixed(2), width: Math.max(1, bw - 1).toFixed(2), height: bh.toFixed(2) });
    const tip = svg('title', {});
    tip.textContent = `${d.day}: ${v}`;
    r.append(tip);
    chart.append(r);
  });
  return chart;
}

function duration(s) {
  if (s === null || s === undefined) return '–';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

function figure(label, value, chart, first, last) {
  return h('div', { class: 'figure' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value),
           chart ? [chart, h('div', { class: 'span muted' }, h('span', {}, first), h('span', {}, last))] : '');
}

export async function renderInsights(view) {
  const data = await api.get(`/api/v1/insights?days=${days}`);
  const choose = h('div', { class: 'buttons', role: 'group', 'aria-label': 'Period' }, [7, 30, 90].map((n) =>
    h('button', { type: 'button', 'aria-pressed': String(n === days), onclick: () => { days = n; renderInsights(view); } },
      `${n} days`)));
  view.replaceChildren(h('h1', {}, 'Insights'), choose,
    ...data.environments.map((e) => {
      const cfr = e.change_failure_rate;
      const first = e.daily.length ? e.daily[0].day : '', last = e.daily.length ? e.daily[e.daily.length - 1].day : '';
      return h('section', { class: 'insight', 'data-env': `${e.project}/${e.environment}` },
        h('h2', {}, `${e.project} / ${e.environment}`),
        h('div', { class: 'figures' },
          figure('Deployment frequency', `${e.deployment_frequency.deployments} (${e.deployment_frequency.per_day.toFixed(2)}/day)`,
                 bars(e.daily, (d) => d.deployments, 'deployments per day', 'deploys'), first, last),
          figure('Lead time (median)', duration(e.lead_time.median_s),
                 bars(e.daily, (d) => d.lead_time_median_s, 'median lead time per day, seconds', 'lead'), first, last),
          figure('Change failure rate', cfr.rate === null ? '–' : `${Math.round(cfr.rate * 100)} % (${cfr.failures}/${cfr.deployments})`,
                 bars(e.daily, (d) => d.failures, 'failed deployments per day', 'failures'), first, last),
          figure('Time to restore (median)', duration(e.time_to_restore.median_s))));
    }));
}
