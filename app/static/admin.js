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

// Exports: the download is fetched here so the page can show that it is busy and how many rows
// have come so far; the file is saved once complete. A refused filter loads the page normally,
// which shows the problem next to its input. Without fetch streams the browser downloads as usual.
const countRows = (format) => {
  // CSV: line ends outside quotes, less the header; JSON Lines: line ends; Parquet: not countable.
  let quoted = false;
  let rows = format == 'csv' ? -1 : 0;
  return (bytes) => {
    if (format == 'parquet') return null;
    for (const byte of bytes) {
      if (byte == 34 && format == 'csv') quoted = !quoted;
      else if (byte == 10 && !quoted) rows += 1;
    }
    return Math.max(rows, 0);
  };
};

const sizeText = (bytes) => bytes < 1024 * 1024
  ? Math.ceil(bytes / 1024) + ' KB'
  : (bytes / 1024 / 1024).toFixed(1) + ' MB';

for (const form of document.querySelectorAll('form[data-export]')) {
  const progress = form.querySelector('.export-progress');
  const submit = form.querySelector('button[type=submit]');
  const cancel = form.querySelector('.export-cancel');
  const label = submit.textContent;
  let controller = null;
  const busy = (on) => {
    form.setAttribute('aria-busy', on ? 'true' : 'false');
    submit.disabled = on;
    submit.textContent = on ? 'Exporting…' : label;
    cancel.hidden = !on;
  };
  cancel.addEventListener('click', () => controller && controller.abort());
  form.addEventListener('submit', async (event) => {
    if (!window.ReadableStream || !window.AbortController) return;
    event.preventDefault();
    const url = form.action + '?' + new URLSearchParams(new FormData(form));
    controller = new AbortController();
    busy(true);
    progress.textContent = 'Exporting… 0 rows so far.';
    try {
      const response = await fetch(url, {credentials: 'same-origin', signal: controller.signal});
      if (!response.ok || !response.body) {
        location.assign(url);
        return;
      }
      const format = new URLSearchParams(url.split('?')[1]).get('format') || 'csv';
      const count = countRows(format);
      const reader = response.body.getReader();
      const parts = [];
      let size = 0;
      let rows = 0;
      for (;;) {
        const {done, value} = await reader.read();
        if (done) break;
        parts.push(value);
        size += value.length;
        rows = count(value);
        progress.textContent = rows == null
          ? `Exporting… ${sizeText(size)} so far.`
          : `Exporting… ${rows.toLocaleString('en')} rows so far.`;
      }
      const name = (/filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '') || [])[1] || 'export';
      const link = Object.assign(document.createElement('a'), {
        href: URL.createObjectURL(new Blob(parts, {type: response.headers.get('Content-Type') || ''})),
        download: name,
      });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
      const counted = rows == null ? '' : `${rows.toLocaleString('en')} rows, `;
      progress.textContent = `Done: ${counted}${sizeText(size)}, saved as ${name}.`;
    } catch (error) {
      progress.textContent = controller.signal.aborted
        ? 'Stopped: nothing was saved.'
        : 'The export stopped before the end: nothing was saved. Try again.';
    } finally {
      busy(false);
      controller = null;
    }
  });
}
