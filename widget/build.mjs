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
// A config's and a widget's own names differ from the JSON's for that reason (siteKey, not site).
const INTERNAL_PROPERTIES = [
  'mountElement', 'config', 'idPrefix', 'card', 'formElement', 'askToken', 'honeypot',
  'submitButton', 'busy', 'ready', 'askedAgain', 'question', 'inputs', 'wrapper', 'invalid',
  'script', 'api', 'siteKey', 'formKey', 'pageStage', 'identityEmail', 'identityHash',
  'shownFields', 'statusLine', 'helpElement', 'errorElement', 'isSkipped', 'submitLabel',
  'texts', 'locale', 'formSettings', 'maxShown', 'ruledOut', 'nextLine',
];

// The shadow root's stylesheet (the STYLE template literal): terser leaves strings alone, so the
// build drops its line breaks and shortens the widget's own custom properties (--accent -> --a);
// the public ones, --trickle-*, stay.
function compactStyle(code) {
  const match = /const STYLE = `([^`]*)`;/.exec(code);
  if (!match) throw new Error('no `const STYLE = `...`;` in the source');
  let css = match[1].replace(/\n/g, '');
  const own = [...new Set([...css.matchAll(/(--(?!trickle-)[\w-]+):/g)].map((m) => m[1]))];
  own.forEach((name, index) => {
    css = css.replace(new RegExp(`${name}(?![\\w-])`, 'g'), '--' + String.fromCharCode(97 + index));
  });
  return shortenClasses(code.replace(match[0], () => `const STYLE = \`${css}\`;`));
}

// Class names kept as written: the hooks tests and pages may use (docs/widget.md, Markup).
const KEPT_CLASSES = ['question', 'question-head', 'submit'];

// The stylesheet's other class names become one letter (.field-error -> .a), in the stylesheet
// and in the code's string literals made of class names only ('status-line thanks'). So a class
// name must be spelled like no other string of the code: 'status-line', not the role 'status'.
function shortenClasses(code) {
  const style = /const STYLE = `[^`]*`;/.exec(code)[0];
  const classes = [...new Set([...style.matchAll(/\.([a-z][\w-]*)/g)].map((m) => m[1]))]
    .filter((name) => !KEPT_CLASSES.includes(name));
  if (classes.length > 26) throw new Error('more than 26 class names to shorten');
  const short = Object.fromEntries(classes.map((name, index) => [name, String.fromCharCode(97 + index)]));
  const rename = (name) => short[name] || name;
  const shortStyle = style.replace(/\.([a-z][\w-]*)/g, (whole, name) => '.' + rename(name));
  const renameLiterals = (part) => part.replace(/'([a-z][\w-]*(?: [a-z][\w-]*)*)'/g, (literal, words) => {
    const names = words.split(' ');
    const isClassList = names.some((name) => short[name]) && names.every((name) => short[name] || KEPT_CLASSES.includes(name));
    return isClassList ? `'${names.map(rename).join(' ')}'` : literal;
  });
  const [before, after] = code.split(style);
  return renameLiterals(before) + shortStyle + renameLiterals(after);
}

let result;
try {
  result = await minify(compactStyle(readFileSync(source, 'utf8')), {
    ecma: 2020,
    compress: {passes: 2},
    // builtins: names terser would keep as DOM properties (config, ready, inputs) are
    // shortened too, when listed above.
    mangle: {properties: {builtins: true, regex: new RegExp(`^(${INTERNAL_PROPERTIES.join('|')})$`)}},
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
