// The same-machine anchors of `make bench-pg` (bench/pg_run): graphile-worker and pg-boss from npm draining TASKS
// no-op jobs with PROCS worker processes, against URL. graphile-worker runs with concurrency 1 and no batching, as
// OOS does. pg-boss fetches batchSize jobs per fetch and waits its polling interval (0.5 s at least) after every
// fetch, even one that found jobs: with a batch of 1 it would run 2 jobs per second per process, so it gets a batch of
// 100 (its way to run many jobs), handled one after another.
//   node pg_anchors.js SYSTEM URL TASKS PROCS    prints "TASKS_PER_SECOND"
//   node pg_anchors.js SYSTEM URL --work         one worker process (started by the first form)
"use strict";
const { fork } = require("child_process");
const { Client } = require("pg");

const [system, url, third, fourth] = process.argv.slice(2);

const systems = {
  "graphile-worker": {
    async prepare(tasks) {
      const { makeWorkerUtils } = require("graphile-worker");
      const utils = await makeWorkerUtils({ connectionString: url });
      await utils.migrate();
      for (let done = 0; done < tasks; done += 10000) {
        const batch = Array.from({ length: Math.min(10000, tasks - done) }, () => ({ identifier: "bench", payload: {} }));
        await utils.addJobs(batch);
      }
      await utils.release();
    },
    remaining: "SELECT count(*) AS n FROM graphile_worker.jobs",
    async work() {
      const { run } = require("graphile-worker");
      await run({ connectionString: url, concurrency: 1, noHandleSignals: true, pollInterval: 2000,
                  taskList: { bench: async () => {} } });
    },
  },
  "pg-boss": {
    async prepare(tasks) {
      const PgBoss = require("pg-boss");
      const boss = new PgBoss(url);
      await boss.start();
      await boss.createQueue("bench");
      for (let done = 0; done < tasks; done += 10000) {
        const batch = Array.from({ length: Math.min(10000, tasks - done) }, () => ({ name: "bench", data: {} }));
        await boss.insert(batch);
      }
      await boss.stop({ graceful: false, wait: true });
    },
    remaining: "SELECT count(*) AS n FROM pgboss.job WHERE name = 'bench' AND state IN ('created', 'retry', 'active')",
    async work() {
      const PgBoss = require("pg-boss");
      const boss = new PgBoss(url);
      await boss.start();
      await boss.work("bench", { batchSize: 100, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        for (const job of jobs) void job;
      });
    },
  },
};

async function main() {
  const s = systems[system];
  if (!s) throw new Error(`unknown system ${system}`);
  if (third === "--work") return s.work();
  const tasks = Number(third);
  const procs = Number(fourth);
  await s.prepare(tasks);
  const client = new Client({ connectionString: url });
  await client.connect();
  const start = process.hrtime.bigint();
  const children = Array.from({ length: procs }, () => fork(__filename, [system, url, "--work"], { stdio: "ignore" }));
  for (;;) {
    const { rows } = await client.query(s.remaining);
    if (Number(rows[0].n) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (const child of children) child.kill("SIGKILL");
  await client.end();
  console.log(Math.round(tasks / seconds));
}

main().catch((e) => {
  console.error(`bench/pg_anchors.js ${system}: ${e.message}`);
  process.exit(1);
});
