package threepid

import (
	"context"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/uia"
	"github.com/mxaccounts/mxaccounts/mxid"
)

// Kind names a message. The names are also those of the templates and of the subjects
// in the configuration.
type Kind string

// The messages the service sends.
const (
	// KindValidation carries the link and the code that validate an address.
	KindValidation Kind = "validation"
	// KindAddressInUse tells the owner of an address that someone asked to register it
	// or add it to another account; sent instead of a validation when existence is
	// hidden.
	KindAddressInUse Kind = "address_in_use"
	// KindNoAccount tells an address that a password reset was asked for it while no
	// account holds it; sent instead of a validation when existence is hidden.
	KindNoAccount Kind = "no_account"
	// KindPasswordChanged tells the account's addresses that its password changed.
	KindPasswordChanged Kind = "password_changed"
	// KindThreePIDAdded tells the account's other addresses that one was added.
	KindThreePIDAdded Kind = "threepid_added"
	// KindThreePIDRemoved tells the account's addresses, and the removed one, that one
	// was removed.
	KindThreePIDRemoved Kind = "threepid_removed"
)

// Message is one message to one address.
type Message struct {
	Kind Kind
	// To is the canonical address the message goes to.
	To string
	// Purpose is the operation a validation was asked for, for KindValidation,
	// KindAddressInUse and KindNoAccount.
	Purpose uia.Operation
	// Link opens the confirmation page and Code is the 6-digit code, for
	// KindValidation only.
	Link string
	Code string
	// Expires is when Link and Code stop working.
	Expires time.Time
	// UserID is the account a notice is about.
	UserID mxid.UserID
	// ThreePID is the address added or removed, for KindThreePIDAdded and
	// KindThreePIDRemoved.
	ThreePID *store.ThreePID
	// AcceptLanguage is the Accept-Language header of the request that caused the
	// message, which picks its language.
	AcceptLanguage string
}

// Sender delivers messages over one medium: email over SMTP, SMS through a gateway. It
// returns an error when the message could not be handed over; the service then acts as
// if it was never sent.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// languageKey is the context key of the Accept-Language header.
type languageKey struct{}

// WithAcceptLanguage returns ctx carrying a request's Accept-Language header, which
// picks the language of the notices sent while serving it.
func WithAcceptLanguage(ctx context.Context, header string) context.Context {
	return context.WithValue(ctx, languageKey{}, header)
}

// AcceptLanguage returns the Accept-Language header that ctx carries, or "".
func AcceptLanguage(ctx context.Context) string {
	v, _ := ctx.Value(languageKey{}).(string)
	return v
}
