// Reads and writes one key of a silo's /v1/kv with the consul npm client and a token, and prints one JSON line per
// step for AccessProcessTests: whether it worked, else the HTTP status and message the client reports.
//   node consul-token.js <port> <key> <token|->
"use strict";

const Consul = require("consul");

const port = Number(process.argv[2]);
const key = process.argv[3];
const token = process.argv[4];
if (!port || !key || !token) {
  console.error("usage: node consul-token.js <port> <key> <token|->");
  process.exit(2);
}

const consul = new Consul({ host: "127.0.0.1", port, defaults: token === "-" ? {} : { token } });
const print = (step, fields) => console.log(JSON.stringify({ step, ...fields }));

async function attempt(step, call) {
  try {
    await call();
    print(step, { ok: true });
  } catch (e) {
    print(step, { ok: false, status: e.response ? e.response.statusCode : null, message: e.message });
  }
}

async function main() {
  await attempt("write", () => consul.kv.set(key, "from-consul"));
  await attempt("read", () => consul.kv.get(key));
}

main().catch((e) => {
  print("error", { message: String(e && e.stack || e) });
  process.exit(1);
});
