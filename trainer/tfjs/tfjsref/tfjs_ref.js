// tfjs_ref.js runs a TF.js layers model in TensorFlow.js itself (the CPU backend of
// @tensorflow/tfjs, in node) and dumps chosen layers' outputs: the reference that
// trainer/tfjs's converter is checked against (package tfjsref embeds and drives it).
//
// Usage: node tfjs_ref.js JOB.json
//
// JOB.json: {
//   "tfjs":    path of the @tensorflow/tfjs package directory (as scripts/install-tfjs.sh installs it),
//   "model":   path of model.json (weight files beside it),
//   "anySize": true to free the input's height and width (the model is then truncated to
//              the layers the outputs need, which must not include a Flatten),
//   "outputs": layer names to dump,
//   "inputs":  [{"file": raw little-endian float32 NHWC, "shape": [N, H, W, C]}, ...],
//   "outDir":  where to write <input>_<layer>.f32 and result.json
// }
// result.json: {"tfjs": version, "backend": "cpu", "outputs": [{"input", "layer", "shape", "file"}]}
'use strict';

const fs = require('fs');
const path = require('path');

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const tf = require(job.tfjs);
  await tf.setBackend('cpu');
  const dir = path.dirname(job.model);
  const mj = JSON.parse(fs.readFileSync(job.model, 'utf8'));
  let topology = mj.modelTopology;
  if (job.anySize) {
    topology = truncate(topology, job.outputs);
  }
  const specs = [];
  const bufs = [];
  for (const g of mj.weightsManifest) {
    for (const p of g.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
    specs.push(...g.weights);
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  // Weights of layers dropped by truncate are ignored by loadLayersModel (strict = false).
  const model = await tf.loadLayersModel(
      tf.io.fromMemory({modelTopology: topology, weightSpecs: specs, weightData}), {strict: !job.anySize});
  const sub = tf.model({inputs: model.inputs, outputs: job.outputs.map((n) => model.getLayer(n).output)});
  const result = {tfjs: tf.version.tfjs, backend: tf.getBackend(), outputs: []};
  for (let i = 0; i < job.inputs.length; i++) {
    const inp = job.inputs[i];
    const b = fs.readFileSync(inp.file);
    const data = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    const x = tf.tensor(data, inp.shape, 'float32');
    let ys = sub.predict(x);
    if (!Array.isArray(ys)) ys = [ys];
    for (let j = 0; j < ys.length; j++) {
      const y = await ys[j].data();
      const file = path.join(job.outDir, `${i}_${job.outputs[j]}.f32`);
      fs.writeFileSync(file, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
      result.outputs.push({input: i, layer: job.outputs[j], shape: ys[j].shape, file});
      ys[j].dispose();
    }
    x.dispose();
  }
  fs.writeFileSync(path.join(job.outDir, 'result.json'), JSON.stringify(result));
}

// truncate keeps the layers the outputs need, frees the input's height and width, and makes
// the outputs the model's outputs.
function truncate(topology, outputs) {
  topology = JSON.parse(JSON.stringify(topology));
  const cfg = (topology.model_config || topology).config;
  const byName = new Map(cfg.layers.map((l) => [l.name, l]));
  const need = new Set();
  const visit = (n) => {
    if (need.has(n)) return;
    need.add(n);
    for (const call of byName.get(n).inbound_nodes) for (const ref of call) visit(ref[0]);
  };
  outputs.forEach(visit);
  cfg.layers = cfg.layers.filter((l) => need.has(l.name));
  for (const l of cfg.layers) {
    if (l.class_name === 'InputLayer') {
      const s = l.config.batch_input_shape;
      l.config.batch_input_shape = [null, null, null, s[s.length - 1]];
    }
    if (l.class_name === 'Flatten') throw new Error('anySize: the outputs need a Flatten');
  }
  cfg.output_layers = outputs.map((n) => [n, 0, 0]);
  return topology;
}

main().catch((e) => {
  process.stderr.write(`tfjs_ref: ${e.stack || e}\n`);
  process.exit(1);
});
