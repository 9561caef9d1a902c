// Change one's own password: POST /api/auth/password; the answer says why a password is refused.
const PWMSG = cpData('cp-msgs');
document.getElementById('password-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target), out = document.getElementById('password-result');
  out.hidden = false;
  if (f.get('new_password') !== f.get('new_password2')) {
    out.className = 'error'; out.textContent = PWMSG.differ; return;
  }
  const r = await fetch('/api/auth/password', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({old_password: f.get('old_password'), new_password: f.get('new_password')})});
  if (r.ok) { out.className = 'ok'; out.textContent = PWMSG.changed; e.target.reset(); return; }
  const j = await r.json().catch(() => ({}));
  out.className = 'error';
  out.textContent = PWMSG.refused + ' ' + (j.message || j.detail || r.statusText);
});
