// Renders chat templates with Hugging Face's Jinja (npm '@huggingface/jinja', the engine transformers.js uses) for
// SharpSeek's template tests.
// usage: node render.js CASES_JSON   (CASES_JSON: a JSON array of {template, variables})
// prints: a JSON array of {text} or {error}, one per case.
'use strict';
const fs = require('fs');
const { Template } = require('@huggingface/jinja');

const [casesPath] = process.argv.slice(2);
if (!casesPath) {
  console.error('usage: node render.js CASES_JSON');
  process.exit(2);
}
const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
const parsed = new Map();
const out = cases.map(({ template, variables }) => {
  try {
    if (!parsed.has(template)) parsed.set(template, new Template(template));
    return { text: parsed.get(template).render(variables) };
  } catch (e) {
    return { error: String((e && e.message) || e) };
  }
});
process.stdout.write(JSON.stringify(out));
