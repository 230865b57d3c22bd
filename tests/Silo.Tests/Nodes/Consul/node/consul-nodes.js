// Drives a silo's Consul node endpoints with the consul npm client and prints one JSON line per step for
// ConsulNodesClientTests.
//   node consul-nodes.js <port> <alive node> <failed node> <left node> <event name>
// After the "watching" line it waits for the test to fire <event name>-wake, then prints "changed" and exits.
"use strict";

const Consul = require("consul");

const [port, alive, failed, left, eventName] = [Number(process.argv[2]), ...process.argv.slice(3, 7)];
if (!port || !alive || !failed || !left || !eventName) {
  console.error("usage: node consul-nodes.js <port> <alive node> <failed node> <left node> <event name>");
  process.exit(2);
}

const consul = new Consul({ host: "127.0.0.1", port });
const print = (step, fields) => console.log(JSON.stringify({ step, ...fields }));
const mine = (list, key) => list.filter((x) => [alive, failed, left].includes(x[key]));

async function main() {
  print("members", { members: mine(await consul.agent.members(), "Name") });
  print("catalog", { nodes: mine(await consul.catalog.node.list(), "Node") });
  print("healthAlive", { checks: await consul.health.node(alive) });
  print("healthFailed", { checks: await consul.health.node(failed) });
  print("healthLeft", { checks: await consul.health.node(left) });
  print("critical", { checks: mine(await consul.health.state("critical"), "Node") });
  print("warning", { checks: mine(await consul.health.state("warning"), "Node") });
  print("any", { checks: mine(await consul.health.state("any"), "Node") });

  const fired = await consul.event.fire({ name: eventName, payload: "v42" });
  print("fired", { event: fired });
  print("listed", { events: await consul.event.list({ name: eventName }) });

  // A watch on the event list: its first answer, then one that the test's event wakes.
  let calls = 0;
  const list = consul.event.list.bind(consul.event);
  const watch = consul.watch({
    method: (opts) => {
      calls++;
      return list(opts);
    },
    options: { name: `${eventName}-wake`, wait: "30s" },
  });
  await new Promise((resolve, reject) => {
    let changes = 0;
    watch.on("change", (data, res) => {
      changes++;
      const index = res.headers["x-consul-index"];
      if (changes === 1) {
        print("watching", { events: data, index });
      } else {
        print("changed", { events: data, index, calls });
        watch.end();
        resolve();
      }
    });
    watch.on("error", (err) => {
      watch.end();
      reject(err);
    });
  });
}

main().catch((err) => {
  print("error", { message: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});
