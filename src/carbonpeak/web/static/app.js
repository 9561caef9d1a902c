// carbonpeak dashboard: shared helpers (no external network; Plotly is served from the package).
// No inline scripts anywhere (Content-Security-Policy script-src 'self'): pages pass their data
// as JSON blocks (<script type="application/json" id="...">), read here with cpData().
document.querySelectorAll('table').forEach((t) => t.setAttribute('role', 'table'));

// The JSON data block with this id, or null.
function cpData(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}

// Draw every chart spec {elementId: {data, layout}} that has an element on the page.
function cpCharts(charts) {
  for (const [id, spec] of Object.entries(charts)) {
    if (document.getElementById(id)) Plotly.newPlot(id, spec.data, spec.layout, {displaylogo: false, responsive: true});
  }
}

const cpChartData = cpData('cp-charts');
if (cpChartData) cpCharts(cpChartData);

// File pickers in the page's language: the browser's own button and "no file chosen" text follow
// its UI language, not the page's; the input is laid transparently over a translated button.
document.querySelectorAll('.file-pick input[type=file]').forEach((inp) => {
  const name = inp.parentElement.querySelector('.file-name');
  inp.addEventListener('change', () => {
    name.textContent = inp.files.length ? Array.from(inp.files).map((f) => f.name).join(', ') : name.dataset.none;
  });
});
