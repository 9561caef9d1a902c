// carbonpeak dashboard: shared helpers (no external network; Plotly is served from the package).
document.querySelectorAll('table').forEach((t) => t.setAttribute('role', 'table'));

// Draw every chart spec {elementId: {data, layout}} that has an element on the page.
function cpCharts(charts) {
  for (const [id, spec] of Object.entries(charts)) {
    if (document.getElementById(id)) Plotly.newPlot(id, spec.data, spec.layout, {displaylogo: false, responsive: true});
  }
}
