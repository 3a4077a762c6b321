// sitebench: progressive enhancement. Every page works without this file; with it, pages
// say who is signed in and which backend served them, curl examples use this page's origin,
// and the HTTP inspector shows the exchange a form or a demo link causes.
(function () {
  'use strict';

  var JSON_TYPES = /^application\/([a-z.+-]*\+)?json\b/;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Show who is signed in, from GET /me (200 JSON, or 401 when nobody is).
  function showWhoami() {
    var line = document.getElementById('whoami');
    if (!line || !window.fetch) return;
    fetch('/me', { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (res.status === 401) return null;
        if (!res.ok) throw new Error('GET /me: ' + res.status);
        return res.json();
      })
      .then(function (me) {
        line.textContent = '';
        if (me && typeof me.username === 'string') {
          line.appendChild(document.createTextNode('Signed in as '));
          line.appendChild(el('strong', {}, me.username));
          if (me.admin) line.appendChild(document.createTextNode(' (admin)'));
          line.appendChild(document.createTextNode('.'));
          line.className = 'status-line signed-in';
        } else {
          line.textContent = 'Not signed in (GET /me answers 401).';
          line.className = 'status-line';
        }
        line.hidden = false;
      })
      .catch(function () { /* offline or opened from a file: leave the page as it is */ });
  }

  // Show which backend served the page, from the Server header of HEAD /healthz.
  function showServer() {
    var span = document.getElementById('served-by');
    if (!span || !window.fetch) return;
    fetch('/healthz', { method: 'HEAD', cache: 'no-store' })
      .then(function (res) {
        var server = res.headers.get('Server');
        if (res.ok && server && /^sitebench-/.test(server)) span.textContent = 'This page was served by ' + server + '.';
      })
      .catch(function () {});
  }

  // curl examples are written for the default address; say the one this page came from.
  function useThisOrigin() {
    if (!/^https?:$/.test(location.protocol)) return;
    Array.prototype.forEach.call(document.querySelectorAll('pre code'), function (code) {
      if (code.textContent.indexOf('http://127.0.0.1:8080') >= 0) {
        code.textContent = code.textContent.split('http://127.0.0.1:8080').join(location.origin);
      }
    });
  }

  // The status form: the code is part of the path (/status/{code}), which a plain GET form
  // cannot build, so navigate by hand. Without JS the form stays hidden and the links above
  // it are used instead.
  function statusPath(input) {
    var code = input.value.trim();
    if (!/^[0-9]{3}$/.test(code)) {
      input.setCustomValidity('Type exactly three digits, e.g. 418.');
      input.reportValidity();
      return null;
    }
    return '/status/' + code;
  }

  function enableStatusForm() {
    var form = document.getElementById('status-form');
    var input = document.getElementById('status-code');
    if (!form || !input) return;
    form.hidden = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var path = statusPath(input);
      if (path) window.location.assign(path);
    });
    input.addEventListener('input', function () { input.setCustomValidity(''); });
  }

  // ---- The HTTP inspector --------------------------------------------------------------

  // What a form or link would send, as {method, url, headers, body}.
  function requestOf(trigger) {
    if (trigger.tagName === 'A') return { method: 'GET', url: new URL(trigger.href), headers: {}, body: null };
    var form = trigger;
    if (form.id === 'status-form') {
      var path = statusPath(document.getElementById('status-code'));
      return path && { method: 'GET', url: new URL(path, location.href), headers: {}, body: null };
    }
    var method = (form.getAttribute('method') || 'get').toUpperCase();
    var url = new URL(form.getAttribute('action') || location.pathname, location.href);
    var fields = new URLSearchParams(new FormData(form)).toString();
    if (method === 'GET') {
      url.search = fields;
      return { method: method, url: url, headers: {}, body: null };
    }
    return { method: method, url: url, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: fields };
  }

  function shellQuote(text) { return "'" + text.replace(/'/g, "'\\''") + "'"; }

  // The same request for the command line. curl does not follow redirects, so it shows the
  // 303 that the browser followed; the cookie jar stands in for the browser's cookies.
  function curlOf(request) {
    var parts = ['curl -i'];
    if (/^\/(login|logout|me|admin)$/.test(request.url.pathname)) parts.push('-b jar -c jar');
    if (request.method !== 'GET' && !(request.method === 'POST' && request.body !== null)) parts.push('-X ' + request.method);
    Object.keys(request.headers).forEach(function (name) {
      parts.push('-H ' + shellQuote(name + ': ' + request.headers[name]));
    });
    if (request.body !== null) parts.push('--data-raw ' + shellQuote(request.body));
    parts.push(shellQuote(request.url.href));
    return parts.join(' ');
  }

  function prettyBody(type, text) {
    if (JSON_TYPES.test(type)) {
      try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON after all */ }
    }
    return text.length > 4000 ? text.slice(0, 4000) + '\n… (' + text.length + ' characters in all)' : text;
  }

  function block(title, text, className) {
    var section = el('div', { class: 'exchange-part' });
    section.appendChild(el('h3', {}, title));
    var pre = el('pre', { class: className || '' });
    pre.appendChild(el('code', {}, text));
    section.appendChild(pre);
    return section;
  }

  var panel = null;
  var sent = 0; // the newest exchange; an older answer arriving late is dropped

  function inspectorPanel(near) {
    if (!panel) {
      panel = el('section', { id: 'inspector', class: 'inspector', 'aria-labelledby': 'inspector-title' });
      var heading = el('h2', { id: 'inspector-title', tabindex: '-1' }, 'HTTP inspector');
      panel.appendChild(heading);
      var choice = el('p', { class: 'hint' });
      var label = el('label', { for: 'inspector-accept', class: 'inline' }, 'Ask for ');
      var select = el('select', { id: 'inspector-accept' });
      select.appendChild(el('option', { value: 'application/json' }, 'JSON (Accept: application/json), as an API client'));
      select.appendChild(el('option', { value: 'text/html' }, 'HTML (Accept: text/html), as the browser navigates'));
      choice.appendChild(label);
      choice.appendChild(select);
      panel.appendChild(choice);
      // Screen readers hear a one-line summary; the exchange itself is read on demand.
      panel.appendChild(el('p', { class: 'summary', 'aria-live': 'polite' }));
      panel.appendChild(el('div', { class: 'exchange' }));
    }
    // Below the form grid or the list the trigger is in, across the whole width.
    var anchor = near.closest('.forms') || near.closest('.table-wrap, ul, form, p') || document.querySelector('main');
    anchor.insertAdjacentElement('afterend', panel);
    return panel;
  }

  function showExchange(trigger) {
    var request = requestOf(trigger);
    if (!request) return;
    var box = inspectorPanel(trigger);
    request.headers.Accept = box.querySelector('#inspector-accept').value;
    var out = box.querySelector('.exchange');
    var summary = box.querySelector('.summary');
    var target = request.method + ' ' + request.url.pathname + request.url.search;
    var number = ++sent;
    summary.textContent = 'Sending ' + target + '…';
    out.textContent = '';
    var started = performance.now();
    fetch(request.url.href, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'follow'
    }).then(function (res) {
      return res.text().then(function (text) { return { res: res, text: text, ms: performance.now() - started }; });
    }).then(function (got) {
      if (number !== sent) return;
      summary.textContent = target + ': ' + got.res.status + (got.res.statusText ? ' ' + got.res.statusText : '') +
        (got.res.redirected ? ' after a redirect' : '') + ', in ' + got.ms.toFixed(1) + ' ms.';
      render(out, request, got.res, got.text, got.ms);
      box.querySelector('h2').focus();
      showWhoami(); // a login or logout just sent may have changed who is signed in
    }).catch(function (error) {
      if (number !== sent) return;
      summary.textContent = 'The request failed before an answer came: ' + error;
    });
  }

  function render(out, request, res, text, ms) {
    out.textContent = '';
    var lines = [request.method + ' ' + request.url.pathname + request.url.search + ' HTTP/1.1', 'Host: ' + request.url.host];
    Object.keys(request.headers).forEach(function (name) { lines.push(name + ': ' + request.headers[name]); });
    lines.push('Cookie: (the browser adds sitebench_session when you have one; it is HttpOnly, so scripts cannot read it)');
    if (request.body !== null) lines.push('', request.body);
    out.appendChild(block('Request', lines.join('\n'), 'request'));

    var after = new URL(res.url);
    if (res.redirected) {
      out.appendChild(el('p', { class: 'redirect' },
        'The server answered with a redirect (a 3xx status), and the browser followed its Location to ' +
        after.pathname + '. Scripts cannot see the redirect itself, its status nor its Set-Cookie header: ' +
        'the curl command below shows them.'));
    }
    var head = ['HTTP/1.1 ' + res.status + (res.statusText ? ' ' + res.statusText : '')];
    res.headers.forEach(function (value, name) { head.push(name + ': ' + value); });
    var title = 'Response' + (res.redirected ? ' to GET ' + after.pathname : '') + ', in ' + ms.toFixed(1) + ' ms';
    var response = block(title, head.join('\n'), 'response status-' + String(res.status).charAt(0) + 'xx');
    response.querySelector('code').setAttribute('data-status', String(res.status));
    out.appendChild(response);
    if (text) out.appendChild(block('Body (' + (res.headers.get('Content-Type') || 'no type') + ')', prettyBody(res.headers.get('Content-Type') || '', text), 'body'));

    var curl = block('The same request with curl', curlOf(request), 'curl');
    var copy = el('button', { type: 'button', class: 'secondary' }, 'Copy the curl command');
    copy.addEventListener('click', function () {
      var command = curl.querySelector('code').textContent;
      var done = function () { copy.textContent = 'Copied'; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(command).then(done, function () { selectText(curl.querySelector('code')); });
      } else {
        selectText(curl.querySelector('code'));
      }
    });
    curl.appendChild(copy);
    out.appendChild(curl);
  }

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // Every form, every link marked data-inspect and every "Try it" link gets an inspect button.
  function enableInspector() {
    if (!window.fetch || !window.URLSearchParams) return;
    Array.prototype.forEach.call(document.querySelectorAll('main form'), function (form) {
      var submit = form.querySelector('button[type=submit], button:not([type])');
      if (!submit) return;
      var button = el('button', { type: 'button', class: 'secondary inspect' }, 'Send and inspect');
      button.addEventListener('click', function () { showExchange(form); });
      submit.insertAdjacentElement('afterend', button);
    });
    Array.prototype.forEach.call(document.querySelectorAll('a[data-inspect], .try a[href^="/"]'), function (link) {
      var url = new URL(link.href);
      var button = el('button', { type: 'button', class: 'secondary inspect small', 'aria-label': 'Inspect GET ' + url.pathname + url.search }, 'inspect');
      button.addEventListener('click', function () { showExchange(link); });
      link.insertAdjacentElement('afterend', button);
    });
  }

  function init() {
    enableStatusForm();
    enableInspector();
    useThisOrigin();
    showWhoami();
    showServer();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
