// Login form: POST /api/auth/login (JSON); the service sets the session cookie.
document.getElementById('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const r = await fetch('/api/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({username: f.get('username'), password: f.get('password')})});
  if (r.ok) { window.location = '/'; } else { document.getElementById('login-error').hidden = false; }
});
