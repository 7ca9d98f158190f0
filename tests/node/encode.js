// Encodes strings with Hugging Face's Rust tokenizers (npm 'tokenizers') for SharpSeek's tests.
// usage: node encode.js TOKENIZER_JSON INPUTS_JSON   (INPUTS_JSON: a JSON array of strings)
// prints: a JSON array of {ids, decoded}, one per input, ids without special tokens.
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

async function main() {
  const [tokenizerPath, inputsPath] = process.argv.slice(2);
  if (!tokenizerPath || !inputsPath) {
    console.error('usage: node encode.js TOKENIZER_JSON INPUTS_JSON');
    process.exit(2);
  }
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  const inputs = JSON.parse(fs.readFileSync(inputsPath, 'utf8'));
  const out = [];
  for (const text of inputs) {
    const enc = await tokenizer.encode(text, null, { addSpecialTokens: false });
    const ids = Array.from(enc.getIds());
    out.push({ ids, decoded: await tokenizer.decode(ids, false) });
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
