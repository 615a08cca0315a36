// The fallback completion contract of the Matrix spec: tell the client that embedded
// or opened this page that the stage is complete.
(function () {
  "use strict";
  if (window.onAuthDone) {
    window.onAuthDone();
  } else if (window.opener && window.opener.postMessage) {
    window.opener.postMessage("authDone", "*");
  }
})();
