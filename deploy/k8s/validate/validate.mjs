// Validates Kubernetes manifests against Kubernetes' JSON schemas (the kubernetes-models package).
//   node validate.mjs FILE.yaml...
// Prints one JSON line per object ({"file","kind","name","object"}) and, for each invalid object or file,
// a line on stderr naming the file, the object and the field. Exit status 1 when anything is invalid.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseAllDocuments } from "yaml";

// apiVersion → the kubernetes-models module that holds its kinds.
const modules = {
  "v1": "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "batch/v1": "kubernetes-models/batch/v1",
  "rbac.authorization.k8s.io/v1": "kubernetes-models/rbac.authorization.k8s.io/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
};

let failed = 0;
const fail = (where, message) => {
  failed++;
  console.error(`${where}: ${message}`);
};

for (const path of process.argv.slice(2)) {
  const file = basename(path);
  let docs;
  try {
    docs = parseAllDocuments(readFileSync(path, "utf8"));
  } catch (e) {
    fail(file, `cannot read: ${e.message}`);
    continue;
  }
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      fail(file, `not valid YAML: ${doc.errors[0].message}`);
      continue;
    }
    const object = doc.toJS();
    if (object === null || object === undefined) continue;
    const where = `${file}: ${object.kind ?? "?"}/${object.metadata?.name ?? "?"}`;
    const module = modules[object.apiVersion];
    if (module === undefined) {
      fail(where, `apiVersion '${object.apiVersion}' is not one this validator knows (${Object.keys(modules).join(", ")})`);
      continue;
    }
    const kinds = await import(module);
    const Kind = kinds[object.kind];
    if (typeof Kind !== "function") {
      fail(where, `kind '${object.kind}' does not exist in ${object.apiVersion}`);
      continue;
    }
    try {
      new Kind(object).validate();
    } catch (e) {
      fail(where, e.message);
      continue;
    }
    console.log(JSON.stringify({ file, kind: object.kind, name: object.metadata?.name, object }));
  }
}
process.exit(failed > 0 ? 1 : 0);
