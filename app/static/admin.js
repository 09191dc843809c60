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
