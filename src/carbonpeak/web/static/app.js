// carbonpeak dashboard: shared helpers (no external network; Plotly is served from the package).
document.querySelectorAll('table').forEach((t) => t.setAttribute('role', 'table'));
