// Package client is a typed Go client for the account-management endpoints of the
// Matrix Client-Server API (https://spec.matrix.org/v1.13/client-server-api/):
// registration, login and logout, passwords, deactivation, third-party identifiers
// (3PIDs), devices and discovery. It speaks plain HTTP and JSON as the spec writes them,
// so it works with any compliant homeserver, not only mxaccounts.
//
// # Making a client
//
// A Client talks to one homeserver, given by the base URL of its client API:
//
//	c, err := client.New(client.Options{BaseURL: "https://matrix.example.org"})
//
// Every method takes a context and, where the endpoint has a body, a request struct whose
// JSON field names are the spec's. Methods return the decoded answer, or an error.
// Methods never log and never change global state. A Client is safe for concurrent use.
//
// # Sessions and tokens
//
// Login and Register return the new session's credentials without keeping them, so one
// Client can register accounts for others. To act as the new user, hand them over:
//
//	resp, err := c.Login(ctx, &client.LoginRequest{Type: client.LoginTypePassword,
//		Identifier: client.ByUser("alice"), Password: pw})
//	...
//	c.SetTokens(resp.Tokens())
//
// Endpoints that need an access token send it as "Authorization: Bearer"; never in the
// query string. Logout and LogoutAll forget the tokens when they succeed.
//
// When the session has a refresh token (ask for one with RefreshToken: true on
// LoginRequest or RegisterRequest), the client refreshes the access token by itself:
// before a request when the token expires within 30 seconds, and after a request that
// fails with 401 M_UNKNOWN_TOKEN and soft_logout true, which it then sends once more.
// Requests that fail together share one refresh. Options.OnRefresh hears of the new
// tokens so they can be stored; Refresh does the same exchange by hand.
//
// # Errors
//
// Every non-2xx answer becomes an error that wraps an *mxerr.Error: the errcode, the
// message, the HTTP status and the optional retry_after_ms, soft_logout and UIA
// challenge. Test the kind of failure with errors.Is against the values of package
// mxerr, which match on the errcode alone:
//
//	_, err := c.UsernameAvailable(ctx, "alice")
//	if errors.Is(err, mxerr.ErrUserInUse) {
//		// pick another name
//	}
//
// and read the details with errors.As:
//
//	var e *mxerr.Error
//	if errors.As(err, &e) && e.Status == http.StatusNotFound { ... }
//
// An answer whose body is not a Matrix error (an HTML page from a proxy, an empty 502)
// becomes an *mxerr.Error with Code M_UNKNOWN, the status, and a message that quotes
// what came back. Transport errors, context errors and undecodable 2xx answers are
// returned wrapped as they are.
//
// # User-Interactive Authentication
//
// Register, ChangePassword, Deactivate, AddThreePID, DeleteDevice and DeleteDevices are
// protected by User-Interactive Authentication (UIA): the server answers the first
// request with 401 and a challenge listing flows of stages; the client completes the
// stages of one flow, one request each, and the last request performs the operation.
//
// A challenge comes back as an *mxerr.Error whose UIA field holds the *mxerr.Challenge
// (get it with UIAChallenge). Its Code is empty while the server only asks for more
// stages, and set (often M_FORBIDDEN) when the last stage failed.
//
// The UIA type does the exchange. Give it the stages you can solve (PasswordStage,
// DummyStage, RegistrationTokenStage, TermsStage, EmailIdentityStage, MSISDNStage, or
// your own Stage) and a function that sends the request with a given auth object:
//
//	req := &client.RegisterRequest{Username: "alice", Password: pw}
//	var resp *client.RegisterResponse
//	u := client.UIA{Stages: []client.Stage{client.RegistrationTokenStage(tok)}}
//	err := u.Do(ctx, func(ctx context.Context, auth *client.AuthData) error {
//		req.Auth = auth
//		var err error
//		resp, err = c.Register(ctx, req)
//		return err
//	})
//
// Do sends the request without auth, reads the flows, picks the first flow whose
// stages it can all solve, and walks them in order with the server's session ID. It
// returns nil on success; the error of a failed stage, unchanged; an error wrapping
// ErrNoUsableFlow when no flow fits the stages given; and gives up after MaxRounds
// requests.
//
// Email and phone stages take a ThreePIDValidation: one callback asks the server to
// send a token (RequestEmailToken or RequestMSISDNToken with the purpose of the
// operation and the client secret the stage made), the other waits until the user has
// validated the session, through the link or with SubmitValidationToken, and returns
// its threepid_creds.
//
// # Rate limits
//
// A 429 M_LIMIT_EXCEEDED answer is returned as an error unless Options.Retry allows a
// retry. The client then waits as long as the Retry-After header (or the older
// retry_after_ms field) asks, as long as that is within RetryPolicy.MaxWait and the
// context's deadline, and at most MaxRetries times per call.
//
// # Discovery
//
// WellKnown reads /.well-known/matrix/client from the base URL, Versions the spec
// versions the server implements, Capabilities what it lets the user change, and
// LoginFlows the login types it accepts. To find the homeserver of a user ID, make a
// Client for "https://" + its server name, call WellKnown, then make the real Client
// for the base_url it names and check it with Versions.
package client
