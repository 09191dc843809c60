// Console behaviour that pages also work without: copy buttons and the site switcher.
document.documentElement.classList.add('js');

// <button data-copy="ID"> copies the text of element ID.
document.addEventListener('click', (event) => {
  const button = event.target.closest('[data-copy]');
  if (!button) return;
  const text = document.getElementById(button.dataset.copy)?.textContent || '';
  navigator.clipboard?.writeText(text).then(() => {
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = 'Copy'; }, 1500);
  }, () => {});
});

// <select data-autosubmit> submits its form when changed (the form's button is the fallback).
document.addEventListener('change', (event) => {
  if (event.target.matches('select[data-autosubmit]')) event.target.form.requestSubmit();
});

// The form page's live preview. Typed changes are previewed before saving: the editor's values
// and the visitor controls are posted (with the page's CSRF token) to the preview's draft URL,
// which checks them as a save would and answers the preview page's URL, or the problems.
const previewCard = document.querySelector('[data-preview-draft]');
if (previewCard) {
  const frame = previewCard.querySelector('iframe');
  const controls = previewCard.querySelector('form.preview-controls');
  const editor = document.querySelector('form.editor');
  const problems = previewCard.querySelector('.preview-problems');
  let latest = 0;
  let timer;
  const refresh = async () => {
    const mine = ++latest;
    const body = new FormData(controls);
    // A read-only editor's inputs are disabled, so only its token comes along: the saved form.
    for (const [name, value] of new FormData(editor)) body.append(name, value);
    const response = await fetch(previewCard.dataset.previewDraft, {method: 'POST', body, credentials: 'same-origin'});
    const answer = await response.json().catch(() => ({}));
    if (mine != latest) return; // a newer change is on its way
    if (answer.url) {
      problems.hidden = true;
      problems.textContent = '';
      frame.contentWindow.location.replace(answer.url);
    } else {
      const list = document.createElement('ul');
      for (const problem of answer.problems || ['The preview could not be updated.']) {
        list.append(Object.assign(document.createElement('li'), {textContent: problem}));
      }
      const headline = Object.assign(document.createElement('p'), {textContent: 'Preview not updated:'});
      problems.replaceChildren(headline, list);
      problems.hidden = false;
    }
  };
  const soon = () => { clearTimeout(timer); timer = setTimeout(refresh, 250); };
  for (const form of [editor, controls]) {
    form.addEventListener('input', soon);
    form.addEventListener('change', soon);
  }
  controls.addEventListener('submit', (event) => { event.preventDefault(); refresh(); });

  // The frame takes its content's height, as the preview page reports it: only a message from
  // that frame, of this console's origin, is believed.
  window.addEventListener('message', (event) => {
    if (event.origin != location.origin || event.source != frame.contentWindow) return;
    const height = Number(event.data && event.data.trickleFrameHeight);
    if (Number.isFinite(height) && height > 0) frame.style.height = Math.min(Math.ceil(height), 5000) + 'px';
  });
}

// The preview page (framed by the form page) tells its parent, of the same origin only, how
// tall it is whenever that changes (the widget rendering, a message after a submit).
if (document.body.classList.contains('preview-page') && window.parent != window) {
  const report = () => window.parent.postMessage(
    {trickleFrameHeight: document.documentElement.getBoundingClientRect().height}, location.origin);
  new ResizeObserver(report).observe(document.body);
}
