// Runs one call of the consul npm client's agent and event API against a silo and prints its answer as one JSON line,
// for AgentProcessTtlTests and ConsulEventFilterTests.
//   node consul-agent.js <port> pass <check id> <note>
//   node consul-agent.js <port> fire <name> <payload> <node filter> <tag filter>   ("" for no filter)
//   node consul-agent.js <port> list <name>
"use strict";

const Consul = require("consul");

const [port, command, ...args] = [Number(process.argv[2]), ...process.argv.slice(3)];
const consul = new Consul({ host: "127.0.0.1", port });

async function main() {
  switch (command) {
    case "pass":
      return await consul.agent.check.pass({ id: args[0], note: args[1] });
    case "fire": {
      const options = { name: args[0], payload: args[1] };
      if (args[2]) options.node = args[2];
      if (args[3]) options.tag = args[3];
      return await consul.event.fire(options);
    }
    case "list":
      return await consul.event.list({ name: args[0] });
    default:
      throw new Error(`unknown command '${command}'; expected pass, fire or list`);
  }
}

main().then(
  (answer) => console.log(JSON.stringify({ ok: true, answer: answer === undefined ? null : answer })),
  (err) => {
    console.log(JSON.stringify({ ok: false, status: err.response ? err.response.statusCode : null, message: String(err.message || err) }));
    process.exit(1);
  },
);
