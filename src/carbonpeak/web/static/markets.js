// Enterprise surrender (issue 11 §6): posts to /api/markets/surrender; scope comes from the session.
const MK_MSG = cpData('cp-msgs');
document.getElementById('surrender-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target), res = document.getElementById('surrender-result');
  const body = {year: Number(f.get('year')), unit_type: f.get('unit_type'), vintage: Number(f.get('vintage')),
                quantity: Number(f.get('quantity'))};
  if (f.get('enterprise_id')) body.enterprise_id = f.get('enterprise_id');
  const r = await fetch('/api/markets/surrender', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                                   body: JSON.stringify(body)});
  const j = await r.json(); res.hidden = false;
  if (r.status === 201) {
    res.className = 'ok';
    res.textContent = MK_MSG.done.replace('{n}', j.surrendered).replace('{unit}', j.unit_type);
    setTimeout(() => window.location.reload(), 800);
  } else {
    res.className = 'error';
    res.textContent = MK_MSG.refused + ' ' + (j.message || j.detail || r.statusText);
  }
});
