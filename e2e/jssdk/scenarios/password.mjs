// Scenario "password": change the password through UIA with setPassword, first with the
// default logout_devices (true), which must end every other session and keep the
// caller's, then with logout_devices false, which must keep them all.

import assert from "node:assert/strict";
import {
  anonClient, checkTokenDead, checkWhoami, clientFor, expectChallenge,
  expectMatrixError, expectStageRetry, loginWithPassword, passwordAuth, passwordLogin,
  registerWithToken, userIdOf,
} from "../lib.mjs";

const localpart = "js-password";
const firstPassword = "Js-SDK first password 1!";
const secondPassword = "Js-SDK second password 2!";
const thirdPassword = "Js-SDK third password 3!";

export default async function password(steps) {
  const user = userIdOf(localpart);

  const reg = await steps.run("register through the registration-token stage", () =>
    registerWithToken(localpart, firstPassword,
      { initial_device_display_name: "js-sdk first" }));
  const first = clientFor(reg);
  await steps.run("whoami on the first device", () =>
    checkWhoami(first, user, reg.device_id, "first device"));

  const other = await steps.run("log in a second device", async () => {
    const creds = await loginWithPassword(localpart, firstPassword,
      { initial_device_display_name: "js-sdk second" });
    assert.notEqual(creds.device_id, reg.device_id, "the second login reused a device");
    await checkWhoami(clientFor(creds), user, creds.device_id, "second device");
    return creds;
  });
  const second = clientFor(other);

  const challenge = await steps.run("setPassword without auth gets the challenge", () =>
    expectChallenge(first.setPassword(undefined, secondPassword), ["m.login.password"],
      "setPassword without auth"));

  await steps.run("a wrong password fails the stage and may be retried", async () => {
    const wrong = passwordAuth(user, "not the password", challenge.session);
    await expectStageRetry(first.setPassword(wrong, secondPassword), challenge.session,
      "M_FORBIDDEN", "setPassword with a wrong password");
  });

  await steps.run("setPassword with the password stage", async () => {
    const auth = passwordAuth(user, firstPassword, challenge.session);
    assert.deepEqual(await first.setPassword(auth, secondPassword), {});
  });

  await steps.run("the second device's token is dead", async () => {
    const err = await checkTokenDead(second, "whoami on the second device");
    assert.notEqual(err.data.soft_logout, true,
      "the second device was logged out for good, not softly: " + JSON.stringify(err.data));
  });

  await steps.run("the first device still works", () =>
    checkWhoami(first, user, reg.device_id, "first device after the change"));

  await steps.run("only the first device is left", async () => {
    const { devices } = await first.getDevices();
    assert.deepEqual(devices.map((d) => d.device_id), [reg.device_id],
      "devices after a change with logout_devices true");
  });

  await steps.run("the old password is refused with 403 M_FORBIDDEN", () =>
    expectMatrixError(anonClient().loginRequest(passwordLogin(localpart, firstPassword)),
      403, "M_FORBIDDEN", "login with the old password"));

  const third = await steps.run("the new password logs in", async () => {
    const creds = await loginWithPassword(localpart, secondPassword,
      { initial_device_display_name: "js-sdk third" });
    await checkWhoami(clientFor(creds), user, creds.device_id, "third device");
    return creds;
  });

  await steps.run("setPassword with logout_devices false keeps the other device",
    async () => {
      const again = await expectChallenge(first.setPassword(undefined, thirdPassword, false),
        ["m.login.password"], "second setPassword without auth");
      assert.notEqual(again.session, challenge.session, "a used session was handed out again");
      const auth = passwordAuth(user, secondPassword, again.session);
      assert.deepEqual(await first.setPassword(auth, thirdPassword, false), {});
      await checkWhoami(clientFor(third), user, third.device_id, "third device, kept");
      await checkWhoami(first, user, reg.device_id, "first device, kept");
    });

  await steps.run("only the newest password logs in", async () => {
    await expectMatrixError(anonClient().loginRequest(passwordLogin(localpart, secondPassword)),
      403, "M_FORBIDDEN", "login with the second password");
    await loginWithPassword(localpart, thirdPassword);
  });

  await steps.run("loginWithPassword, with the legacy top-level user, logs in", async () => {
    // The SDK's older helper sends {"type", "user", "password"} without an identifier.
    const legacy = anonClient();
    const creds = await legacy.loginWithPassword(localpart, thirdPassword);
    assert.equal(creds.user_id, user, "loginWithPassword user_id");
    await checkWhoami(clientFor(creds, { useAuthorizationHeader: false }), user,
      creds.device_id, "the token in the access_token query parameter");
  });

  await steps.run("logout(true) ends the first session", async () => {
    assert.deepEqual(await first.logout(true), {});
    await checkTokenDead(clientFor(reg), "whoami after logout(true)");
  });

  return { user_id: user, kept_device: reg.device_id, removed_device: other.device_id };
}
