// Scenario "refresh": refresh tokens with a short access lifetime (MX_ACCESS_LIFETIME_MS).
// The SDK's register asks for a refresh token by itself; a login asks with
// refresh_token: true. Once the access token has expired, a client created with
// tokenRefreshFunction refreshes on the 401 by itself and retries. A refresh token stays
// usable until the pair it was exchanged for is used (a retry after a lost answer works)
// and is refused after; logout and logout/all end the refresh tokens of their devices.

import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { AuthType, Method } from "matrix-js-sdk";
import {
  anonClient, checkCreds, checkTokenDead, checkWhoami, clientFor, describe, env,
  expectChallenge, expectMatrixError, loginWithPassword, userIdOf,
} from "../lib.mjs";

const localpart = "js-refresh";
const password = "Js-SDK refresh password 1!";

/** checkRefreshFields fails unless an answer carries a refresh token and a lifetime. */
function checkRefreshFields(resp, lifetimeMs, what) {
  assert.equal(typeof resp.refresh_token, "string", `${what}: refresh_token`);
  assert.ok(resp.refresh_token.length > 0, `${what}: empty refresh_token`);
  assert.ok(Number.isInteger(resp.expires_in_ms), `${what}: expires_in_ms ` +
    JSON.stringify(resp.expires_in_ms));
  assert.ok(resp.expires_in_ms > 0 && resp.expires_in_ms <= lifetimeMs,
    `${what}: expires_in_ms ${resp.expires_in_ms} not in (0, ${lifetimeMs}]`);
}

export default async function refresh(steps) {
  const user = userIdOf(localpart);
  const lifetimeMs = env.accessLifetimeMs;

  await steps.run("register with the SDK's register, which asks for a refresh token",
    async () => {
      const anon = anonClient();
      const challenge = await expectChallenge(
        anon.register(localpart, password, null, undefined),
        [AuthType.RegistrationToken], "register without auth");
      const auth = { type: AuthType.RegistrationToken, token: env.regToken };
      const creds = await anon.register(localpart, password, challenge.session, auth);
      checkCreds(creds, user, "register");
      checkRefreshFields(creds, lifetimeMs, "register");
    });

  await steps.run("a login without refresh_token gets no refresh fields", async () => {
    const creds = await loginWithPassword(localpart, password);
    assert.equal(creds.refresh_token, undefined, "refresh_token without asking");
    assert.equal(creds.expires_in_ms, undefined, "expires_in_ms without asking");
  });

  const login = await steps.run("log in with refresh_token: true", async () => {
    const creds = await loginWithPassword(localpart, password, { refresh_token: true });
    checkCreds(creds, user, "login");
    checkRefreshFields(creds, lifetimeMs, "login");
    return creds;
  });

  // The SDK calls tokenRefreshFunction when a request gets M_UNKNOWN_TOKEN and the
  // client has a refresh token; like a real app, it refreshes with a credential-less
  // client of its own.
  const refreshes = [];
  const tokenRefreshFunction = async (refreshToken) => {
    const resp = await anonClient().refreshToken(refreshToken);
    refreshes.push({ old: refreshToken, resp });
    return {
      accessToken: resp.access_token,
      refreshToken: resp.refresh_token ?? refreshToken,
      expiry: resp.expires_in_ms ? new Date(Date.now() + resp.expires_in_ms) : undefined,
    };
  };
  const client = clientFor(login, { refreshToken: login.refresh_token,
    tokenRefreshFunction });

  await steps.run("whoami works before the access token expires", async () => {
    await checkWhoami(client, user, login.device_id, "fresh access token");
    assert.equal(refreshes.length, 0, "a refresh before the token expired");
  });

  const expired = await steps.run("the access token expires", async () => {
    await sleep(lifetimeMs + 1000);
    const err = await checkTokenDead(clientFor(login), "whoami with the expired token");
    return { soft_logout: err.data.soft_logout ?? null };
  });

  const pair2 = await steps.run("the SDK refreshes by itself, and whoami works", async () => {
    await checkWhoami(client, user, login.device_id, "after the SDK's refresh");
    assert.equal(refreshes.length, 1, "tokenRefreshFunction calls");
    const resp = refreshes[0].resp;
    assert.equal(refreshes[0].old, login.refresh_token, "the refresh token it used");
    assert.notEqual(resp.access_token, login.access_token, "a new access token");
    assert.equal(client.getAccessToken(), resp.access_token, "the client's token");
    assert.notEqual(resp.refresh_token, login.refresh_token,
      "the server handed back the same refresh token");
    checkRefreshFields(resp, lifetimeMs, "refresh");
    return resp;
  });

  const pair3 = await steps.run("a refresh may be retried until its answer is used",
    async () => {
      // The first try goes through a client that still sends the first, expired access
      // token, as an app that refreshes with its own client does: /refresh must go by
      // the refresh token alone.
      const stale = clientFor(login);
      const lost = await stale.refreshToken(pair2.refresh_token);
      assert.equal(typeof lost.access_token, "string", "first refresh");
      const retried = await anonClient().refreshToken(pair2.refresh_token);
      checkRefreshFields(retried, lifetimeMs, "retried refresh");
      assert.notEqual(retried.refresh_token, lost.refresh_token, "the retry's refresh token");
      await checkWhoami(clientFor({ ...login, access_token: retried.access_token }), user,
        login.device_id, "the retried refresh's access token");
      return retried;
    });

  // The server answers a replaced refresh token that comes back after its successor
  // was used by ending the device's sessions (a stolen chain); the spec only asks for
  // the refusal, so what happens to the device is reported, not checked.
  const reuse = await steps.run("replaced refresh tokens are refused once the new pair is used",
    async () => {
      const anon = anonClient();
      await expectMatrixError(anon.refreshToken(pair2.refresh_token), 401, "M_UNKNOWN_TOKEN",
        "refresh with a token whose successor was used");
      await expectMatrixError(anon.refreshToken(login.refresh_token), 401, "M_UNKNOWN_TOKEN",
        "refresh with the first, replaced refresh token");
      const current = clientFor({ ...login, access_token: pair3.access_token });
      return current.whoami().then(() => "kept", (err) => describe(err));
    });

  await steps.run("logout ends the device's refresh token too", async () => {
    const creds = await loginWithPassword(localpart, password, { refresh_token: true });
    checkRefreshFields(creds, lifetimeMs, "login before logout");
    assert.deepEqual(await clientFor(creds).logout(), {});
    await checkTokenDead(clientFor(creds), "whoami after logout");
    await expectMatrixError(anonClient().refreshToken(creds.refresh_token), 401,
      "M_UNKNOWN_TOKEN", "refresh after logout");
  });

  await steps.run("logout/all ends every device's refresh token", async () => {
    const one = await loginWithPassword(localpart, password, { refresh_token: true });
    const two = await loginWithPassword(localpart, password, { refresh_token: true });
    const cli = clientFor(one);
    assert.deepEqual(await cli.http.authedRequest(Method.Post, "/logout/all"), {});
    for (const [name, creds] of [["one", one], ["two", two]]) {
      await checkTokenDead(clientFor(creds), `whoami on device ${name} after logout/all`);
      await expectMatrixError(anonClient().refreshToken(creds.refresh_token), 401,
        "M_UNKNOWN_TOKEN", `refresh of device ${name} after logout/all`);
    }
  });

  return { user_id: user, device_id: login.device_id, access_lifetime_ms: lifetimeMs,
    sdk_refreshes: refreshes.length, expired_token_soft_logout: expired.soft_logout,
    device_after_refresh_token_reuse: reuse };
}
