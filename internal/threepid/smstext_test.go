package threepid

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// recordingSMS is an sms.Sender that keeps what it is given.
type recordingSMS struct{ to, text string }

func (r *recordingSMS) Send(_ context.Context, msisdn, text string) error {
	r.to, r.text = msisdn, text
	return nil
}

func TestSMSSenderTexts(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

	tests := []struct {
		name string
		msg  Message
		want []string // parts of the text
	}{
		{"validation", Message{Kind: KindValidation, Code: "004217",
			Expires: now.Add(time.Hour)}, []string{"example.org", "004217", "60 minutes"}},
		{"address in use", Message{Kind: KindAddressInUse}, []string{"already belongs"}},
		{"no account", Message{Kind: KindNoAccount}, []string{"no account"}},
		{"password", Message{Kind: KindPasswordChanged, UserID: "@a:example.org"},
			[]string{"password", "@a:example.org"}},
		{"removed", Message{Kind: KindThreePIDRemoved, UserID: "@a:example.org",
			ThreePID: &store.ThreePID{Medium: "msisdn", Address: "447400123456"}},
			[]string{"+447400123456 was removed from", "@a:example.org"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingSMS{}
			s := NewSMSSender(rec, "example.org")
			s.now = func() time.Time { return now }
			tt.msg.To = "447400123456"
			if err := s.Send(t.Context(), &tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if rec.to != "447400123456" {
				t.Errorf("sent to %q, want 447400123456", rec.to)
			}
			for _, part := range tt.want {
				if !strings.Contains(rec.text, part) {
					t.Errorf("text %q lacks %q", rec.text, part)
				}
			}
		})
	}

	if err := NewSMSSender(&recordingSMS{}, "x").Send(t.Context(),
		&Message{Kind: "unknown"}); err == nil {
		t.Error("an unknown kind was sent")
	}
}

func TestMSISDNParser(t *testing.T) {
	t.Parallel()
	parse := MSISDNParser("GB")

	for _, in := range []AddressInput{
		{Country: "GB", PhoneNumber: "07400 123456"},
		{Country: "", PhoneNumber: "07400 123456"},
		{Country: "US", PhoneNumber: "+44 7400 123456"},
	} {
		if got, err := parse(in); err != nil || got != "447400123456" {
			t.Errorf("parse(%+v) = %q, %v; want 447400123456", in, got, err)
		}
	}
	for _, in := range []AddressInput{
		{Country: "GB", PhoneNumber: "07700 900123"},
		{Country: "XX", PhoneNumber: "07400 123456"},
	} {
		_, err := parse(in)
		if !errors.Is(err, mxerr.ErrInvalidParam) {
			t.Errorf("parse(%+v): %v, want M_INVALID_PARAM", in, err)
		}
	}
	if got, ok := Canonical(MediumMSISDN, "+44 7400 123456"); !ok || got != "447400123456" {
		t.Errorf("Canonical(+44 7400 123456) = %q, %v", got, ok)
	}
}
