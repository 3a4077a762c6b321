// sitebench: small progressive enhancement. Every page works without this file.
(function () {
  'use strict';

  // Show who is signed in, from GET /me (200 JSON, or 401 when nobody is).
  function showWhoami() {
    var el = document.getElementById('whoami');
    if (!el || !window.fetch) return;
    fetch('/me', { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (res.status === 401) return null;
        if (!res.ok) throw new Error('GET /me: ' + res.status);
        return res.json();
      })
      .then(function (me) {
        el.textContent = '';
        if (me && typeof me.username === 'string') {
          el.appendChild(document.createTextNode('Signed in as '));
          var b = document.createElement('strong');
          b.textContent = me.username;
          el.appendChild(b);
          if (me.admin) el.appendChild(document.createTextNode(' (admin)'));
          el.appendChild(document.createTextNode('.'));
          el.className = 'status-line signed-in';
        } else {
          el.textContent = 'Not signed in (GET /me answers 401).';
          el.className = 'status-line';
        }
        el.hidden = false;
      })
      .catch(function () { /* offline or opened from a file: leave the page as it is */ });
  }

  // Show which backend served the page, from the Server header of HEAD /healthz.
  function showServer() {
    var el = document.getElementById('served-by');
    if (!el || !window.fetch) return;
    fetch('/healthz', { method: 'HEAD', cache: 'no-store' })
      .then(function (res) {
        var server = res.headers.get('Server');
        if (res.ok && server && /^sitebench-/.test(server)) el.textContent = 'This page was served by ' + server + '.';
      })
      .catch(function () {});
  }

  // The status form: the code is part of the path (/status/{code}), which a plain
  // GET form cannot build, so navigate by hand. Without JS the form stays hidden
  // and the links above it are used instead.
  function enableStatusForm() {
    var form = document.getElementById('status-form');
    var input = document.getElementById('status-code');
    if (!form || !input) return;
    form.hidden = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var code = input.value.trim();
      if (!/^[0-9]{3}$/.test(code)) {
        input.setCustomValidity('Type exactly three digits, e.g. 418.');
        input.reportValidity();
        return;
      }
      window.location.assign('/status/' + encodeURIComponent(code));
    });
    input.addEventListener('input', function () { input.setCustomValidity(''); });
  }

  function init() {
    enableStatusForm();
    showWhoami();
    showServer();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
