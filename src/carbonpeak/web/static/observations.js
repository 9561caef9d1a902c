// Observations upload (city officer / province): POST /api/observations, show row-level errors.
(function () {
  const form = document.getElementById('obs-form');
  if (!form) return;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const res = document.getElementById('obs-result'), tbl = document.getElementById('obs-errors');
    const body = tbl.querySelector('tbody'); body.innerHTML = ''; tbl.hidden = true;
    const r = await fetch('/api/observations', {method: 'POST', body: new FormData(form)});
    let j = {};
    try { j = await r.json(); } catch (_) { j = {}; }
    res.hidden = false;
    if (r.status === 201) {
      res.className = 'ok';
      res.textContent = j.created ? form.dataset.stored.replace('{rows}', j.rows) : form.dataset.same;
    } else if (r.status === 422 && j.problems) {
      res.className = 'error'; res.textContent = form.dataset.errors; tbl.hidden = false;
      for (const p of j.problems) { const tr = document.createElement('tr');
        for (const v of [p.row ?? '', p.field ?? '', p.message]) { const td = document.createElement('td'); td.textContent = v; tr.appendChild(td); }
        body.appendChild(tr); }
    } else { res.className = 'error'; res.textContent = j.message || j.detail || r.statusText; }
  });
})();
