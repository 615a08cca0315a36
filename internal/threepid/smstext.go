package threepid

import (
	"context"
	"fmt"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/sms"
)

// SMSSender is the Sender of the msisdn medium: it writes each message as a short text
// and hands it to an SMS sender. A text carries the code, never the link: a phone
// number is validated by typing the code into the client, which submits it.
type SMSSender struct {
	sms sms.Sender
	// serverName names the server in the texts, so that a user knows who sends them.
	serverName string
	now        func() time.Time
}

// NewSMSSender returns the Sender of the msisdn medium over sender; serverName names
// the server in the texts.
func NewSMSSender(sender sms.Sender, serverName string) *SMSSender {
	return &SMSSender{sms: sender, serverName: serverName, now: time.Now}
}

// Send implements Sender. It fails for a kind it has no text for, and with the SMS
// sender's error.
func (s *SMSSender) Send(ctx context.Context, m *Message) error {
	text, err := s.Text(m)
	if err != nil {
		return err
	}
	if err := s.sms.Send(ctx, m.To, text); err != nil {
		return fmt.Errorf("send the %s text: %w", m.Kind, err)
	}
	return nil
}

// Text returns the text of m, in English.
//
// TODO(msisdn-i18n): pick the language from m.AcceptLanguage once the mail catalogue's
// translations are shared with texts; only English exists today.
func (s *SMSSender) Text(m *Message) (string, error) {
	switch m.Kind {
	case KindValidation:
		minutes := int(m.Expires.Sub(s.now()).Round(time.Minute) / time.Minute)
		return fmt.Sprintf("Your %s code is %s. It works for %d minutes. If you did not "+
			"ask for it, ignore this message.", s.serverName, m.Code, max(minutes, 1)), nil
	case KindAddressInUse:
		return fmt.Sprintf("Someone asked %s to add this number to an account, but it "+
			"already belongs to one. If it was not you, ignore this message.",
			s.serverName), nil
	case KindNoAccount:
		return fmt.Sprintf("Someone asked %s to reset a password for this number, but "+
			"no account has it. If it was not you, ignore this message.",
			s.serverName), nil
	case KindPasswordChanged:
		return fmt.Sprintf("The password of your account %s was changed.", m.UserID), nil
	case KindThreePIDAdded, KindThreePIDRemoved:
		verb := "added to"
		if m.Kind == KindThreePIDRemoved {
			verb = "removed from"
		}
		what := "An address"
		if m.ThreePID != nil {
			what = m.ThreePID.Address
			if m.ThreePID.Medium == string(MediumMSISDN) {
				what = "+" + what
			}
		}
		return fmt.Sprintf("%s was %s your account %s.", what, verb, m.UserID), nil
	}
	return "", fmt.Errorf("no SMS text for message kind %q", m.Kind)
}
