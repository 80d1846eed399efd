// pusher-js (its Node build) as one subscriber of Confab's client benchmark; the Rust
// counterpart is crates/pusher-channels/examples/bench_subscriber.rs, and both are started,
// fed and compared by crates/pusher-channels/examples/bench.rs.
//
// It connects to a local Pusher-protocol server over plain `ws`, subscribes to one public
// channel and speaks a line protocol on stdout:
//   READY           subscribed
//   WARM            `--warmup` events of `bench-warmup` seen; the first round's clocks start now
//   RESULT {json}   a round of `--events` events of `bench-event` is complete (the next round's
//                   clocks start right after it), or `--timeout-secs` passed; it exits after
//                   `--rounds` rounds
// Each event's data is `{"seq": n, "sent_us": <epoch microseconds at send>, ...}`: latency is
// receipt time minus `sent_us` (both processes share one machine, hence one clock).
//
// It never sends anything but what pusher-js sends by itself, and never prints anything else on
// stdout (diagnostics go to stderr).
//
// Usage: node bench-subscriber.mjs --key K --port P --channel C --events N [--rounds R]
//                                  [--warmup W] [--timeout-secs T]

import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import Pusher from 'pusher-js';

const args = parseArgs(process.argv.slice(2));
const key = required('key');
const port = Number(required('port'));
const channelName = required('channel');
const expected = Number(required('events'));
const rounds = Number(args.rounds ?? 1);
const warmup = Number(args.warmup ?? 0);
const timeoutSecs = Number(args['timeout-secs'] ?? 120);

// Everything lives in preallocated typed arrays so the measurement costs pusher-js nothing extra.
const latenciesUs = new Float64Array(expected);
let received = 0;
let warmSeen = 0;
let firstAt = 0;
let lastAt = 0;
let lastUs = 0; // epoch microseconds of the last receipt, for the orchestrator's clock
let cpuStart = null;
let roundsDone = 0;
let finished = false;

// Hard stop: report whatever arrived, never hang the orchestrator.
const deadline = setTimeout(() => {
  report('timed out');
  exit(1);
}, timeoutSecs * 1000);

const pusher = new Pusher(key, {
  cluster: 'local', // required by the type, unused with wsHost
  wsHost: '127.0.0.1',
  wsPort: port,
  forceTLS: false,
  enabledTransports: ['ws'],
});
pusher.connection.bind('error', (e) => console.error('pusher-js connection error:', JSON.stringify(e)));
pusher.connection.bind('state_change', ({ current }) => {
  if (current === 'failed' || current === 'unavailable') {
    console.error(`pusher-js connection ${current}`);
  }
});

const channel = pusher.subscribe(channelName);
channel.bind('pusher:subscription_error', (e) => {
  console.error('pusher-js subscription error:', JSON.stringify(e));
  report('subscription failed');
  exit(1);
});
channel.bind('pusher:subscription_succeeded', () => {
  line('READY');
  if (warmup === 0) {
    beginRound();
    line('WARM');
  }
});
channel.bind('bench-warmup', () => {
  warmSeen += 1;
  if (warmSeen === warmup) {
    beginRound();
    line('WARM');
  }
});
channel.bind('bench-event', (data) => {
  const now = performance.now();
  if (cpuStart === null || finished) return; // an event before WARM is a protocol error upstream
  if (received === 0) firstAt = now;
  lastAt = now;
  lastUs = epochMicros();
  latenciesUs[received] = lastUs - data.sent_us;
  received += 1;
  if (received === expected) {
    report(null);
    roundsDone += 1;
    if (roundsDone === rounds) exit(0);
    else beginRound();
  }
});

function beginRound() {
  received = 0;
  cpuStart = cpuSnapshot();
}

/** Prints the current round's RESULT line. */
function report(error) {
  // Stop the clocks before any bookkeeping of our own.
  const cpuEnd = cpuSnapshot();
  const start = cpuStart ?? cpuEnd;
  const lat = Array.from(latenciesUs.subarray(0, received)).sort((a, b) => a - b);
  const result = {
    client: 'pusher-js',
    version: `pusher-js ${readPusherVersion()} on Node ${process.version}`,
    expected,
    received,
    error,
    first_to_last_s: received > 1 ? (lastAt - firstAt) / 1000 : 0,
    last_us: lastUs,
    latency_p50_us: percentile(lat, 0.5),
    latency_p99_us: percentile(lat, 0.99),
    latency_max_us: lat.length ? lat[lat.length - 1] : 0,
    cpu_us: (cpuEnd.schedNs - start.schedNs) / 1000,
    cpu_usage_us: cpuEnd.usage.user + cpuEnd.usage.system - start.usage.user - start.usage.system,
    wakeups: cpuEnd.wakeups - start.wakeups,
    peak_rss_kib: peakRssKib(),
  };
  line(`RESULT ${JSON.stringify(result)}`);
}

function exit(code) {
  if (finished) return;
  finished = true;
  clearTimeout(deadline);
  pusher.disconnect();
  process.exitCode = code;
  // Exit once stdout has taken everything written so far.
  process.stdout.write('', () => process.exit(code));
}

/** CPU time of the whole process, two ways: the scheduler's nanosecond sum over every thread
 * (the same source the Rust subscriber reads) and Node's `process.cpuUsage()` (getrusage). */
function cpuSnapshot() {
  let schedNs = 0;
  for (const task of readdirSync('/proc/self/task')) {
    try {
      schedNs += Number(readFileSync(`/proc/self/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread exited between the listing and the read: its time is lost to both snapshots.
    }
  }
  return { schedNs, usage: process.cpuUsage(), wakeups: mainThreadWakeups() };
}

/** Voluntary context switches of the main thread (the one running JavaScript): how often it
 * went to sleep waiting for input, each time paying a wake-up. */
function mainThreadWakeups() {
  const m = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Nearest-rank percentile of a sorted array (the Rust subscriber uses the same rule). */
function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
}

function epochMicros() {
  return (performance.timeOrigin + performance.now()) * 1000;
}

function peakRssKib() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

function readPusherVersion() {
  try {
    const url = new URL('./node_modules/pusher-js/package.json', import.meta.url);
    return JSON.parse(readFileSync(url, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function line(text) {
  process.stdout.write(`${text}\n`);
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) {
      console.error(`bad argument ${argv[i]}`);
      process.exit(2);
    }
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

function required(name) {
  if (args[name] === undefined) {
    console.error(`missing --${name}`);
    process.exit(2);
  }
  return args[name];
}
