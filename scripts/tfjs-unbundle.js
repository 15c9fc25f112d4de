// tfjs-unbundle.js turns a TensorFlow.js layers model that an npm package ships as JavaScript
// modules (nsfwjs: model.min.js exports {modelTopology, weightsManifest}; each weight shard
// <path>.min.js exports the shard's bytes as one base64 string) into the standard TF.js files:
// model.json plus one binary file per weightsManifest path, so that any TF.js layers-model
// reader (gendl-train import tfjs, tf.loadLayersModel) can use them.
//
// Usage: node scripts/tfjs-unbundle.js MODULE_DIR OUT_DIR
//
// MODULE_DIR holds model.min.js and the shard modules (for nsfwjs@4.4.0:
// package/dist/models/inception_v3). The binary files keep the manifest's path names, so
// model.json's weightsManifest is written unchanged. The modules are loaded with require(),
// i.e. executed: only unbundle packages you would run anyway.
'use strict';

const fs = require('fs');
const path = require('path');

function main() {
  const [moduleDir, outDir] = process.argv.slice(2);
  if (!moduleDir || !outDir) {
    throw new Error('usage: node tfjs-unbundle.js MODULE_DIR OUT_DIR');
  }
  const model = require(path.resolve(moduleDir, 'model.min.js'));
  if (!model || typeof model.modelTopology !== 'object' || !Array.isArray(model.weightsManifest)) {
    throw new Error(`${moduleDir}/model.min.js does not export {modelTopology, weightsManifest}`);
  }
  fs.mkdirSync(outDir, {recursive: true});
  let total = 0;
  for (const group of model.weightsManifest) {
    for (const p of group.paths) {
      if (p.includes('/') || p.includes('\\') || p.startsWith('.')) {
        throw new Error(`weight path ${JSON.stringify(p)} is not a plain file name`);
      }
      const b64 = require(path.resolve(moduleDir, p + '.min.js'));
      if (typeof b64 !== 'string') {
        throw new Error(`${p}.min.js does not export a base64 string`);
      }
      const bytes = Buffer.from(b64, 'base64');
      writeAtomic(path.join(outDir, p), bytes);
      total += bytes.length;
    }
  }
  const json = {format: model.format || 'layers-model'};
  for (const k of ['generatedBy', 'convertedBy']) {
    if (model[k] != null) json[k] = model[k];
  }
  json.modelTopology = model.modelTopology;
  json.weightsManifest = model.weightsManifest;
  writeAtomic(path.join(outDir, 'model.json'), Buffer.from(JSON.stringify(json)));
  process.stderr.write(`tfjs-unbundle: wrote model.json and ${total} bytes of weights to ${outDir}\n`);
}

function writeAtomic(file, data) {
  const tmp = `${file}.tmp${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

try {
  main();
} catch (e) {
  process.stderr.write(`tfjs-unbundle: ${e.message}\n`);
  process.exit(1);
}
