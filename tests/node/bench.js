// Encode throughput of Hugging Face's Rust tokenizers (npm 'tokenizers') on a corpus, for docs/PERFORMANCE.md.
// usage: node bench.js TOKENIZER_JSON CORPUS_TXT [SECONDS]
// One encode call at a time (one worker thread), the corpus encoded line by line; prints MB/s of UTF-8 input.
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

async function main() {
  const [tokenizerPath, corpusPath, secondsArg] = process.argv.slice(2);
  if (!tokenizerPath || !corpusPath) {
    console.error('usage: node bench.js TOKENIZER_JSON CORPUS_TXT [SECONDS]');
    process.exit(2);
  }
  const seconds = Number(secondsArg || 10);
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  const lines = fs.readFileSync(corpusPath, 'utf8').split('\n');
  const bytesPerPass = Buffer.byteLength(lines.join('\n'), 'utf8');
  for (const line of lines.slice(0, 200)) await tokenizer.encode(line, null, { addSpecialTokens: false }); // warm-up
  let passes = 0, tokens = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds || passes === 0) {
    for (const line of lines) tokens += (await tokenizer.encode(line, null, { addSpecialTokens: false })).getIds().length;
    passes++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  const mbs = (bytesPerPass * passes) / 1e6 / elapsed;
  console.log(JSON.stringify({ engine: 'hf-tokenizers-node-0.23.2', mb_per_s: Number(mbs.toFixed(3)), passes, tokens, seconds: Number(elapsed.toFixed(2)) }));
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
