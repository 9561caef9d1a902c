// Lever page: sliders → POST /api/projections/levers → headline, P(peak ≤ 2030) ± error, fan chart.
// No inline script or handlers (the dashboard's Content-Security-Policy forbids them).
(function () {
  const root = document.getElementById('levers');
  if (!root) return;
  const form = document.getElementById('lever-form');
  const headline = document.getElementById('lever-headline');
  const pEl = document.getElementById('lever-p');
  const ciEl = document.getElementById('lever-p-ci');
  let timer = null;
  let seq = 0;

  function settings() {
    const out = {};
    form.querySelectorAll('input[type=range]').forEach((el) => {
      const v = parseFloat(el.value);
      if (Math.abs(v - parseFloat(el.dataset.default)) > 1e-12) out[el.name] = v;
    });
    return out;
  }

  function pct(x) { return (100 * x).toFixed(1) + ' %'; }

  function draw(r) {
    // the sentence in the page's language (data-headline), the API's English one as the fallback
    const tpl = root.dataset.headline;
    const yq = r.peak_year_quantiles, cq = r.peak_co2_quantiles_t;
    if (tpl && yq && cq && yq.p50 != null && cq.p50 != null) {
      headline.textContent = tpl.replace('{year}', Math.round(yq.p50)).replace('{lo}', Math.round(yq.p05))
        .replace('{hi}', Math.round(yq.p95))
        .replace('{peak}', Math.round(cq.p50 / 1e4).toLocaleString('en'))
        .replace('{p}', pct(r.p_peak_before_2030)).replace('{draws}', r.draws);
    } else {
      headline.textContent = r.headline;
    }
    pEl.textContent = pct(r.p_peak_before_2030);
    ciEl.textContent = '± ' + pct(r.p_peak_before_2030_se) + ' (95 %: ' + pct(r.p_peak_before_2030_interval[0]) +
      '–' + pct(r.p_peak_before_2030_interval[1]) + ')';
    const ys = r.fan.map((f) => f.year);
    const mt = (k) => r.fan.map((f) => Math.round(f[k] / 1e4));
    const obs = r.last_observed_year;
    const data = [
      {x: ys, y: mt('p95'), mode: 'lines', line: {width: 0}, showlegend: false, hoverinfo: 'skip'},
      {x: ys, y: mt('p05'), mode: 'lines', fill: 'tonexty', line: {width: 0}, name: root.dataset.band || '5–95 %'},
      {x: ys, y: mt('p50'), mode: 'lines', name: root.dataset.median || 'median'},
    ];
    // unit on the axis, thousands separators; zero is not on this axis, and the chart says so
    const layout = {title: {text: root.dataset.fanTitle}, margin: {t: 40, r: 10, b: 60, l: 70},
      yaxis: {title: {text: root.dataset.unit || ''}, tickformat: ',~g'},
      xaxis: {tickformat: 'd'}, legend: {orientation: 'h', y: -0.15},
      // the note sits above the plot's right corner: below it, it ran into the legend
      annotations: [{text: root.dataset.notZero || '', xref: 'paper', yref: 'paper', x: 1, y: 1,
        xanchor: 'right', yanchor: 'bottom', showarrow: false, font: {size: 10, color: '#57606a'}}],
      shapes: [{type: 'rect', xref: 'x', yref: 'paper', x0: ys[0], x1: obs, y0: 0, y1: 1,
        fillcolor: '#888', opacity: 0.12, line: {width: 0}}]};
    if (window.Plotly) Plotly.react('chart-levers', data, layout, {displaylogo: false, responsive: true});
  }

  async function run() {
    const my = ++seq;
    headline.textContent = root.dataset.running;
    const resp = await fetch('/api/projections/levers', {
      method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({scenario: root.dataset.scenario, settings: settings(), draws: 300, seed: 0}),
    });
    const r = await resp.json();
    if (my !== seq) return;  // a newer request is on its way
    if (!resp.ok) { headline.textContent = r.message || JSON.stringify(r); return; }
    draw(r);
  }

  form.addEventListener('input', (ev) => {
    const el = ev.target;
    if (el && el.name) document.getElementById('out-' + el.name).textContent = el.value;
    clearTimeout(timer);
    timer = setTimeout(run, 250);
  });
  document.getElementById('lever-reset').addEventListener('click', () => {
    form.querySelectorAll('input[type=range]').forEach((el) => {
      el.value = el.dataset.default;
      document.getElementById('out-' + el.name).textContent = el.value;
    });
    run();
  });
  run();
})();
