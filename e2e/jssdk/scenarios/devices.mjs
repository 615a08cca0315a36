// Scenario "devices": list, get and rename devices with getDevices, getDevice and
// setDeviceDetails; delete one with deleteDevice and several with deleteMultipleDevices,
// each through the password stage of UIA; unknown devices and another user's devices
// are 404 and cannot be touched.

import assert from "node:assert/strict";
import {
  checkTokenDead, checkWhoami, clientFor, describe, expectChallenge, expectMatrixError,
  loginWithPassword, passwordAuth, registerWithToken, userIdOf, withInteractiveAuth,
} from "../lib.mjs";

const localpart = "js-devices";
const password = "Js-SDK devices password 1!";
const unknownDevice = "NOSUCHDEVICE";

export default async function devices(steps) {
  const user = userIdOf(localpart);

  const reg = await steps.run("register with a display name", () =>
    registerWithToken(localpart, password, { initial_device_display_name: "js-sdk A" }));
  const main = clientFor(reg);

  const logins = await steps.run("log in three more devices, one with its own ID",
    async () => {
      const b = await loginWithPassword(localpart, password,
        { device_id: "JSSDKDEVICEB", initial_device_display_name: "js-sdk B" });
      assert.equal(b.device_id, "JSSDKDEVICEB", "the device_id asked for at login");
      const c = await loginWithPassword(localpart, password,
        { initial_device_display_name: "js-sdk C" });
      const d = await loginWithPassword(localpart, password);
      return { b, c, d };
    });
  const { b, c, d } = logins;

  await steps.run("getDevices lists the four with their names", async () => {
    const { devices: list } = await main.getDevices();
    const names = Object.fromEntries(list.map((x) => [x.device_id, x.display_name]));
    assert.deepEqual(names, {
      [reg.device_id]: "js-sdk A",
      [b.device_id]: "js-sdk B",
      [c.device_id]: "js-sdk C",
      [d.device_id]: undefined,
    }, "device IDs and display names");
    for (const x of list) {
      if (x.last_seen_ts !== undefined) {
        assert.equal(typeof x.last_seen_ts, "number", `last_seen_ts of ${x.device_id}`);
      }
    }
  });

  await steps.run("setDeviceDetails renames a device and getDevice shows it", async () => {
    assert.deepEqual(await main.setDeviceDetails(b.device_id,
      { display_name: "renamed B" }), {});
    const got = await main.getDevice(b.device_id);
    assert.equal(got.device_id, b.device_id);
    assert.equal(got.display_name, "renamed B");
  });

  await steps.run("setDeviceDetails without display_name changes nothing", async () => {
    assert.deepEqual(await main.setDeviceDetails(b.device_id, {}), {});
    const got = await clientFor(b).getDevice(b.device_id);
    assert.equal(got.display_name, "renamed B", "a body without display_name");
  });

  await steps.run("an unknown device is 404 M_NOT_FOUND on GET and PUT", async () => {
    await expectMatrixError(main.getDevice(unknownDevice), 404, "M_NOT_FOUND",
      "getDevice of an unknown device");
    await expectMatrixError(main.setDeviceDetails(unknownDevice, { display_name: "x" }),
      404, "M_NOT_FOUND", "setDeviceDetails of an unknown device");
  });

  const stranger = await steps.run("another user's device is 404 M_NOT_FOUND", async () => {
    const creds = await registerWithToken("js-devices-other", password);
    await expectMatrixError(main.getDevice(creds.device_id), 404, "M_NOT_FOUND",
      "getDevice of another user's device");
    await expectMatrixError(main.setDeviceDetails(creds.device_id, { display_name: "x" }),
      404, "M_NOT_FOUND", "setDeviceDetails of another user's device");
    return creds;
  });

  const challenge = await steps.run("deleteDevice without auth gets the challenge", () =>
    expectChallenge(main.deleteDevice(b.device_id), ["m.login.password"],
      "deleteDevice without auth"));

  await steps.run("deleteDevice with the password stage", async () => {
    const auth = passwordAuth(user, password, challenge.session);
    assert.deepEqual(await main.deleteDevice(b.device_id, auth), {});
    await checkTokenDead(clientFor(b), "whoami on the deleted device");
    await expectMatrixError(main.getDevice(b.device_id), 404, "M_NOT_FOUND",
      "getDevice of the deleted device");
  });

  await steps.run("deleteDevice of a device already gone succeeds", async () => {
    const again = await expectChallenge(main.deleteDevice(b.device_id), ["m.login.password"],
      "deleteDevice of a deleted device without auth");
    // The legacy flat form of the password stage, without an identifier.
    const auth = { type: "m.login.password", user: localpart, password,
      session: again.session };
    assert.deepEqual(await main.deleteDevice(b.device_id, auth), {});
  });

  const misuse = await steps.run("a UIA session of one request does not authorise another",
    async () => {
      const forC = await expectChallenge(main.deleteDevice(c.device_id), ["m.login.password"],
        "deleteDevice of C without auth");
      const auth = passwordAuth(user, password, forC.session);
      const err = await main.deleteMultipleDevices([d.device_id], auth).then(
        (res) => assert.fail(`deleteMultipleDevices with the session of deleteDevice(C) ` +
          `succeeded: ${JSON.stringify(res)}`),
        (e) => e);
      assert.ok([400, 401, 403].includes(err.httpStatus),
        `deleteMultipleDevices with another request's session: ${describe(err)}`);
      await checkWhoami(clientFor(c), user, c.device_id, "device C, its session misused");
      await checkWhoami(clientFor(d), user, d.device_id, "device D, named by the misuse");
      return describe(err);
    });

  const several = [c.device_id, d.device_id, unknownDevice, stranger.device_id];
  await steps.run("deleteMultipleDevices without auth gets the challenge", () =>
    expectChallenge(main.deleteMultipleDevices(several), ["m.login.password"],
      "deleteMultipleDevices without auth"));

  const uia = await steps.run("deleteMultipleDevices through InteractiveAuth", async () => {
    const { result, updates } = await withInteractiveAuth(main,
      (auth) => main.deleteMultipleDevices(several, auth),
      [passwordAuth(user, password)]);
    assert.deepEqual(result, {});
    assert.deepEqual(updates.map((u) => u.stage), ["m.login.password"],
      "the stages InteractiveAuth asked for");
    return updates;
  });

  await steps.run("the deleted devices are gone, the rest stays", async () => {
    await checkTokenDead(clientFor(c), "whoami on deleted device C");
    await checkTokenDead(clientFor(d), "whoami on deleted device D");
    await checkWhoami(main, user, reg.device_id, "the caller's device");
    const { devices: list } = await main.getDevices();
    assert.deepEqual(list.map((x) => x.device_id), [reg.device_id], "devices left");
  });

  await steps.run("the other user's device survived", () =>
    checkWhoami(clientFor(stranger), userIdOf("js-devices-other"), stranger.device_id,
      "the other user's device after deleteMultipleDevices named it"));

  return { user_id: user, deleted: [b.device_id, c.device_id, d.device_id],
    kept: reg.device_id, uia_updates: uia, session_misuse: misuse };
}
