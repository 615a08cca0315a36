// Scenario "deactivate": deactivateAccount, with erase, through the SDK's UIA driver,
// InteractiveAuth, with a wrong password first; afterwards every token is dead, the
// password no longer logs in, and the name stays taken for good.

import assert from "node:assert/strict";
import { AuthType, Method } from "matrix-js-sdk";
import {
  anonClient, checkTokenDead, checkWhoami, clientFor, env, expectChallenge,
  expectMatrixError, expectStageRetry, loginWithPassword, passwordAuth, passwordLogin,
  registerWithToken, userIdOf, withInteractiveAuth,
} from "../lib.mjs";

const localpart = "js-deactivate";
const password = "Js-SDK deactivate password 1!";

/** checkNameTaken fails unless localpart is taken: false from isUsernameAvailable, and
 * 400 M_USER_IN_USE from GET /register/available itself. */
async function checkNameTaken(what) {
  const anon = anonClient();
  assert.equal(await anon.isUsernameAvailable(localpart), false,
    `${what}: isUsernameAvailable`);
  await expectMatrixError(
    anon.http.request(Method.Get, "/register/available", { username: localpart }),
    400, "M_USER_IN_USE", `${what}: GET /register/available`);
}

export default async function deactivate(steps) {
  const user = userIdOf(localpart);

  await steps.run("the name is free before registration", async () => {
    assert.equal(await anonClient().isUsernameAvailable(localpart), true);
  });

  const reg = await steps.run("register and log in a second device", async () => {
    const creds = await registerWithToken(localpart, password);
    const other = await loginWithPassword(localpart, password);
    return { creds, other };
  });
  const main = clientFor(reg.creds);

  await steps.run("the name is taken after registration", () =>
    checkNameTaken("after registration"));

  await steps.run("a wrong password does not deactivate", async () => {
    const challenge = await expectChallenge(main.deactivateAccount(),
      ["m.login.password"], "deactivateAccount without auth");
    const wrong = passwordAuth(user, "not the password", challenge.session);
    await expectStageRetry(main.deactivateAccount(wrong), challenge.session, "M_FORBIDDEN",
      "deactivateAccount with a wrong password");
    await checkWhoami(main, user, reg.creds.device_id, "after the refused deactivation");
  });

  const uia = await steps.run("deactivateAccount with erase through InteractiveAuth",
    async () => {
      const { result, updates } = await withInteractiveAuth(main,
        (auth) => main.deactivateAccount(auth, true),
        [passwordAuth(user, "still not the password"), passwordAuth(user, password)]);
      assert.deepEqual(result, { id_server_unbind_result: "success" },
        "nothing was bound, so unbinding is a success");
      assert.deepEqual(updates, [
        { stage: "m.login.password", status: {} },
        { stage: "m.login.password", status: { errcode: "M_FORBIDDEN",
          error: updates[1]?.status?.error } },
      ], "what InteractiveAuth reported: the stage, then the failed attempt");
      return updates;
    });

  await steps.run("every token of the account is dead", async () => {
    await checkTokenDead(main, "whoami on the deactivating device");
    await checkTokenDead(clientFor(reg.other), "whoami on the other device");
  });

  const refused = await steps.run("login is refused with 403", async () => {
    const err = await expectMatrixError(
      anonClient().loginRequest(passwordLogin(localpart, password)), 403,
      ["M_USER_DEACTIVATED", "M_FORBIDDEN"], "login after deactivation");
    return err.errcode;
  });

  await steps.run("the name stays taken", () => checkNameTaken("after deactivation"));

  await steps.run("registering the name again is 400 M_USER_IN_USE", async () => {
    // The server may check the name before or after the UIA stages; either way the
    // answer that ends the attempt must be M_USER_IN_USE.
    const anon = anonClient();
    const body = { username: localpart, password };
    let first;
    try {
      first = await anon.registerRequest(body);
    } catch (err) {
      first = err;
    }
    if (first?.httpStatus === 401 && first.data?.session) {
      const auth = { type: AuthType.RegistrationToken, token: env.regToken,
        session: first.data.session };
      await expectMatrixError(anon.registerRequest({ ...body, auth }), 400, "M_USER_IN_USE",
        "register the deactivated name with the token stage");
    } else {
      await expectMatrixError(Promise.reject(first), 400, "M_USER_IN_USE",
        "register the deactivated name");
    }
  });

  return { user_id: user, login_errcode: refused, uia_updates: uia };
}
