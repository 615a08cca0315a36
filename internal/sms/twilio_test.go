package sms

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestTwilioWireFormat(t *testing.T) {
	tests := []struct {
		name     string
		from     string
		service  string
		wantForm url.Values
	}{
		{"from number", "+15005550006", "", url.Values{"To": {"+4915123456789"},
			"From": {"+15005550006"}, "Body": {"Code: 123456 & more"}}},
		{"messaging service", "", "MG0123", url.Values{"To": {"+4915123456789"},
			"MessagingServiceSid": {"MG0123"}, "Body": {"Code: 123456 & more"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := fakeGateway(t, http.StatusCreated,
				`{"sid":"SM1","status":"queued"}`)
			tw, err := NewTwilio(TwilioOptions{BaseURL: srv.URL + "/", AccountSID: "AC42",
				AuthToken: "tok", From: tt.from, MessagingServiceSID: tt.service})
			if err != nil {
				t.Fatal(err)
			}

			err = tw.Send(context.Background(), "4915123456789", "Code: 123456 & more")
			if err != nil {
				t.Fatalf("Send: %v", err)
			}

			req := <-got
			if req.method != "POST" || req.path != "/2010-04-01/Accounts/AC42/Messages.json" {
				t.Errorf("request %s %s", req.method, req.path)
			}
			if req.contentType != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type %q", req.contentType)
			}
			wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("AC42:tok"))
			if a := req.header.Get("Authorization"); a != wantAuth {
				t.Errorf("Authorization %q, want %q", a, wantAuth)
			}
			form, err := url.ParseQuery(req.body)
			if err != nil {
				t.Fatal(err)
			}
			if form.Encode() != tt.wantForm.Encode() {
				t.Errorf("form %s, want %s", form.Encode(), tt.wantForm.Encode())
			}
		})
	}
}

func TestTwilioErrorAnswer(t *testing.T) {
	srv, _ := fakeGateway(t, http.StatusBadRequest, `{"code":21211,"message":`+
		`"The 'To' number is not a valid phone number.","more_info":"x","status":400}`)
	tw, err := NewTwilio(TwilioOptions{BaseURL: srv.URL, AccountSID: "AC42",
		AuthToken: "tok", From: "+15005550006"})
	if err != nil {
		t.Fatal(err)
	}

	err = tw.Send(context.Background(), "4915123456789", "hi")
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "21211") {
		t.Errorf("Send = %v, want ErrRejected quoting error 21211", err)
	}
}

func TestNewTwilioRejects(t *testing.T) {
	tests := []struct {
		name string
		opts TwilioOptions
	}{
		{"plain http to a remote host", TwilioOptions{BaseURL: "http://api.twilio.com",
			AccountSID: "AC", AuthToken: "t", From: "+1"}},
		{"no token", TwilioOptions{BaseURL: "https://api.twilio.com", AccountSID: "AC",
			From: "+1"}},
		{"no sender", TwilioOptions{BaseURL: "https://api.twilio.com", AccountSID: "AC",
			AuthToken: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewTwilio(tt.opts); err == nil {
				t.Errorf("NewTwilio(%+v) succeeded", tt.opts)
			}
		})
	}
}
