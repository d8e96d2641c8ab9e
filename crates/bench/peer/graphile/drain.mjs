// B1's peer (docs/benchmarks.md): graphile-worker, the best-known SQL job queue, draining the
// same number of no-op jobs at the same concurrency on the machine's PostgreSQL, with its
// default settings (no local queue, no batched completion: "unbatched").
//
//   node drain.mjs <postgres admin URL> <jobs> <concurrency>
//
// Creates a fresh database next to the admin one, queues the jobs with add_jobs, starts one
// worker, and prints {"jobs", "seconds", "jobs_per_second", "version"} once none is left.

import pg from "pg";
import { Logger, run, makeWorkerUtils } from "graphile-worker";
import { readFileSync } from "node:fs";

const [adminUrl, jobsArg, concurrencyArg] = process.argv.slice(2);
const jobs = Number(jobsArg ?? 100000);
const concurrency = Number(concurrencyArg ?? 4);
const database = "tca_bench_graphile";

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${database}`);
await admin.query(`CREATE DATABASE ${database}`);
await admin.end();
const url = new URL(adminUrl);
url.pathname = `/${database}`;
const connectionString = url.toString();

// Quiet: a log line per job would measure the terminal, not the queue.
const logger = new Logger(() => () => {});
const utils = await makeWorkerUtils({ connectionString, logger });
await utils.migrate();
const chunk = 10000;
for (let added = 0; added < jobs; added += chunk) {
  const specs = [];
  for (let i = added; i < Math.min(jobs, added + chunk); i++) {
    specs.push({ identifier: "noop", payload: { i } });
  }
  await utils.addJobs(specs);
}

const left = async () =>
  Number(
    (
      await utils.withPgClient((client) =>
        client.query("SELECT count(*) AS n FROM graphile_worker.jobs"),
      )
    ).rows[0].n,
  );

const started = process.hrtime.bigint();
const runner = await run({
  connectionString,
  concurrency,
  noHandleSignals: true,
  pollInterval: 100,
  logger,
  taskList: { noop: async () => {} },
});
while ((await left()) > 0) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await runner.stop();
await utils.release();

const version = JSON.parse(
  readFileSync(new URL("./node_modules/graphile-worker/package.json", import.meta.url)),
).version;
console.log(
  JSON.stringify({ jobs, seconds, jobs_per_second: jobs / seconds, version, concurrency }),
);
