// Drives a silo's /v1/kv with the consul npm client and prints one JSON line per step for ConsulClientTests.
//   node consul-kv.js <port> <prefix>
// After the "watching" line it waits for the test to change <prefix>/watched, then prints "changed" and exits.
"use strict";

const { EventEmitter } = require("events");
const Consul = require("consul");

const port = Number(process.argv[2]);
const prefix = process.argv[3];
if (!port || !prefix) {
  console.error("usage: node consul-kv.js <port> <prefix>");
  process.exit(2);
}

const consul = new Consul({ host: "127.0.0.1", port });
const print = (step, fields) => console.log(JSON.stringify({ step, ...fields }));
// The client resolves Consul's "false" as undefined: report what a write answered as a boolean.
const ok = async (write) => (await write) === true;
// A context that makes the client resolve [response, body], for the X-Consul-Index header.
const withResponse = () => Object.assign(new EventEmitter(), { includeResponse: true });

async function main() {
  const greeting = `${prefix}/greeting`;
  print("set", { result: await ok(consul.kv.set(greeting, "hello, wörld", { flags: 7 })) });

  const got = await consul.kv.get(greeting);
  print("get", { key: got.Key, value: got.Value, flags: got.Flags, modifyIndex: got.ModifyIndex, createIndex: got.CreateIndex });

  print("casWrong", { result: await ok(consul.kv.set({ key: greeting, value: "stale", cas: got.ModifyIndex + 1000 })) });
  print("casRight", { result: await ok(consul.kv.set({ key: greeting, value: "fresh", cas: got.ModifyIndex })) });
  print("createNew", { result: await ok(consul.kv.set({ key: `${prefix}/new`, value: "n", cas: 0 })) });
  print("createAgain", { result: await ok(consul.kv.set({ key: `${prefix}/new`, value: "m", cas: 0 })) });

  const listed = await consul.kv.get({ key: `${prefix}/`, recurse: true });
  print("recurse", { keys: listed.map((e) => e.Key), values: listed.map((e) => e.Value) });
  print("keys", { keys: await consul.kv.keys({ key: `${prefix}/`, separator: "/" }) });
  // "<prefix>/" was never put (only keys below it): Consul has no such key.
  print("implicitFolder", { found: (await consul.kv.get(`${prefix}/`)) !== undefined });
  // A folder put with its trailing slash is a key, listed like any other.
  print("putFolder", { result: await ok(consul.kv.set(`${prefix}/folder/`, "")) });
  const withFolder = await consul.kv.get({ key: `${prefix}/`, recurse: true });
  print("recurseFolder", { keys: withFolder.map((e) => e.Key), values: withFolder.map((e) => e.Value) });
  print("keysFolder", { keys: await consul.kv.keys(`${prefix}/`) });

  const fresh = await consul.kv.get(greeting);
  print("delWrong", { result: await ok(consul.kv.del({ key: greeting, cas: fresh.ModifyIndex + 1000 })) });
  print("delRight", { result: await ok(consul.kv.del({ key: greeting, cas: fresh.ModifyIndex })) });
  print("gone", { found: (await consul.kv.get(greeting)) !== undefined });
  print("delMissing", { result: await ok(consul.kv.del(`${prefix}/never`)) });

  // A blocking read of an unchanged key ends when its wait does, with the same index.
  const watched = `${prefix}/watched`;
  await consul.kv.set(watched, "v1");
  const [first] = await consul.kv.get({ key: watched, ctx: withResponse() });
  const index = first.headers["x-consul-index"];
  const started = Date.now();
  const [timedOut] = await consul.kv.get({ key: watched, index, wait: "1s", ctx: withResponse() });
  print("timeout", { elapsedMs: Date.now() - started, index, after: timedOut.headers["x-consul-index"] });

  // The client's watch: one change for the current value, then one when the test writes.
  let calls = 0;
  const watch = consul.watch({
    method: function (options) {
      calls++;
      return consul.kv.get.call(this, options);
    },
    options: { key: watched, wait: "20s" },
  });
  let changes = 0;
  watch.on("change", (data, res) => {
    changes++;
    if (changes === 1) {
      print("watching", { value: data.Value, index: res.headers["x-consul-index"] });
      return;
    }
    print("changed", { value: data.Value, index: res.headers["x-consul-index"], calls });
    watch.end();
  });
  watch.on("error", (err) => {
    print("error", { message: String(err && err.message) });
    watch.end();
    process.exitCode = 1;
  });
  await new Promise((resolve) => watch.on("end", resolve));
  consul.destroy();
}

main().catch((err) => {
  print("error", { message: String(err && err.stack) });
  process.exit(1);
});
