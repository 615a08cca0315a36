// Helpers shared by the scenarios: the inputs from the environment, clients made with
// matrix-js-sdk, and checks of the answers that the SDK hands back or rejects with.
//
// Every request goes through the SDK's own methods; where it has none (POST /logout/all,
// the errcode of GET /register/available) it goes through the SDK's HTTP layer,
// client.http, so the SDK still builds the URL, the headers and the error.

import assert from "node:assert/strict";
import * as sdk from "matrix-js-sdk";

/** ScenarioError is a failure with a message written for the person reading the log. */
export class ScenarioError extends Error {
  name = "ScenarioError";
}

/** requireEnv returns the environment variable name, or fails when it is unset or empty. */
function requireEnv(name, what) {
  const value = process.env[name];
  if (!value) {
    throw new ScenarioError(`environment variable ${name} (${what}) is not set`);
  }
  return value;
}

/** env holds the inputs that the Go test (or a person) passes in the environment. */
export const env = {
  /** The server's base URL, http://127.0.0.1:PORT, without a trailing slash. */
  get baseUrl() {
    return requireEnv("MX_BASE_URL", "the server's base URL").replace(/\/+$/, "");
  },
  /** A registration token with enough uses for the scenario. */
  get regToken() {
    return requireEnv("MX_REG_TOKEN", "a registration token of the server");
  },
  /** The server name in the user IDs the server makes. */
  get serverName() {
    return process.env.MX_SERVER_NAME || "localhost";
  },
  /** The configured lifetime of access tokens that come with a refresh token. */
  get accessLifetimeMs() {
    const raw = requireEnv("MX_ACCESS_LIFETIME_MS", "tokens.access_lifetime in ms");
    const ms = Number(raw);
    if (!Number.isInteger(ms) || ms <= 0) {
      throw new ScenarioError(`MX_ACCESS_LIFETIME_MS=${raw} is not a positive integer`);
    }
    return ms;
  },
};

/** userIdOf returns the full user ID of localpart on the server under test. */
export function userIdOf(localpart) {
  return `@${localpart}:${env.serverName}`;
}

/** anonClient returns an SDK client of the server without credentials. */
export function anonClient() {
  return sdk.createClient({ baseUrl: env.baseUrl });
}

/**
 * clientFor returns an SDK client that acts with the credentials of a login or
 * registration answer; extra goes to createClient as it is (refreshToken,
 * tokenRefreshFunction).
 */
export function clientFor(creds, extra = {}) {
  return sdk.createClient({
    baseUrl: env.baseUrl,
    userId: creds.user_id,
    deviceId: creds.device_id,
    accessToken: creds.access_token,
    ...extra,
  });
}

/**
 * passwordAuth is the auth dict of the m.login.password stage with an m.id.user
 * identifier; session is left out when it is undefined.
 */
export function passwordAuth(user, password, session) {
  const auth = {
    type: sdk.AuthType.Password,
    identifier: { type: "m.id.user", user },
    password,
  };
  if (session !== undefined) {
    auth.session = session;
  }
  return auth;
}

/** passwordLogin is the body of an m.login.password login with an m.id.user identifier. */
export function passwordLogin(user, password, extra = {}) {
  return {
    type: "m.login.password",
    identifier: { type: "m.id.user", user },
    password,
    ...extra,
  };
}

/** describe renders an error for a failure message, with the Matrix answer if any. */
export function describe(err) {
  if (err instanceof sdk.MatrixError) {
    return `MatrixError HTTP ${err.httpStatus} ${err.errcode ?? "(no errcode)"}: ` +
      JSON.stringify(err.data);
  }
  if (err instanceof Error) {
    return `${err.name}: ${err.message}`;
  }
  return String(err);
}

/**
 * expectMatrixError waits for promise and returns the MatrixError it rejects with; it
 * fails unless the promise rejects with an answer of status whose errcode is one of
 * errcodes (a string or an array).
 */
export async function expectMatrixError(promise, status, errcodes, what) {
  const wanted = [errcodes].flat();
  let result;
  try {
    result = await promise;
  } catch (err) {
    assert.ok(err instanceof sdk.MatrixError,
      `${what}: want HTTP ${status} ${wanted.join(" or ")}, got ${describe(err)}`);
    assert.equal(err.httpStatus, status,
      `${what}: want HTTP ${status} ${wanted.join(" or ")}, got ${describe(err)}`);
    assert.ok(wanted.includes(err.errcode),
      `${what}: want errcode ${wanted.join(" or ")}, got ${describe(err)}`);
    return err;
  }
  assert.fail(`${what}: want HTTP ${status} ${wanted.join(" or ")}, got success ` +
    JSON.stringify(result));
}

/**
 * expectChallenge waits for promise, which must reject with the 401 UIA body of a fresh
 * session that offers a flow of exactly stages, and returns that body.
 */
export async function expectChallenge(promise, stages, what) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    assert.ok(err instanceof sdk.MatrixError && err.httpStatus === 401,
      `${what}: want the 401 UIA challenge, got ${describe(err)}`);
    const body = err.data;
    assert.ok(Array.isArray(body.flows),
      `${what}: the 401 body has no flows: ${JSON.stringify(body)}`);
    assert.ok(body.flows.some((f) => sameList(f.stages, stages)),
      `${what}: no flow [${stages}] in ${JSON.stringify(body.flows)}`);
    assert.equal(typeof body.session, "string",
      `${what}: the 401 body has no session: ${JSON.stringify(body)}`);
    assert.ok(body.session.length > 0, `${what}: the session is empty`);
    assert.ok(!body.completed || body.completed.length === 0,
      `${what}: a fresh session has completed stages: ${JSON.stringify(body)}`);
    return body;
  }
  assert.fail(`${what}: want the 401 UIA challenge, got success ${JSON.stringify(result)}`);
}

/**
 * expectStageRetry waits for promise, which must reject with the 401 UIA body of
 * session that tells of a failed stage with errcode, and returns that body.
 */
export async function expectStageRetry(promise, session, errcode, what) {
  const err = await expectMatrixError(promise, 401, errcode, what);
  assert.equal(err.data.session, session,
    `${what}: the retry body names another session: ${JSON.stringify(err.data)}`);
  assert.ok(Array.isArray(err.data.flows),
    `${what}: the retry body has no flows: ${JSON.stringify(err.data)}`);
  return err.data;
}

function sameList(a, b) {
  return Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** checkCreds fails unless a login or registration answer is for user with a device. */
export function checkCreds(creds, user, what) {
  assert.equal(creds.user_id, user, `${what}: user_id`);
  assert.equal(typeof creds.access_token, "string", `${what}: access_token`);
  assert.ok(creds.access_token.length > 0, `${what}: empty access_token`);
  assert.equal(typeof creds.device_id, "string", `${what}: device_id`);
  assert.ok(creds.device_id.length > 0, `${what}: empty device_id`);
}

/**
 * registerWithToken registers localpart through UIA with the registration token of the
 * environment, using registerRequest: the request without auth must get the challenge
 * that offers [m.login.registration_token], the second completes it. extra goes into
 * both request bodies. It returns the registration answer.
 */
export async function registerWithToken(localpart, password, extra = {}) {
  const anon = anonClient();
  const body = { username: localpart, password, ...extra };

  const challenge = await expectChallenge(anon.registerRequest(body),
    [sdk.AuthType.RegistrationToken], `register ${localpart} without auth`);

  const auth = {
    type: sdk.AuthType.RegistrationToken,
    token: env.regToken,
    session: challenge.session,
  };
  const creds = await anon.registerRequest({ ...body, auth });
  checkCreds(creds, userIdOf(localpart), `register ${localpart}`);
  return creds;
}

/** loginWithPassword logs user in with loginRequest and returns the answer. */
export async function loginWithPassword(user, password, extra = {}) {
  const creds = await anonClient().loginRequest(passwordLogin(user, password, extra));
  assert.equal(typeof creds.access_token, "string", `log in as ${user}: access_token`);
  return creds;
}

/**
 * checkWhoami fails unless whoami through client answers for user on device.
 */
export async function checkWhoami(client, user, device, what) {
  const me = await client.whoami();
  assert.equal(me.user_id, user, `${what}: whoami user_id`);
  assert.equal(me.device_id, device, `${what}: whoami device_id`);
  assert.notEqual(me.is_guest, true, `${what}: whoami says is_guest`);
  return me;
}

/**
 * checkTokenDead fails unless whoami through client is refused with 401
 * M_UNKNOWN_TOKEN, and returns the error.
 */
export async function checkTokenDead(client, what) {
  return expectMatrixError(client.whoami(), 401, "M_UNKNOWN_TOKEN", what);
}

/**
 * withInteractiveAuth runs request through the SDK's own UIA driver, InteractiveAuth.
 * Each time the driver asks for a stage, the next of answers is submitted (an auth dict
 * without session: the driver adds it). It returns the request's result and the list of
 * {stage, status} the driver reported, so that a scenario can check how a failed stage
 * was reported.
 */
export async function withInteractiveAuth(client, request, answers) {
  const updates = [];
  const queue = [...answers];
  let ia;
  const failed = new Promise((_, reject) => {
    ia = new sdk.InteractiveAuth({
      matrixClient: client,
      doRequest: (auth) => request(auth ?? undefined),
      stateUpdated: (stage, status) => {
        updates.push({ stage, status: { ...status } });
        const next = queue.shift();
        if (next === undefined) {
          reject(new ScenarioError("InteractiveAuth asked for one stage more than " +
            `planned: ${JSON.stringify(updates)}`));
          return;
        }
        // Submit after the driver has finished handling the answer that asked.
        setImmediate(() => ia.submitAuthDict(next).catch(reject));
      },
      requestEmailToken: () => Promise.reject(new ScenarioError("no email stage here")),
    });
  });
  const result = await Promise.race([ia.attemptAuth(), failed]);
  return { result, updates };
}

/** Steps runs the named steps of a scenario one after the other and remembers them. */
export class Steps {
  constructor() {
    this.done = [];
    this.current = "(before the first step)";
  }

  /** run runs fn as the step name and returns what it returns. */
  async run(name, fn) {
    this.current = name;
    const value = await fn();
    this.done.push(name);
    return value;
  }
}
