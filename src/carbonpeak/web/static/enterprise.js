// Enterprise self-service: upload a readings/output file, show row-level errors.
const MSG = cpData('cp-msgs');
document.getElementById('upload-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const res = document.getElementById('upload-result'), tbl = document.getElementById('upload-errors');
  const body = tbl.querySelector('tbody'); body.innerHTML = ''; tbl.hidden = true;
  const r = await fetch('/api/submissions', {method: 'POST', body: new FormData(e.target)});
  const j = await r.json(); res.hidden = false;
  if (r.status === 201) {
    res.className = 'ok';
    res.textContent = j.created ? MSG.ok.replace('{version}', j.version).replace('{rows}', j.rows ?? '') : MSG.same;
    setTimeout(() => window.location.reload(), 800);
  } else if (r.status === 422 && j.problems) {
    res.className = 'error'; res.textContent = MSG.errors; tbl.hidden = false;
    for (const p of j.problems) { const tr = document.createElement('tr');
      for (const v of [p.row ?? '', p.field ?? '', p.message]) { const td = document.createElement('td'); td.textContent = v; tr.appendChild(td); }
      body.appendChild(tr); }
  } else { res.className = 'error'; res.textContent = j.message || j.detail || r.statusText; }
});
