// Package e2e holds end-to-end tests of mxaccounts: each test starts the real HTTP
// server on a loopback port (internal/testserver) and drives it with mautrix-go, the
// reference Matrix client library in Go, or with net/http where mautrix has no call for
// the request; the jssdk tests drive it with matrix-js-sdk, the JavaScript SDK, through
// the Node scripts in e2e/jssdk (npm ci --prefix e2e/jssdk installs it). Every test
// runs on SQLite and, when MXACCOUNTS_TEST_POSTGRES names a
// PostgreSQL role with CREATEDB, on a fresh PostgreSQL database too:
//
//	MXACCOUNTS_TEST_POSTGRES=postgres://user:pass@127.0.0.1:5432/db?sslmode=disable \
//		go test ./e2e/
//
// When MXACCOUNTS_TEST_SPECPROXY names a specproxy binary (built in
// ../shared/spec/specproxy), each server gets one in front, the clients talk to it, and
// every answer that breaks the official OpenAPI files fails the test that caused it;
// MXACCOUNTS_TEST_SPEC_DIR names the folder of those files when it is not
// ../shared/spec/matrix-client-server beside the repository.
//
// The package has no code outside its tests.
package e2e
