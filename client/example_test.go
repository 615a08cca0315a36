package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/mxaccounts/mxaccounts/client"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// This example registers an account on a server that asks for a registration token,
// then checks whether another name is still free.
func Example_registerWithToken() {
	ctx := context.Background()
	c, err := client.New(client.Options{BaseURL: "https://matrix.example.org"})
	if err != nil {
		log.Fatal(err)
	}

	// Tell the user early when the token they were given will not work.
	const token = "TOKEN-FROM-THE-ADMIN"
	valid, err := c.RegistrationTokenValid(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	if !valid.Valid {
		log.Fatal("this registration token is unknown, expired or used up")
	}

	req := &client.RegisterRequest{Username: "alice", Password: "a long passphrase",
		InitialDeviceDisplayName: "laptop"}
	u := client.UIA{Stages: []client.Stage{client.RegistrationTokenStage(token)}}
	var resp *client.RegisterResponse
	err = u.Do(ctx, func(ctx context.Context, auth *client.AuthData) error {
		req.Auth = auth
		var err error
		resp, err = c.Register(ctx, req)
		return err
	})
	switch {
	case errors.Is(err, mxerr.ErrUserInUse):
		log.Fatal("alice is taken; pick another name")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("registered", resp.UserID, "on device", resp.DeviceID)

	if _, err := c.UsernameAvailable(ctx, "bob"); errors.Is(err, mxerr.ErrUserInUse) {
		fmt.Println("bob is taken")
	}
}

// This example logs in with a password, keeps the session (with a refresh token, so
// the client renews the access token by itself), and asks who it is.
func Example_loginAndWhoami() {
	ctx := context.Background()
	c, err := client.New(client.Options{
		BaseURL: "https://matrix.example.org",
		Retry:   client.RetryPolicy{MaxRetries: 3, MaxWait: 10 * time.Second},
		OnRefresh: func(t client.Tokens) {
			// Store t, so that the next start resumes this session.
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	login, err := c.Login(ctx, &client.LoginRequest{
		Type:         client.LoginTypePassword,
		Identifier:   client.ByUser("alice"),
		Password:     "a long passphrase",
		RefreshToken: true,
	})
	if errors.Is(err, mxerr.ErrForbidden) {
		log.Fatal("wrong user name or password")
	}
	if err != nil {
		log.Fatal(err)
	}
	c.SetTokens(login.Tokens())

	who, err := c.Whoami(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logged in as", who.UserID, "on device", who.DeviceID)
}

// This example changes the password of the logged-in user, proving who they are with
// the old password, and keeps the user's other sessions.
func Example_changePassword() {
	ctx := context.Background()
	c, err := client.New(client.Options{
		BaseURL: "https://matrix.example.org",
		Tokens:  client.Tokens{AccessToken: "ACCESS-TOKEN"},
	})
	if err != nil {
		log.Fatal(err)
	}

	caps, err := c.Capabilities(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if !caps.Capabilities.CanChangePassword() {
		log.Fatal("this server does not let users change their password")
	}

	keepOtherSessions := false
	req := &client.ChangePasswordRequest{NewPassword: "a new long passphrase",
		LogoutDevices: &keepOtherSessions}
	u := client.UIA{Stages: []client.Stage{
		client.PasswordStage(client.ByUser("@alice:example.org"), "a long passphrase"),
	}}
	err = u.Do(ctx, func(ctx context.Context, auth *client.AuthData) error {
		req.Auth = auth
		return c.ChangePassword(ctx, req)
	})
	switch {
	case errors.Is(err, mxerr.ErrForbidden):
		// A failed stage: the error also carries the challenge, to try again.
		log.Fatal("the old password is wrong")
	case errors.Is(err, mxerr.ErrWeakPassword):
		log.Fatal("choose a stronger password")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("password changed")
}
