/*! Trickle widget: progressive-profiling forms. Plain JS, no dependencies. Docs: docs/widget.md */
((w, d) => {
  'use strict';
  const me = d.currentScript; // only set while this copy is being evaluated
  const prev = w.Trickle;
  const catching = (fn) => { try { fn(); } catch (e) { /* never throw into the host page */ } };
  // Double-load guard: a second copy hands its script tag to the running one and stops.
  if (prev && prev.version) return catching(() => prev('load', me));
  if (!w.fetch || !Element.prototype.attachShadow) return;

  const STAGES = ['early', 'mid', 'late'];
  const RETRY_MS = [500, 1500, 4000];
  const MAXLEN = {text: 255, textarea: 5000, phone: 32, url: 2000}; // as app/domain/answers.py
  const MSG = {
    required: 'This question is required.',
    consent: 'Consent is required.',
    email: 'Enter a valid email address.',
    phone: 'Enter a valid phone number.',
    url: 'Enter a valid http(s) URL.',
    number: 'Enter a number.',
    big: 'Enter a number between -1000000000000000 and 1000000000000000.',
    send: 'Could not send your answers. Please try again.',
    down: 'This form is unavailable right now.'
  };
  const TYPES = {email: 'email', phone: 'tel', url: 'url'};

  // Only !important shadow rules beat the page's rules on the host (even `* {all: unset
  // !important}`); its selectors never reach inside the shadow root.
  const CSS = `:host{all:initial!important;display:block!important}
*{box-sizing:border-box}[hidden]{display:none!important}
.c{--a:var(--trickle-accent,#3b5bdb);--e:var(--trickle-error,#c92a2a);--r:var(--trickle-radius,10px);
--bg:var(--trickle-bg,#fff);--b:rgba(120,128,145,.4);color:var(--trickle-text,#1f2430);background:var(--bg);
font:15px/1.5 var(--trickle-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);
border:1px solid rgba(120,128,145,.25);border-radius:var(--r);padding:clamp(18px,6%,28px);
box-shadow:0 1px 2px rgba(16,24,40,.05),0 12px 32px -12px rgba(16,24,40,.2);overflow-wrap:break-word}
.c.quiet{border:0;box-shadow:none;background:none;padding:0;font-size:14px;opacity:.7}
form,p{margin:0}h2{margin:0 0 4px;font-size:20px;line-height:1.3;letter-spacing:-.01em}
.i{margin-bottom:20px;opacity:.75}.q{margin-bottom:18px}
.l{display:flex;align-items:baseline;gap:4px;margin-bottom:7px;font-size:14px;font-weight:600}
.f,.s{font:inherit;border-radius:calc(var(--r)*.7);transition:.15s}
.f{display:block;width:100%;color:inherit;background:var(--bg);border:1px solid var(--b);padding:10px 12px}
.f:focus{outline:0;border-color:var(--a);box-shadow:0 0 0 3px color-mix(in srgb,var(--a) 22%,transparent)}
.o{display:flex;flex-wrap:wrap;gap:8px}
.p{display:flex;align-items:center;gap:8px;padding:7px 14px 7px 11px;border:1px solid var(--b);border-radius:99px;font-size:14px;cursor:pointer}
.p:hover,.p:has(:checked){border-color:var(--a)}.p:has(:checked){background:color-mix(in srgb,var(--a) 9%,var(--bg))}
[type=radio],[type=checkbox]{width:16px;height:16px;margin:0;flex:none;accent-color:var(--a)}
.x{display:flex;gap:10px;font-weight:400;cursor:pointer}.x input{margin-top:2px}.x+.r{align-self:start}
.h,.e{margin-top:6px;font-size:13px}.h{opacity:.7}.e,.r,.err{color:var(--e)}.bad .f,.bad .p{border-color:var(--e)}
.k{margin-left:auto;padding:0 0 0 12px;border:0;background:none;font:inherit;font-size:13px;font-weight:400;color:inherit;opacity:.65;cursor:pointer;text-decoration:underline}
.s{margin-top:4px;padding:11px 22px;border:0;font-weight:600;color:#fff;background:var(--a);cursor:pointer}
.s:hover{filter:brightness(1.1)}.s:disabled{opacity:.6;cursor:progress}
:focus-visible{outline:2px solid var(--a);outline-offset:2px}.f:focus-visible,.st:focus{outline:0}
.hp{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.st:empty{display:none}.err{margin-top:14px;font-size:14px}
.ok{display:flex;gap:12px;align-items:center;font-size:16px;font-weight:500;animation:tk .35s}
.ok:before{content:"\\2713";flex:none;display:grid;place-items:center;width:32px;height:32px;border-radius:50%;background:var(--a);color:#fff}
@keyframes tk{from{opacity:0;transform:translateY(4px)}}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}`;

  const configs = [], widgets = [], viewed = {}, gates = {}, memory = {};
  let queue = [], booted = false, uid = 0, link;

  const noop = () => {};
  const safe = (fn) => (e) => catching(() => fn(e));
  const all = (selector) => [...d.querySelectorAll(selector)];

  // ---- config: read once from each script tag ----

  function addScript(s) {
    const data = (n) => s.getAttribute('data-' + n) || '';
    if (!data('site') || configs.some((c) => c.script == s)) return;
    configs.push({script: s, site: data('site'), form: data('form'), stage: data('stage'),
      email: data('email'), hash: data('identity-hash'),
      api: (data('api') || new URL(s.src, location.href).origin).replace(/\/+$/, '')});
  }

  function load(s) {
    if (s) addScript(s);
    else all('script[data-site]').forEach((t) => /(widget|trickle)[\w.-]*\.js/.test(t.src) && addScript(t));
    if (d.readyState == 'loading') d.addEventListener('DOMContentLoaded', safe(boot));
    else boot();
  }

  const mounts = () => all('[data-trickle-form]');
  const formOf = (el) => el.getAttribute('data-trickle-form');

  // Mounts every form not mounted yet, sends each site's page_view once, then runs the calls
  // queued before load. Runs again for each further copy of the script.
  function boot() {
    const fresh = configs.filter((c) => !viewed[c.site] && (viewed[c.site] = 1));
    booted = true;
    fresh.forEach(prove);
    queue = queue.filter((args) => args[0] != 'identify' || Trickle(...args)); // first: the asks wait for it
    for (const c of configs) {
      if (!c.form || mounts().some((el) => formOf(el) == c.form)) continue;
      const div = d.createElement('div'), s = c.script;
      div.setAttribute('data-trickle-form', c.form);
      if (s.parentNode && s.parentNode != d.head) s.after(div);
      else d.body.append(div);
    }
    for (const el of mounts()) {
      const form = formOf(el), c = configs.find((c) => c.form == form) || configs[0];
      if (c && form && !el.querySelector('trickle-form')) mount(el, c, form);
    }
    for (const c of fresh) track('page_view', {site: c.site, stage: c.stage});
    queue.splice(0).forEach((args) => Trickle(...args));
  }

  function stored(k) {
    try { return memory[k] || localStorage.getItem(k); } catch (e) { return memory[k]; }
  }

  function store(k, value) {
    memory[k] = value; // storage may throw (blocked, sandboxed): memory still has it
    catching(() => localStorage.setItem(k, value));
  }

  const visitor = (site) => stored('trickle:visitor:' + site);

  async function post(c, path, body, keepalive) {
    const r = await fetch(c.api + '/api/v1/sites/' + encodeURIComponent(c.site) + path, {
      method: 'POST', mode: 'cors', credentials: 'omit', keepalive: !!keepalive,
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
    const json = (await r.json().catch(noop)) || {};
    if (json.visitor) store('trickle:visitor:' + c.site, json.visitor);
    return {status: r.status, body: json};
  }

  // Without a visitor token yet, a site's requests wait for the first one, so that all of them
  // land on the one visitor it creates.
  function request(c, path, body, keepalive) {
    const run = () => {
      const v = visitor(c.site);
      if (v) body.visitor = v;
      const p = post(c, path, body, keepalive);
      if (!v) gates[c.site] = p.then(noop, noop);
      return p;
    };
    return gates[c.site] ? gates[c.site].then(run) : run();
  }

  function target(o) {
    const c = configs.find((c) => !o.site || c.site == o.site) || configs[0];
    return c && {site: o.site || c.site, api: c.api};
  }

  // The site's next requests wait for it, so the asks see the proven profile; failures only warn.
  function identify(c, body, done = noop) {
    if (!c) return done({verified: false});
    gates[c.site] = request(c, '/identify', body).then((r) => {
      if (r.status != 200) throw r;
      if (body.hash) store('trickle:identified:' + c.site, body.hash);
      if (r.body.verified) for (const W of widgets) W.c.site == c.site && W.formEl && !W.busy && ask(W).then((res) => show(W, res)).catch(noop);
      done({verified: !!r.body.verified});
    }).catch((e) => {
      console.warn('Trickle: identify failed', e.status || e);
      done({verified: false});
    });
  }

  // On load: a signed link, and the tag's identity hash unless already answered.
  function prove(c) {
    if (link) identify(c, {link});
    if (c.hash && c.hash != stored('trickle:identified:' + c.site)) identify(c, {email: c.email, hash: c.hash});
  }

  function track(kind, o) {
    o = o || {};
    const c = target(o);
    if (!c || !/^[a-z][a-z\d_]{0,63}$/.test(kind || '')) return; // the server's rule for kinds
    const body = {kind, url: String(o.url || location.href).slice(0, 2000)};
    if (STAGES.includes(o.stage)) body.stage = o.stage;
    if (o.content != null) body.content = String(o.content).slice(0, 500);
    if (o.id != null) body.id = String(o.id);
    request(c, '/events', body, true).catch(noop);
  }

  // Consents this browser gave: true once the server withdrew them, false if unsent or refused.
  function withdraw(fields, o) {
    o = o || {};
    const c = target(o), done = o.done || noop;
    if (!c || !Array.isArray(fields) || !fields.length) return done(false);
    request(c, '/consents/withdraw', {fields: fields.map(String)})
      .then((r) => done(r.status == 200), () => done(false));
  }

  // ---- DOM: server strings only ever go through textContent or setAttribute ----

  function attr(el, name, value) {
    if (value == null || value === false) el.removeAttribute(name);
    else el.setAttribute(name, value === true ? '' : value);
  }

  function h(tag, props, kids = []) {
    const el = d.createElement(tag);
    for (const k in props) k == 'text' ? el.textContent = props[k] : attr(el, k, props[k]);
    for (const kid of kids) if (kid) el.append(kid);
    return el;
  }

  function emit(W, name, detail) {
    detail.form = W.form;
    W.el.dispatchEvent(new CustomEvent('trickle:' + name, {bubbles: true, composed: true, detail}));
  }

  function mount(el, c, form) {
    const host = d.createElement('trickle-form'), root = host.attachShadow({mode: 'open'});
    const W = {el, c, form, id: 'tk' + ++uid + '-', fields: [],
      stage: el.getAttribute('data-stage') || c.stage,
      card: h('div', {hidden: true}),
      status: h('p', {role: 'status', 'aria-live': 'polite'})};
    widgets.push(W);
    root.append(h('style', {text: CSS}), W.card);
    W.card.append(W.status);
    el.replaceChildren(host);
    ask(W).then((res) => show(W, res), () => say(W, MSG.down, 'st', 'c quiet')).catch(noop);
  }

  async function ask(W) {
    const page = {url: location.href.slice(0, 2000)};
    if (STAGES.includes(W.stage)) page.stage = W.stage;
    const r = await request(W.c, '/forms/' + encodeURIComponent(W.form) + '/ask', {page});
    if (r.status != 200) throw r;
    return r.body;
  }

  // The status line is the aria-live region: thank-you, complete message, errors.
  function say(W, text, cls, cardCls = 'c') {
    W.status.textContent = text;
    W.status.className = cls;
    W.card.className = cardCls;
    W.card.hidden = !W.formEl && !text;
  }

  function setForm(W, formEl) {
    W.formEl?.remove();
    if (formEl) W.status.before(formEl);
    W.formEl = formEl;
  }

  function show(W, res) {
    const f = res.form || {}, questions = res.questions || [];
    W.token = res.ask_token;
    W.fields = [];
    setForm(W, !res.complete && questions.length ? build(W, f, questions) : null);
    say(W, W.formEl ? '' : f.complete_message || '', 'st ok');
    if (!W.ready) emit(W, 'ready', {complete: !!res.complete});
    if (res.complete) emit(W, 'complete', {});
    W.ready = true;
  }

  function build(W, f, questions) {
    const id = W.id;
    const form = h('form', {novalidate: true, 'aria-labelledby': f.title && id + 't'});
    if (f.title) form.append(h('h2', {id: id + 't', text: f.title}));
    if (f.intro) form.append(h('p', {class: 'i', text: f.intro}));
    questions.forEach((q, i) => form.append(field(W, q, id + i)));
    // Honeypot: hidden from people and screen readers; a filled one stores nothing.
    W.hp = h('input', {name: 'hp', id: id + 'hp', tabindex: -1, autocomplete: 'off'});
    form.append(h('div', {class: 'hp', 'aria-hidden': 'true'}, [h('label', {for: id + 'hp', text: 'Leave empty'}), W.hp]));
    form.append(W.btn = h('button', {class: 's', text: f.submit_label || 'Submit'}));
    form.addEventListener('submit', safe((e) => { e.preventDefault(); submit(W); }));
    return form;
  }

  function field(W, q, id) {
    const {kind, label: text, placeholder} = q, req = !!q.required;
    const f = {q, inputs: [], err: h('p', {class: 'e', id: id + 'e'}),
      help: q.help && h('p', {class: 'h', id: id + 'h', text: q.help})};
    const mark = req && h('span', {class: 'r', 'aria-hidden': 'true', text: '*'});
    let opts = q.options || [], label, control, input;
    if (kind == 'boolean') opts = [{value: 'true', label: 'Yes'}, {value: 'false', label: 'No'}];
    if (kind == 'multiselect' || kind == 'boolean' || kind == 'select' && opts.length < 6) {
      const type = kind == 'multiselect' ? 'checkbox' : 'radio', radio = type == 'radio';
      label = h('span', {id: id + 'l', text});
      control = h('div', {class: 'o', role: radio ? 'radiogroup' : 'group', 'aria-labelledby': id + 'l',
        'aria-required': req && radio && 'true'});
      opts.forEach((o, j) => {
        input = h('input', {type, name: id, id: id + '-' + j, value: o.value, required: req && radio});
        control.append(h('label', {class: 'p', for: id + '-' + j}, [input, h('span', {text: o.label})]));
        f.inputs.push(input);
      });
    } else if (kind == 'consent') {
      input = h('input', {type: 'checkbox', id, required: req, 'aria-required': req && 'true'});
      label = h('label', {class: 'x', for: id}, [input, h('span', {text})]);
      f.inputs.push(input);
    } else {
      label = h('label', {for: id, text});
      control = kind == 'select' ? h('select', {}, [h('option', {value: '', text: placeholder || 'Choose\u2026'})])
        : kind == 'textarea' ? h('textarea', {rows: 3, placeholder})
        : h('input', {type: TYPES[kind] || 'text', inputmode: kind == 'number' && 'decimal', placeholder,
          autocomplete: kind == 'email' ? 'email' : kind == 'phone' && 'tel'});
      for (const o of opts) control.append(h('option', {value: o.value, text: o.label}));
      for (const [k, v] of [['id', id], ['class', 'f'], ['required', req], ['aria-required', req && 'true']]) attr(control, k, v);
      f.inputs.push(control);
    }
    const head = h('div', {class: 'l'}, [label, mark]); // the mark outside: labels stay exact
    if (!req) {
      const skipButton = h('button', {type: 'button', class: 'k', text: 'Skip', 'aria-label': 'Skip ' + text});
      skipButton.addEventListener('click', safe(() => skip(W, f)));
      head.append(skipButton);
    }
    f.wrap = h('div', {class: 'q'}, [head, control, f.help, f.err]);
    f.wrap.addEventListener('input', safe(() => f.bad && setError(f, '')));
    setError(f, '');
    W.fields.push(f);
    return f.wrap;
  }

  function valueOf(f) {
    const kind = f.q.kind, input = f.inputs[0];
    const on = f.inputs.filter((i) => i.checked).map((i) => i.value);
    if (kind == 'multiselect') return on;
    if (kind == 'consent') return on.length ? true : null;
    if (input.type == 'radio') return on.length ? (kind == 'boolean' ? on[0] == 'true' : on[0]) : null;
    return input.value.trim();
  }

  const blank = (v) => v == null || v.length === 0;

  function check(q, v) {
    const kind = q.kind, max = q.max_length || MAXLEN[kind], digits = String(v).replace(/\D/g, '').length;
    if (blank(v)) return q.required ? MSG[kind == 'consent' ? 'consent' : 'required'] : '';
    if (kind == 'email') {
      const ok = /^[^@\s]+@([a-z\d]([a-z\d-]{0,61}[a-z\d])?\.)+[a-z]{2,63}$/i.test(v);
      return ok && v.length <= (max || 254) ? '' : MSG.email;
    }
    if (kind == 'phone' && (!/^[\d +()\-./]+$/.test(v) || digits < 6 || digits > 20)) return MSG.phone;
    if (kind == 'url' && !/^https?:\/\/([^/?#\s@]*@)?[^/?#\s@:]\S*$/i.test(v)) return MSG.url;
    if (kind == 'number' && !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v)) return MSG.number;
    if (kind == 'number' && Math.abs(v) > 1e15) return MSG.big;
    if (max && v.length > max) return `Must be at most ${max} characters.`;
    return '';
  }

  function setError(f, message) {
    const ids = [f.help && f.help.id, message && f.err.id].filter(Boolean).join(' ');
    f.bad = !!message;
    f.err.textContent = message;
    f.err.hidden = !message;
    f.wrap.className = message ? 'q bad' : 'q';
    for (const i of f.inputs) {
      attr(i, 'aria-invalid', f.bad && 'true');
      attr(i, 'aria-describedby', ids || null);
    }
  }

  function skip(W, f) {
    const next = W.fields.slice(W.fields.indexOf(f) + 1).find((g) => !g.skipped);
    f.skipped = f.wrap.hidden = true;
    setError(f, '');
    (next ? next.inputs[0] : W.btn).focus();
  }

  function submit(W) {
    const answers = {}, keys = [], skipped = [];
    let bad;
    if (W.busy) return;
    for (const f of W.fields) {
      const key = f.q.key, v = valueOf(f), message = !f.skipped && check(f.q, v);
      if (f.skipped) skipped.push(key);
      else if (message) bad = bad || f;
      else if (!blank(v)) keys.push(key), answers[key] = v;
      setError(f, message || '');
    }
    say(W, '', 'st');
    if (bad) return bad.inputs[0].focus();
    send(W, {ask_token: W.token, answers, skipped, idempotency_key: uuid(), hp: W.hp.value}, {keys, skipped});
  }

  function uuid() {
    try { return crypto.randomUUID(); } catch (e) { // insecure context or older browser
      return (Date.now() + Math.random()).toString(36) + Math.random().toString(36);
    }
  }

  function busy(W, on) {
    W.busy = on;
    if (W.formEl) W.btn.disabled = on, attr(W.formEl, 'aria-busy', on && 'true');
  }

  // Network errors, 5xx and 429 are retried with the same idempotency key: stored at most once.
  function send(W, body, detail) {
    let tries = 0;
    const retry = () => {
      if (tries < RETRY_MS.length) setTimeout(safe(attempt), RETRY_MS[tries++]);
      else failed(W);
    };
    function attempt() {
      body.visitor = visitor(W.c.site);
      post(W.c, '/forms/' + encodeURIComponent(W.form) + '/submit', body).then((r) => {
        const error = r.body.error || {};
        if (r.status > 499 || r.status == 429) return retry();
        busy(W, false);
        if (r.status == 200) done(W, r.body, detail);
        else if (error.code == 'ask_expired' && !W.asked) askAgain(W, body, detail);
        else if (!showServerErrors(W, error.fields || {})) failed(W);
      }, retry).catch(noop);
    }
    busy(W, true);
    attempt();
  }

  function done(W, res, detail) {
    setForm(W, null);
    say(W, res.message || 'Thank you!', 'st ok');
    W.status.tabIndex = -1;
    W.status.focus();
    emit(W, 'submitted', detail);
    if (res.complete) emit(W, 'complete', {});
  }

  function failed(W) {
    busy(W, false);
    say(W, MSG.send, 'st err');
    if (W.formEl) W.btn.focus();
  }

  function showServerErrors(W, fields) {
    const bad = W.fields.filter((f) => fields[f.q.key]);
    for (const f of bad) {
      f.skipped = f.wrap.hidden = false; // e.g. a skipped required consent: let them answer it
      setError(f, String(fields[f.q.key][0]));
    }
    bad[0]?.inputs[0].focus();
    return bad[0];
  }

  const keysOf = (questions) => questions.map((q) => q.key).join();

  // 409 ask_expired (an old tab, a changed form): ask once more; the same questions are sent
  // again with the new token, new ones shown keeping what was typed.
  async function askAgain(W, body, detail) {
    const before = keysOf(W.fields.map((f) => f.q)), old = {};
    for (const f of W.fields) old[f.q.key + f.q.kind] = f.inputs;
    W.asked = true;
    busy(W, true);
    try {
      const res = await ask(W);
      busy(W, false);
      if (!res.complete && keysOf(res.questions || []) == before) {
        body.ask_token = W.token = res.ask_token;
        body.idempotency_key = uuid();
        return send(W, body, detail);
      }
      show(W, res);
      for (const f of W.fields) {
        (old[f.q.key + f.q.kind] || []).forEach((o, i) => {
          const n = f.inputs[i];
          if (n && /radio|checkbox/.test(n.type)) n.checked = o.checked;
          else if (n) n.value = o.value;
        });
      }
      W.fields[0]?.inputs[0].focus();
    } catch (e) {
      catching(() => failed(W));
    }
  }

  function Trickle(command, a, b, c) {
    catching(() => {
      if (command == 'load') load(a);
      else if (!booted) queue.push([command, a, b, c]);
      else if (command == 'track') track(a, b);
      else if (command == 'withdrawConsent') withdraw(a, b);
      else if (command == 'identify') identify(target(c = c || {}), {email: a, hash: b}, c.done);
    });
  }
  Trickle.track = (kind, options) => Trickle('track', kind, options);
  Trickle.withdrawConsent = (fields, options) => new Promise((done) =>
    Trickle('withdrawConsent', fields, Object.assign({}, options, {done})));
  Trickle.identify = (email, hash, options) => new Promise((done) =>
    Trickle('identify', email, hash, Object.assign({}, options, {done})));
  Trickle.version = '1.0.0';

  // A signed link's token leaves the address bar at once: not bookmarked, not shared.
  catching(() => {
    const match = /([?&])trickle=([^&]*)&?/.exec(location.search);
    if (match) link = match[2], history.replaceState(history.state, '', location.pathname + location.search.replace(match[0], match[1]).replace(/[?&]$/, '') + location.hash);
  });
  catching(() => {
    queue = [...(prev && prev.q || [])];
    w.Trickle = Trickle;
    load(me);
  });
})(window, document);
