/*! Trickle widget, docs/widget.md */
// The readable source: /widget.js serves widget/dist/trickle.min.js, built from this file by
// widget/build.mjs (terser); see docs/widget.md "Build and serving".
((window, document) => {
  'use strict';
  const thisScript = document.currentScript; // only set while this copy is being evaluated
  const previous = window.Trickle;
  const catching = (fn) => { try { fn(); } catch { /* never throw into the host page */ } };
  // Double-load guard: a second copy hands its script tag to the running one and stops.
  if (previous && previous.version) return catching(() => previous('load', thisScript));
  if (!window.fetch || !Element.prototype.attachShadow) return;

  const STAGES = ['early', 'mid', 'late'];
  const RETRY_DELAYS_MS = [500, 1500, 4000];
  const MAX_LENGTH = {text: 255, textarea: 5000, phone: 32, url: 2000}; // as app/domain/answers.py
  // The interface text comes with each ask, in the form's language (form.strings); this one
  // is shown when an ask fails with no words of the form's (see unavailable).
  const UNAVAILABLE = 'This form is unavailable right now.';
  const INPUT_TYPES = {email: 'email', phone: 'tel', url: 'url'};

  // Only !important shadow rules beat the page's rules on the host (even `* {all: unset
  // !important}`); its selectors never reach inside the shadow root.
  // A rule's declarations and selectors are in the order that gzips smallest (bench/widget_size.py),
  // a shorthand always before its longhands (padding, then padding-inline-start).
  const STYLE = `:host{all:initial!important;display:block!important}
*{box-sizing:border-box}[hidden]{display:none!important}
.card{box-shadow:0 1px 2px rgba(16,24,40,.05),0 12px 32px -12px rgba(16,24,40,.2);
color:var(--trickle-text,#1f2430);--accent:var(--trickle-accent,#3b5bdb);--on-accent:#fff;
--error:var(--trickle-error,#c92a2a);
font:15px/1.5 var(--trickle-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);
padding:clamp(18px,6%,28px);--radius:var(--trickle-radius,10px);--background:var(--trickle-bg,#fff);
background:var(--background);border:1px solid rgba(120,128,145,.25);border-radius:var(--radius);
overflow-wrap:break-word;--border:rgba(120,128,145,.4)}
.card.quiet{box-shadow:none;border:0;background:none;opacity:.7;font-size:14px;padding:0}
p,form{margin:0}h2{font-size:20px;letter-spacing:-.01em;margin:0 0 4px;line-height:1.3}
.intro{margin-bottom:20px;opacity:.75}.question{margin-bottom:18px}
.question-head{font-weight:600;display:flex;gap:4px;font-size:14px;align-items:baseline;margin-bottom:7px}
.control,.submit{transition:.15s;border-radius:calc(var(--radius)*.7);font:inherit}
.control{font-size:max(16px,1em);background:var(--background);border:1px solid var(--border);padding:10px 12px;width:100%;display:block;color:inherit}
.control:focus{box-shadow:0 0 0 3px color-mix(in srgb,var(--accent) 22%,transparent);border-color:var(--accent);outline:0}
.choices{flex-wrap:wrap;display:flex;gap:8px}
.choice{border:1px solid var(--border);padding:7px 14px;font-size:14px;align-items:center;border-radius:99px;padding-inline-start:11px;cursor:pointer;display:flex;gap:8px}
.choice:has(:checked),.choice:hover{border-color:var(--accent)}.choice:has(:checked){background:color-mix(in srgb,var(--accent) 9%,var(--background))}
[type=radio],[type=checkbox]{flex:none;height:16px;margin:0;width:16px;accent-color:var(--accent)}
.consent-label{cursor:pointer;font-weight:400;display:flex;gap:10px}.consent-label input{margin-top:2px}.consent-label+.required-mark{align-self:start}
.field-error,.help{margin-top:6px;font-size:13px}.help{opacity:.7}.field-error,.failed,.required-mark{color:var(--error)}.invalid .control,.invalid .choice{border-color:var(--error)}
.skip-button{text-decoration:underline;min-height:44px;margin:-4px 0 -12px;cursor:pointer;border:0;background:none;opacity:.65;font:inherit;font-size:13px;min-width:44px;padding:0 4px;margin-inline-start:auto;display:block;color:inherit}
.submit{font-weight:600;margin-top:4px;padding:11px 22px;cursor:pointer;border:0;background:var(--accent);color:var(--trickle-button-text,var(--on-accent))}
@supports (color:lch(from red l c h)){.card{--on-accent:lch(from var(--accent) clamp(0,(49.44 - l)*1000,100) 0 0)}}
.submit:hover{filter:brightness(1.1)}.submit:disabled{opacity:.6;cursor:progress}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}.control:focus-visible,.status-line:focus{outline:0}
.honeypot{clip:rect(0 0 0 0);overflow:hidden;height:1px;width:1px;position:absolute}
.status-line:empty{display:none}.failed{margin-top:14px;font-size:14px}
.next{margin-top:12px}.next a{font-weight:600;color:inherit}
.thanks{font-weight:500;display:flex;gap:12px;font-size:16px;align-items:center;animation:up .35s}
.thanks:before{flex:none;height:32px;width:32px;content:"\\2713";place-items:center;border-radius:50%;display:grid;background:var(--accent);color:var(--trickle-button-text,var(--on-accent))}
@keyframes up{from{opacity:0;transform:translateY(4px)}}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}`;

  const configs = [], widgets = [], pageViewSent = {}, siteGates = {}, memoryStore = {};
  let callQueue = [], booted = false, widgetCount = 0, signedLink;

  const noop = () => {};
  const safe = (fn) => (event) => catching(() => fn(event));
  const listen = (element, type, handler) => element.addEventListener(type, safe(handler));
  const allElements = (selector) => [...document.querySelectorAll(selector)];

  // ---- config: read once from each script tag ----

  const addScript = (script) => {
    const data = (name) => script.getAttribute('data-' + name) || '';
    if (!data('site') || configs.some((config) => config.script == script)) return;
    configs.push({script, siteKey: data('site'), formKey: data('form'), pageStage: data('stage'),
      identityEmail: data('email'), identityHash: data('identity-hash'),
      api: (data('api') || new URL(script.src, location.href).origin).replace(/\/+$/, '')});
  };

  const load = (script) => {
    if (script) addScript(script);
    else allElements('script[data-site]').forEach((tag) => /(widget|trickle)[\w.-]*\.js/.test(tag.src) && addScript(tag));
    if (document.readyState == 'loading') listen(document, 'DOMContentLoaded', boot);
    else boot();
  };

  const mountElements = () => allElements('[data-trickle-form]');
  const formKeyOf = (element) => element.getAttribute('data-trickle-form');

  // Mounts every form not mounted yet, sends each site's page_view once, then runs the calls
  // queued before load. Runs again for each further copy of the script.
  const boot = () => {
    const freshConfigs = configs.filter((config) => !pageViewSent[config.siteKey] && (pageViewSent[config.siteKey] = 1));
    booted = true;
    freshConfigs.forEach(proveIdentity);
    callQueue = callQueue.filter((call) => call[0] != 'identify' || Trickle(...call)); // first: the asks wait for it
    for (const config of configs) {
      if (!config.formKey || mountElements().some((element) => formKeyOf(element) == config.formKey)) continue;
      const mountElement = createElement('div', {'data-trickle-form': config.formKey}), script = config.script;
      if (script.parentNode && script.parentNode != document.head) script.after(mountElement);
      else document.body.append(mountElement);
    }
    for (const mountElement of mountElements()) {
      const formKey = formKeyOf(mountElement);
      const config = configs.find((candidate) => candidate.formKey == formKey) || configs[0];
      if (config && formKey && !mountElement.querySelector('trickle-form')) mount(mountElement, config, formKey);
    }
    // A site's page view names its forms on the page: the dashboard's views per form (at most
    // 50, of keys a form may have: a key no form can have must not cost the page view its 422).
    for (const config of freshConfigs) track('page_view', {site: config.siteKey, stage: config.pageStage},
      widgets.filter((widget) => widget.config.siteKey == config.siteKey && widget.formKey.length < 65)
        .map((widget) => widget.formKey).slice(0, 50));
    callQueue.splice(0).forEach((call) => Trickle(...call));
  };

  const stored = (key) => {
    try { return memoryStore[key] || localStorage.getItem(key); } catch { return memoryStore[key]; }
  };

  const store = (key, value) => {
    memoryStore[key] = value; // storage may throw (blocked, sandboxed): memory still has it
    catching(() => localStorage.setItem(key, value));
  };

  const visitorToken = (site) => stored('trickle:visitor:' + site);

  // A page on an origin the site does not allow reads only the refusal: it says the fix, once.
  let refused;
  const post = async (config, path, body, keepalive) => {
    const response = await fetch(config.api + '/api/v1/sites/' + encodeURIComponent(config.siteKey) + path, {
      method: 'POST', credentials: 'omit', keepalive, // mode: 'cors', fetch's default
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
    const json = (await response.json().catch(noop)) || {};
    if (json.visitor) store('trickle:visitor:' + config.siteKey, json.visitor);
    // An ask's form (its answer's, or its error's language and unavailable text), kept for
    // when the network fails: a failed ask then still speaks the form's language.
    if (json.form) store('trickle:' + config.siteKey + path, JSON.stringify(json.form));
    if (json.error?.code == 'origin_not_allowed' && !refused) refused = console.error('Trickle: ' + json.error.message) || 1;
    return {status: response.status, body: json};
  };

  // Without a visitor token yet, a site's requests wait for the first one, so that all of them
  // land on the one visitor it creates.
  const request = (config, path, body, keepalive) => {
    const run = () => {
      const visitor = visitorToken(config.siteKey);
      if (visitor) body.visitor = visitor;
      const sent = post(config, path, body, keepalive);
      if (!visitor) siteGates[config.siteKey] = sent.then(noop, noop);
      return sent;
    };
    return siteGates[config.siteKey] ? siteGates[config.siteKey].then(run) : run();
  };

  const targetOf = (options) => {
    const config = configs.find((candidate) => !options.site || candidate.siteKey == options.site) || configs[0];
    return config && {siteKey: options.site || config.siteKey, api: config.api};
  };

  // The site's next requests wait for it, so the asks see the proven profile; failures only warn.
  const identify = (config, body, done = noop) => {
    if (!config) return done({verified: false});
    siteGates[config.siteKey] = request(config, '/identify', body).then((response) => {
      if (response.status != 200) throw response;
      if (body.hash) store('trickle:identified:' + config.siteKey, body.hash);
      if (response.body.verified) {
        for (const widget of widgets) {
          if (widget.config.siteKey == config.siteKey && widget.formElement && !widget.busy) {
            ask(widget).then((answer) => show(widget, answer)).catch(noop);
          }
        }
      }
      done({verified: !!response.body.verified});
    }).catch((failure) => {
      console.warn('Trickle: identify failed', failure.status || failure);
      done({verified: false});
    });
  };

  // On load: a signed link, and the tag's identity hash unless already answered.
  const proveIdentity = (config) => {
    if (signedLink) identify(config, {link: signedLink});
    if (config.identityHash && config.identityHash != stored('trickle:identified:' + config.siteKey)) {
      identify(config, {email: config.identityEmail, hash: config.identityHash});
    }
  };

  const track = (kind, options, forms) => {
    options = options || {};
    const target = targetOf(options);
    if (!target || !/^[a-z][a-z\d_]{0,63}$/.test(kind || '')) return; // the server's rule for kinds
    const body = {kind, url: String(options.url || location.href).slice(0, 2000), forms}; // no forms: left out of the JSON
    if (STAGES.includes(options.stage)) body.stage = options.stage;
    if (options.content != null) body.content = String(options.content).slice(0, 500);
    if (options.id != null) body.id = String(options.id);
    request(target, '/events', body, true).catch(noop);
  };

  // Consents this browser gave: true once the server withdrew them, false if unsent or refused.
  const withdrawConsent = (fieldKeys, options) => {
    options = options || {};
    const target = targetOf(options), done = options.done || noop;
    if (!target || !Array.isArray(fieldKeys) || !fieldKeys.length) return done(false);
    request(target, '/consents/withdraw', {fields: fieldKeys.map(String)})
      .then((response) => done(response.status == 200), () => done(false));
  };

  // ---- DOM: server strings only ever go through textContent or setAttribute ----

  const setAttribute = (element, name, value) => {
    if (value == null || value === false) element.removeAttribute(name);
    else element.setAttribute(name, value === true ? '' : value);
  };

  // createElement(tag, {attribute: value, text: textContent}, [children]): a false or null
  // attribute is left out, true gives an empty one, falsy children are skipped.
  const createElement = (tag, properties, children = []) => {
    const element = document.createElement(tag);
    for (const name in properties) {
      if (name == 'text') element.textContent = properties[name];
      else setAttribute(element, name, properties[name]);
    }
    for (const child of children) if (child) element.append(child);
    return element;
  };

  const emit = (widget, name, detail) => {
    detail.form = widget.formKey;
    widget.mountElement.dispatchEvent(new CustomEvent('trickle:' + name, {bubbles: true, composed: true, detail}));
  };

  // A widget: one form in one mount element, inside its own shadow root.
  const mount = (mountElement, config, formKey) => {
    const host = createElement('trickle-form'), shadowRoot = host.attachShadow({mode: 'open'});
    const widget = {mountElement, config, formKey, idPrefix: 'tk' + ++widgetCount + '-', shownFields: [], texts: {},
      pageStage: mountElement.getAttribute('data-stage') || config.pageStage,
      card: createElement('div', {hidden: true}),
      statusLine: createElement('p', {role: 'status', 'aria-live': 'polite'})};
    widgets.push(widget);
    shadowRoot.append(createElement('style', {text: STYLE}), widget.card);
    widget.card.append(widget.statusLine);
    mountElement.replaceChildren(host);
    ask(widget).then((answer) => show(widget, answer), () => unavailable(widget)).catch(noop);
  };

  const speak = (widget, form) => {
    widget.card.lang = widget.locale = form.language || '';
    widget.card.dir = form.dir || '';
  };

  // A failed ask says so in the form's language: as the server's error answer named it, else
  // as the last answer to this ask did (the network failed; see post), else in English.
  const unavailable = (widget) => {
    let form = {};  // what was kept, unless it is not JSON any more (another script's key)
    catching(() => form = JSON.parse(stored('trickle:' + widget.config.siteKey + formPath(widget, '/ask'))) || {});
    speak(widget, form);
    setStatus(widget, form.strings?.unavailable || UNAVAILABLE, 'status-line', 'card quiet');
  };

  const formPath = (widget, action) => '/forms/' + encodeURIComponent(widget.formKey) + action;

  const ask = async (widget) => {
    const page = {url: location.href.slice(0, 2000)};
    if (STAGES.includes(widget.pageStage)) page.stage = widget.pageStage;
    const response = await request(widget.config, formPath(widget, '/ask'), {page});
    if (response.status != 200) throw response;
    return response.body;
  };

  // The status line is the aria-live region: thank-you, complete message, errors.
  const setStatus = (widget, text, statusClass, cardClass = 'card') => {
    widget.statusLine.textContent = text;
    widget.statusLine.className = statusClass;
    widget.card.className = cardClass;
    widget.card.hidden = !widget.formElement && !text;
  };

  const setFormElement = (widget, formElement) => {
    widget.formElement?.remove();
    if (formElement) widget.statusLine.before(formElement);
    widget.formElement = formElement;
  };

  // A string of the form's interface text, its {placeholders} filled in.
  const say = (widget, key, values = {}) =>
    (widget.texts[key] || '').replace(/\{(\w+)\}/g, (whole, name) => values[name] ?? whole);

  // Shows the server's answer to an ask: its questions, or the complete message.
  const show = (widget, answer) => {
    const form = answer.form || {}, questions = answer.questions || [], card = widget.card;
    widget.texts = form.strings || {};
    speak(widget, form);
    widget.askToken = answer.ask_token;
    widget.formSettings = form;
    widget.shownFields = [];
    widget.maxShown = form.max_questions;
    setFormElement(widget, !answer.complete && questions.length ? buildForm(widget, form, questions) : null);
    setStatus(widget, widget.formElement ? '' : form.complete_message || '', 'status-line thanks');
    // Native controls (checkboxes, a select's list) drawn dark on a card with light text.
    card.style.colorScheme = (/\d+, (\d+)/.exec(getComputedStyle(card).color) || [])[1] > 128 ? 'dark' : ''; // rgb(r, g, b)
    if (answer.complete) finish(widget);
    if (!widget.ready) emit(widget, 'ready', {complete: !!answer.complete});
    if (answer.complete) emit(widget, 'complete', {});
    widget.ready = true;
  };

  const buildForm = (widget, form, questions) => {
    const idPrefix = widget.idPrefix;
    const formElement = createElement('form', {novalidate: true, 'aria-labelledby': form.title && idPrefix + 't'});
    if (form.title) formElement.append(createElement('h2', {id: idPrefix + 't', text: form.title}));
    if (form.intro) formElement.append(createElement('p', {class: 'intro', text: form.intro}));
    questions.forEach((question, index) => formElement.append(buildQuestion(widget, question, idPrefix + index)));
    reveal(widget);
    // Honeypot: hidden from people and screen readers; a filled one stores nothing.
    widget.honeypot = createElement('input', {name: 'hp', id: idPrefix + 'hp', tabindex: -1, autocomplete: 'off'});
    formElement.append(createElement('div', {class: 'honeypot', 'aria-hidden': 'true'},
      [createElement('label', {for: idPrefix + 'hp', text: say(widget, 'leave_empty')}), widget.honeypot]));
    widget.submitLabel = form.submit_label || say(widget, 'submit');
    formElement.append(widget.submitButton = createElement('button', {class: 'submit', text: widget.submitLabel}));
    listen(formElement, 'submit', (event) => { event.preventDefault(); submit(widget); });
    listen(formElement, 'input', () => reveal(widget));
    return formElement;
  };

  // A question with `when` is shown while its shown parent's answer meets it; then the first
  // max_questions shown (the consent line besides): the rule the server checks at submit.
  const reveal = (widget) => {
    let room = widget.maxShown;
    const shown = {};
    for (const field of widget.shownFields) {
      const {key, when, line} = field.question, parent = when && shown[when.field];
      const value = parent && !parent.isSkipped ? valueOf(parent) : null, known = !isBlank(value);
      field.ruledOut = when && !(parent && ('known' in when ? known == when.known : known && [].concat(value)
        .some((item) => (when.in || [when.equals]).includes(parent.question.kind == 'number' ? +item : item)))) || !line && room-- < 1;
      if (!field.ruledOut) shown[key] = field;
      field.wrapper.hidden = field.ruledOut || field.isSkipped;
    }
  };

  // One question: its label, control, help and error line; returns its wrapper element.
  const buildQuestion = (widget, question, id) => {
    const {kind, label: labelText, placeholder} = question, required = !!question.required;
    const field = {question, inputs: [], errorElement: createElement('p', {class: 'field-error', id: id + 'e'}),
      helpElement: question.help && createElement('p', {class: 'help', id: id + 'h', text: question.help})};
    const requiredMark = required && createElement('span', {class: 'required-mark', 'aria-hidden': 'true', text: '*'});
    let choices = question.options || [], label, control, input;
    if (kind == 'boolean') choices = [{value: 'true', label: say(widget, 'yes')}, {value: 'false', label: say(widget, 'no')}];
    if (kind == 'multiselect' || kind == 'boolean' || kind == 'select' && choices.length < 6) {
      const type = kind == 'multiselect' ? 'checkbox' : 'radio', radio = type == 'radio';
      label = createElement('span', {id: id + 'l', text: labelText});
      control = createElement('div', {class: 'choices', role: radio ? 'radiogroup' : 'group',
        'aria-labelledby': id + 'l', 'aria-required': required && radio && 'true'});
      choices.forEach((choice, index) => {
        input = createElement('input', {type, name: id, id: id + '-' + index, value: choice.value, required: required && radio});
        control.append(createElement('label', {class: 'choice', for: id + '-' + index},
          [input, createElement('span', {text: choice.label})]));
        field.inputs.push(input);
      });
    } else if (kind == 'consent') {
      input = createElement('input', {type: 'checkbox', id, required, 'aria-required': required && 'true'});
      label = createElement('label', {class: 'consent-label', for: id}, [input, createElement('span', {text: labelText})]);
      field.inputs.push(input);
    } else {
      label = createElement('label', {for: id, text: labelText});
      control = kind == 'select'
        ? createElement('select', {}, [createElement('option', {value: '', text: placeholder || say(widget, 'choose')})])
        : kind == 'textarea' ? createElement('textarea', {rows: 3, placeholder})
        : createElement('input', {type: INPUT_TYPES[kind] || 'text', inputmode: kind == 'number' && 'decimal', placeholder});
      for (const choice of choices) control.append(createElement('option', {value: choice.value, text: choice.label}));
      const attributes = {id, class: 'control', required, 'aria-required': required && 'true', autocomplete: question.autocomplete};
      for (const name in attributes) setAttribute(control, name, attributes[name]);
      field.inputs.push(control);
    }
    const head = createElement('div', {class: 'question-head'}, [label, requiredMark]); // the mark outside: labels stay exact
    // After its field in the tab order: read the question, then choose to skip it.
    const skipButton = !required && createElement('button', {type: 'button', class: 'skip-button', text: say(widget, 'skip'),
      'aria-label': say(widget, 'skip_question', {label: labelText})});
    if (skipButton) listen(skipButton, 'click', () => skip(widget, field));
    field.wrapper = createElement('div', {class: 'question'}, [head, control, field.helpElement, field.errorElement, skipButton]);
    listen(field.wrapper, 'input', () => field.invalid && setError(field, ''));
    setError(field, '');
    widget.shownFields.push(field);
    return field.wrapper;
  };

  const valueOf = (field) => {
    const kind = field.question.kind, input = field.inputs[0];
    const checked = field.inputs.filter((candidate) => candidate.checked).map((candidate) => candidate.value);
    if (kind == 'multiselect') return checked;
    if (kind == 'consent') return checked.length ? true : null;
    if (input.type == 'radio') return checked.length ? (kind == 'boolean' ? checked[0] == 'true' : checked[0]) : null;
    return input.value.trim();
  };

  const isBlank = (value) => value == null || value.length === 0;

  // The key of the error message for a value, '' when valid: the server's rules, checked
  // before sending.
  const problemOf = (question, value) => {
    const kind = question.kind, maxLength = question.max_length || MAX_LENGTH[kind];
    const digits = String(value).replace(/\D/g, '').length;
    if (isBlank(value)) return question.required ? kind == 'consent' ? 'consent_required' : 'required' : '';
    if (kind == 'email') {
      const valid = /^[^@\s]+@([a-z\d]([a-z\d-]{0,61}[a-z\d])?\.)+[a-z]{2,63}$/i.test(value);
      return valid && value.length <= (maxLength || 254) ? '' : 'invalid_email';
    }
    if (kind == 'phone' && (!/^[\d +()\-./]+$/.test(value) || digits < 6 || digits > 20)) return 'invalid_phone';
    if (kind == 'url' && !/^https?:\/\/([^/?#\s@]*@)?[^/?#\s@:]\S*$/i.test(value)) return 'invalid_url';
    if (kind == 'number' && !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value)) return 'invalid_number';
    if (kind == 'number' && Math.abs(value) > 1e15) return 'number_range';
    return maxLength && value.length > maxLength ? 'too_long' : '';
  };

  // The error message for a value in the form's language (numbers as it writes them), '' when valid.
  const validate = (widget, question, value) => {
    const key = problemOf(question, value), {format} = new Intl.NumberFormat(widget.locale);
    return key && say(widget, key, {min: format(-1e15), max: format(key == 'too_long' ? question.max_length || MAX_LENGTH[question.kind] : 1e15)});
  };

  const setError = (field, message) => {
    const describedBy = [field.helpElement && field.helpElement.id, message && field.errorElement.id].filter(Boolean).join(' ');
    field.invalid = !!message;
    field.errorElement.textContent = message;
    field.errorElement.hidden = !message;
    field.wrapper.className = message ? 'question invalid' : 'question';
    for (const input of field.inputs) {
      setAttribute(input, 'aria-invalid', field.invalid && 'true');
      setAttribute(input, 'aria-describedby', describedBy || null);
    }
  };

  const skip = (widget, field) => {
    field.isSkipped = field.wrapper.hidden = true;
    reveal(widget);
    const next = widget.shownFields.slice(widget.shownFields.indexOf(field) + 1).find((later) => !later.wrapper.hidden);
    setError(field, '');
    (next ? next.inputs[0] : widget.submitButton).focus();
  };

  const submit = (widget) => {
    const answers = {}, answeredKeys = [], skippedKeys = [];
    let firstInvalid;
    if (widget.busy) return;
    for (const field of widget.shownFields.filter((shown) => !shown.ruledOut)) {
      const key = field.question.key, value = valueOf(field);
      const message = !field.isSkipped && validate(widget, field.question, value);
      if (field.isSkipped) skippedKeys.push(key);
      else if (message) firstInvalid = firstInvalid || field;
      else if (!isBlank(value)) answeredKeys.push(key), answers[key] = value;
      setError(field, message || '');
    }
    setStatus(widget, '', 'status-line');
    if (firstInvalid) return firstInvalid.inputs[0].focus();
    send(widget, {ask_token: widget.askToken, answers, skipped: skippedKeys, idempotency_key: uuid(),
      hp: widget.honeypot.value}, {keys: answeredKeys, skipped: skippedKeys});
  };

  const uuid = () => {
    try { return crypto.randomUUID(); } catch { // insecure context or older browser
      return (Date.now() + Math.random()).toString(36) + Math.random().toString(36);
    }
  };

  const setBusy = (widget, busy) => {
    widget.busy = busy;
    if (widget.formElement) {
      widget.submitButton.disabled = busy;
      widget.submitButton.textContent = busy ? say(widget, 'sending') : widget.submitLabel;
      setAttribute(widget.formElement, 'aria-busy', busy && 'true');
    }
  };

  // Network errors, 5xx and 429 are retried with the same idempotency key: stored at most once.
  const send = (widget, body, detail) => {
    let tries = 0;
    const retry = () => {
      if (tries < RETRY_DELAYS_MS.length) setTimeout(safe(attempt), RETRY_DELAYS_MS[tries++]);
      else sendFailed(widget);
    };
    const attempt = () => { // retry calls it only after this line has run
      body.visitor = visitorToken(widget.config.siteKey);
      post(widget.config, formPath(widget, '/submit'), body).then((response) => {
        const error = response.body.error || {};
        if (response.status > 499 || response.status == 429) return retry();
        setBusy(widget, false);
        if (response.status == 200) submitted(widget, response.body, detail);
        else if (error.code == 'ask_expired' && !widget.askedAgain) askAgain(widget, body, detail);
        else if (!showServerErrors(widget, error.fields || {})) sendFailed(widget);
      }, retry).catch(noop);
    };
    setBusy(widget, true);
    attempt();
  };

  const submitted = (widget, result, detail) => {
    setFormElement(widget, null);
    setStatus(widget, result.message || say(widget, 'thank_you'), 'status-line thanks');
    widget.statusLine.tabIndex = -1;
    widget.statusLine.focus();
    finish(widget, 1);
    emit(widget, 'submitted', detail);
    if (result.complete) emit(widget, 'complete', {});
  };

  // The form's on_complete: a message, or a link to a page or a file. A download starts at once;
  // a page opens after a submit (a returning visitor gets the link, never sent away on load).
  const finish = (widget, sent) => {
    const next = widget.formSettings.on_complete, url = next && (next.open || next.download);
    widget.nextLine?.remove();
    if (!next || url && !/^(https?:\/\/|\/[^/\\])/i.test(url)) return; // http(s), or a path on this site
    const link = url && createElement('a', {href: url, download: !!next.download, target: next.download && '_blank',
      text: next.label || say(widget, next.download ? 'download_link' : 'open_link')}); // _blank: noopener
    widget.card.append(widget.nextLine = createElement('p', {class: 'next'}, [link || next.message]));
    widget.card.hidden = false;
    if (next.download) link.click();
    else if (sent && url) location.assign(url);
  };

  const sendFailed = (widget) => {
    setBusy(widget, false);
    setStatus(widget, say(widget, 'send_failed'), 'status-line failed');
    if (widget.formElement) widget.submitButton.focus();
  };

  const showServerErrors = (widget, errorsByKey) => {
    const invalid = widget.shownFields.filter((field) => errorsByKey[field.question.key]);
    for (const field of invalid) {
      field.isSkipped = field.wrapper.hidden = false; // e.g. a skipped required consent: let them answer it
      setError(field, String(errorsByKey[field.question.key][0]));
    }
    invalid[0]?.inputs[0].focus();
    return invalid[0];
  };

  const keysOf = (questions) => questions.map((question) => question.key).join();

  // 409 ask_expired (an old tab, a changed form): ask once more; the same questions are sent
  // again with the new token, new ones shown keeping what was typed.
  const askAgain = async (widget, body, detail) => {
    const keysBefore = keysOf(widget.shownFields.map((field) => field.question)), inputsBefore = {};
    for (const field of widget.shownFields) inputsBefore[field.question.key + field.question.kind] = field.inputs;
    widget.askedAgain = true;
    setBusy(widget, true);
    try {
      const answer = await ask(widget);
      setBusy(widget, false);
      if (!answer.complete && keysOf(answer.questions || []) == keysBefore) {
        body.ask_token = widget.askToken = answer.ask_token;
        body.idempotency_key = uuid();
        return send(widget, body, detail);
      }
      show(widget, answer);
      for (const field of widget.shownFields) {
        (inputsBefore[field.question.key + field.question.kind] || []).forEach((oldInput, index) => {
          const input = field.inputs[index];
          if (input && /radio|checkbox/.test(input.type)) input.checked = oldInput.checked;
          else if (input) input.value = oldInput.value;
        });
      }
      widget.shownFields[0]?.inputs[0].focus();
    } catch {
      catching(() => sendFailed(widget));
    }
  };

  // The one global: Trickle(command, ...) queue style, plus the methods below.
  const Trickle = (command, first, second, options) => {
    catching(() => {
      if (command == 'load') load(first);
      else if (!booted) callQueue.push([command, first, second, options]);
      else if (command == 'track') track(first, second);
      else if (command == 'withdrawConsent') withdrawConsent(first, second);
      else if (command == 'identify') {
        options = options || {};
        identify(targetOf(options), {email: first, hash: second}, options.done);
      }
    });
  };
  Trickle.track = (kind, options) => Trickle('track', kind, options);
  Trickle.withdrawConsent = (fieldKeys, options) => new Promise((done) =>
    Trickle('withdrawConsent', fieldKeys, {...options, done}));
  Trickle.identify = (email, hash, options) => new Promise((done) =>
    Trickle('identify', email, hash, {...options, done}));
  Trickle.version = '1.0.0';

  // A signed link's token leaves the address bar at once: not bookmarked, not shared.
  catching(() => {
    const match = /([?&])trickle=([^&]*)&?/.exec(location.search);
    if (match) {
      signedLink = match[2];
      const search = location.search.replace(match[0], match[1]).replace(/[?&]$/, '');
      history.replaceState(history.state, '', location.pathname + search + location.hash);
    }
  });
  catching(() => {
    callQueue = [...(previous && previous.q || [])]; // the snippet's queue before this script loaded
    window.Trickle = Trickle;
    load(thisScript);
  });
})(window, document);
