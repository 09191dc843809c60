// Builds the served widget: trickle.js (the readable source) -> dist/trickle.min.js, with terser
// (pinned in package.json). Run by `make run` / `make test` and, when the build is missing or
// older than the source, by the app at the first /widget.js request (app/embed/assets.py).
// Usage: node widget/build.mjs [source] [output]
import {mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {minify} from 'terser';

const here = dirname(fileURLToPath(import.meta.url));
const source = process.argv[2] || join(here, 'trickle.js');
const output = process.argv[3] || join(here, 'dist', 'trickle.min.js');

// Properties of the widget's own objects (a widget, a field, a config), shortened in the build.
// Never a name that also travels in JSON, a public option, an event detail or a DOM API: those
// must stay as they are (form, fields, status, error, help, skipped, site, stage, hash ...).
const INTERNAL_PROPERTIES = [
  'mountElement', 'config', 'idPrefix', 'card', 'formElement', 'askToken', 'honeypot',
  'submitButton', 'busy', 'ready', 'askedAgain', 'question', 'inputs', 'wrapper', 'invalid',
  'script', 'api',
];

// The shadow root's stylesheet (the STYLE template literal): terser leaves strings alone, so the
// build drops its line breaks and shortens the widget's own custom properties (--accent -> --a);
// the public ones, --trickle-*, stay. Class names stay readable: they coincide with other strings
// in the code ('status', 'submit', 'consent'), which a text rename could not tell apart.
function compactStyle(code) {
  const match = /const STYLE = `([^`]*)`;/.exec(code);
  if (!match) throw new Error('no `const STYLE = `...`;` in the source');
  let css = match[1].replace(/\n/g, '');
  const own = [...new Set([...css.matchAll(/(--(?!trickle-)[\w-]+):/g)].map((m) => m[1]))];
  own.forEach((name, index) => {
    css = css.replace(new RegExp(`${name}(?![\\w-])`, 'g'), '--' + String.fromCharCode(97 + index));
  });
  return code.replace(match[0], () => `const STYLE = \`${css}\`;`);
}

let result;
try {
  result = await minify(compactStyle(readFileSync(source, 'utf8')), {
    ecma: 2020,
    compress: {passes: 2},
    mangle: {properties: {regex: new RegExp(`^(${INTERNAL_PROPERTIES.join('|')})$`)}},
    format: {comments: /^!/},
  });
} catch (error) { // one line, for the app's warning (app/embed/assets.py)
  const where = error.line ? `:${error.line}:${error.col}` : '';
  console.error(`build.mjs: ${source}${where}: ${error.message}`);
  process.exit(1);
}
mkdirSync(dirname(output), {recursive: true});
// Written aside, then renamed: a server reading it never sees half a file.
const partial = `${output}.${process.pid}.tmp`;
writeFileSync(partial, result.code + '\n');
renameSync(partial, output);
