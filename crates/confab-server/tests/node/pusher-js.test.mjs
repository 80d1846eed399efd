// confab-server against the real pusher-js client (Node build), acting as a second user.
//
// Starts `confab-server demo` (a fresh database, Sockudo as a child process, users with printed
// passwords) on a free loopback port, logs in as Grace, and connects pusher-js with the
// standard `channelAuthorization` request (form-urlencoded socket_id + channel_name, bearer
// token header). Ada acts over REST. Signed in as users (`userAuthentication`), pusher-js sockets
// are cut off by logout, by a password change made on another device, and by an administrator's
// `confab-server users disable` (run with the demo's printed admin settings).
//
// Run with ./run.sh (installs pusher-js and builds the server first).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Pusher from "pusher-js";

const BIN = process.env.CONFAB_SERVER_BIN;
const WAIT_MS = 15000;

let server;
let base;
let demo;

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function startDemo() {
  assert.ok(BIN, "set CONFAB_SERVER_BIN to the confab-server binary (run.sh does)");
  // Port 0: the kernel picks a free port and the demo prints the real address first. The
  // database in a directory of our own, so the account commands can be run against it.
  const dir = mkdtempSync(join(tmpdir(), "confab-pusher-js-"));
  const db = join(dir, "confab.db");
  const child = spawn(BIN, ["demo", "--bind", "127.0.0.1:0", "--db", db], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const ready = new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Press Ctrl-C")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`demo exited (${code}): ${out}\n${err}`)));
  });
  try {
    await withTimeout(ready, "the demo server to start");
  } catch (e) {
    child.kill("SIGTERM");
    throw e;
  }
  const address = out.match(/^Confab demo server on (http:\/\/127\.0\.0\.1:\d+)$/m);
  assert.ok(address, `the demo printed its address: ${out}`);
  const passwords = {};
  for (const m of out.matchAll(/^\s+(\S+@\S+)\s+password (\S+)/gm)) passwords[m[1]] = m[2];
  const admin = out.match(/^\s+admin:\s+set -a; \. (\S+);/m);
  assert.ok(admin, `the demo printed its admin settings: ${out}`);
  return { child, base: address[1], passwords, dir, db, adminEnv: admin[1] };
}

// `confab-server users --db <demo db> ARGS…` with the demo's PUSHER_* settings, as an operator
// runs it; resolves with its output.
function usersCommand(...args) {
  const env = { ...process.env };
  for (const line of readFileSync(demo.adminEnv, "utf8").split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return new Promise((resolve, reject) =>
    execFile(BIN, ["users", "--db", demo.db, ...args], { env }, (err, stdout, stderr) =>
      err ? reject(new Error(`users ${args.join(" ")}: ${err.message}\n${stderr}`)) : resolve(stdout)
    )
  );
}

async function api(token, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function login(email) {
  const { status, body } = await api(null, "POST", "/api/auth/login", {
    email,
    password: demo.passwords[email],
  });
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

function connect(token, config) {
  const p = config.pusher;
  return new Pusher(p.key, {
    cluster: p.cluster ?? "local",
    wsHost: p.host,
    wsPort: p.port,
    wssPort: p.port,
    forceTLS: p.useTLS,
    enabledTransports: ["ws"],
    disableStats: true,
    channelAuthorization: {
      endpoint: `${base}/api/pusher/auth`,
      transport: "ajax",
      headers: { Authorization: `Bearer ${token}` },
    },
  });
}

function subscribed(pusher, name) {
  const channel = pusher.subscribe(name);
  return withTimeout(
    new Promise((resolve, reject) => {
      channel.bind("pusher:subscription_succeeded", () => resolve(channel));
      channel.bind("pusher:subscription_error", (e) =>
        reject(Object.assign(new Error(`subscription to ${name} failed`), { status: e.status }))
      );
    }),
    `subscription to ${name}`
  );
}

function refused(pusher, name) {
  const channel = pusher.subscribe(name);
  return withTimeout(
    new Promise((resolve, reject) => {
      channel.bind("pusher:subscription_succeeded", () =>
        reject(new Error(`${name} was authorized but must not be`))
      );
      channel.bind("pusher:subscription_error", (e) => resolve(e));
    }),
    `refusal of ${name}`
  );
}

before(async () => {
  demo = await startDemo();
  server = demo.child;
  base = demo.base;
});

after(async () => {
  if (!server || server.exitCode !== null) return;
  // SIGTERM: the demo shuts down gracefully and stops its Sockudo; wait so nothing outlives us.
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  await withTimeout(exited, "the demo server to stop");
  rmSync(demo.dir, { recursive: true, force: true });
});

test("pusher-js as a second user authorizes its private channel, receives a knowledge request, and is refused others' channels", async () => {
  const ada = await login("ada@confab.local");
  const grace = await login("grace@confab.local");
  const { body: config } = await api(grace.token, "GET", "/api/config");
  assert.equal(config.pusher.useTLS, false);
  assert.equal(JSON.stringify(config).includes("secret"), false);

  const pusher = connect(grace.token, config);
  try {
    const own = await subscribed(pusher, `private-user-${grace.user.id}`);
    const received = withTimeout(
      new Promise((resolve) => own.bind("knowledge-request", resolve)),
      "knowledge-request"
    );
    const { status, body: request } = await api(ada.token, "POST", "/api/knowledge/request", {
      ownerId: grace.user.id,
      question: "Can you share the staging setup?",
    });
    assert.equal(status, 201);
    const event = await received;
    assert.deepEqual(event, {
      type: "knowledge-request",
      requestId: request.id,
      question: "Can you share the staging setup?",
      requesterName: ada.user.name,
      createdAt: request.createdAt,
      seq: request.seq,
    });

    const other = await refused(pusher, `private-user-${ada.user.id}`);
    assert.equal(other.status, 403);

    // The demo seeds a conversation of Linus and Ada only.
    const { body: adaRooms } = await api(ada.token, "GET", "/api/conversations");
    const foreign = adaRooms.find((c) => !c.memberIds.includes(grace.user.id));
    assert.ok(foreign, "a conversation Grace is not in");
    const room = await refused(pusher, `presence-chat-room-${foreign.id}`);
    assert.equal(room.status, 403);

    const mine = adaRooms.find((c) => c.memberIds.includes(grace.user.id));
    const presence = await subscribed(pusher, `presence-chat-room-${mine.id}`);
    assert.equal(presence.members.me.id, String(grace.user.id));
    assert.deepEqual(presence.members.me.info, { name: grace.user.name });
  } finally {
    pusher.disconnect();
  }
});

// A device of `email` (its own token) connected with pusher-js, signed in as the user
// (`userAuthentication` against /api/pusher/user-auth) and subscribed to its private channel.
async function signedInDevice(email) {
  const session = await login(email);
  const { body: config } = await api(session.token, "GET", "/api/config");
  const pusher = new Pusher(config.pusher.key, {
    cluster: config.pusher.cluster ?? "local",
    wsHost: config.pusher.host,
    wsPort: config.pusher.port,
    wssPort: config.pusher.port,
    forceTLS: config.pusher.useTLS,
    enabledTransports: ["ws"],
    disableStats: true,
    channelAuthorization: {
      endpoint: `${base}/api/pusher/auth`,
      transport: "ajax",
      headers: { Authorization: `Bearer ${session.token}` },
    },
    userAuthentication: {
      endpoint: `${base}/api/pusher/user-auth`,
      transport: "ajax",
      headers: { Authorization: `Bearer ${session.token}` },
    },
  });
  pusher.signin();
  await withTimeout(pusher.user.signinDonePromise, "the sign-in of the socket");
  assert.equal(pusher.user.user_data?.id, String(session.user.id), "signed in as the user");
  const own = await subscribed(pusher, `private-user-${session.user.id}`);
  return { session, pusher, own };
}

// Ada asks `owner` something; resolves with the event `channel` receives.
async function askAndReceive(ada, owner, channel, question) {
  const received = withTimeout(
    new Promise((resolve) => channel.bind("knowledge-request", resolve)),
    `the knowledge request "${question}"`
  );
  const { status } = await api(ada.token, "POST", "/api/knowledge/request", {
    ownerId: owner.id,
    question,
  });
  assert.equal(status, 201);
  return received;
}

// Until `revoke` runs, the signed-in device receives; within a second after, its connection is
// closed by the server, and when pusher-js reconnects its sign-in is refused (401).
async function revocationReachesTheSocket(email, revoke) {
  const ada = await login("ada@confab.local");
  const device = await signedInDevice(email);
  try {
    const event = await askAndReceive(ada, device.session.user, device.own, `Before (${email})?`);
    assert.equal(event.question, `Before (${email})?`, "it receives while the session holds");

    const closed = new Promise((resolve) =>
      device.pusher.connection.bind("state_change", ({ previous, current }) => {
        if (previous === "connected" && current !== "connected") resolve(performance.now());
      })
    );
    const started = performance.now();
    await revoke(device.session);
    const at = await withTimeout(closed, "the server closing the socket");
    const took = at - started;
    assert.ok(took < 1000, `closed ${Math.round(took)} ms after the revocation`);

    // Re-authorization is refused: the socket's sign-in and its channel both answer 401.
    const form = (fields) =>
      fetch(`${base}${fields.channel_name ? "/api/pusher/auth" : "/api/pusher/user-auth"}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${device.session.token}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams(fields).toString(),
      });
    assert.equal((await form({ socket_id: "1234.5678" })).status, 401);
    assert.equal(
      (await form({ socket_id: "1234.5678", channel_name: `private-user-${device.session.user.id}` }))
        .status,
      401
    );
    // And when pusher-js connects again (the user reopens it), its sign-in is refused.
    const refusedSignin = new Promise((resolve) =>
      device.pusher.user.bind("pusher:signin_error", resolve)
    );
    device.pusher.connect();
    const error = await withTimeout(refusedSignin, "the refused sign-in after reconnecting");
    assert.equal(error.status, 401, JSON.stringify(error));
    console.log(`${email}: socket closed ${Math.round(took)} ms after the revocation; sign-in refused`);
  } finally {
    device.pusher.disconnect();
  }
}

test("pusher-js signed in as a user is cut off within a second of logging out, and its sign-in is refused", async () => {
  await revocationReachesTheSocket("grace@confab.local", async (session) => {
    const { status } = await api(session.token, "POST", "/api/auth/logout");
    assert.equal(status, 204);
  });
});

test("pusher-js signed in on another device is cut off within a second of a password change there", async () => {
  const email = "linus@confab.local";
  await revocationReachesTheSocket(email, async () => {
    // The change is made from another device: this one's token is revoked, that one's kept.
    const other = await login(email);
    const { status, body } = await api(other.token, "POST", "/api/account/password", {
      currentPassword: demo.passwords[email],
      newPassword: "a brand new passphrase",
    });
    assert.equal(status, 204, JSON.stringify(body));
    demo.passwords[email] = "a brand new passphrase";
  });
});

// Last: Grace stays disabled.
test("pusher-js signed in as a user is cut off within a second of an administrator's users disable", async () => {
  await revocationReachesTheSocket("grace@confab.local", async () => {
    const out = await usersCommand("disable", "--email", "grace@confab.local");
    assert.match(out, /live connections closed/, out);
  });
  const { status } = await api(null, "POST", "/api/auth/login", {
    email: "grace@confab.local",
    password: demo.passwords["grace@confab.local"],
  });
  assert.equal(status, 401, "a disabled user cannot sign in");
});
