package server

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/config"
	"github.com/mxaccounts/mxaccounts/internal/identity"
	"github.com/mxaccounts/mxaccounts/internal/mail"
	"github.com/mxaccounts/mxaccounts/internal/metrics"
	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/internal/threepid"
	"github.com/mxaccounts/mxaccounts/internal/uia"
)

// validationGrace is how long expired validation sessions are kept, so that a late
// submission hears M_SESSION_EXPIRED rather than of an unknown session.
const validationGrace = 24 * time.Hour

// newMailer returns the email sender that cfg configures, or nil when email is off.
func newMailer(cfg *config.Config) (threepid.Sender, error) {
	e := cfg.Email
	if !e.Enabled() {
		return nil, nil
	}
	s := e.Subjects
	return mail.New(mail.Config{
		SMTPURL:      e.SMTPURL,
		Timeout:      e.SMTPTimeout,
		From:         e.From,
		AppName:      e.AppName,
		ServerName:   cfg.ServerName,
		TemplatesDir: e.TemplatesDir,
		Subjects: map[threepid.Kind]string{
			threepid.KindValidation:      s.Validation,
			threepid.KindAddressInUse:    s.AddressInUse,
			threepid.KindNoAccount:       s.NoAccount,
			threepid.KindPasswordChanged: s.PasswordChanged,
			threepid.KindThreePIDAdded:   s.ThreePIDAdded,
			threepid.KindThreePIDRemoved: s.ThreePIDRemoved,
		},
	})
}

// countedSender counts the messages of one medium in the metrics as they go out.
type countedSender struct {
	threepid.Sender
	medium  threepid.Medium
	metrics *metrics.Metrics
}

// Send implements threepid.Sender.
func (c countedSender) Send(ctx context.Context, m *threepid.Message) error {
	err := c.Sender.Send(ctx, m)
	if err != nil {
		c.metrics.MessageFailed(string(c.medium))
	} else {
		c.metrics.MessageSent(string(c.medium))
	}
	return err
}

// threePIDRemotes are the outside services of the 3PID service: the senders of the
// media, a nil one turning its medium off, and the identity-server client.
type threePIDRemotes struct {
	email, sms threepid.Sender
	identity   identity.Service
}

// remotes returns the outside services that opts carry, the senders counted in the
// metrics.
func remotes(cfg *config.Config, opts Options) threePIDRemotes {
	out := threePIDRemotes{identity: opts.Identity}
	if opts.EmailSender != nil {
		out.email = countedSender{Sender: opts.EmailSender, medium: threepid.MediumEmail,
			metrics: opts.Metrics}
	}
	if opts.SMSSender != nil {
		out.sms = countedSender{medium: threepid.MediumMSISDN, metrics: opts.Metrics,
			Sender: threepid.NewSMSSender(opts.SMSSender, cfg.ServerName)}
	}
	return out
}

// newThreePIDs returns the 3PID service: each medium is validated when its sender is
// not nil. The UIA stages of the validated media are added to engine.
func newThreePIDs(
	st store.Store, cfg *config.Config, engine *uia.Engine, remote threePIDRemotes,
	log *slog.Logger,
) *threepid.Service {
	media := map[threepid.Medium]threepid.MediumConfig{}
	if e := cfg.Email; remote.email != nil {
		media[threepid.MediumEmail] = threepid.MediumConfig{
			Sender:          remote.email,
			Parse:           threepid.ParseEmail,
			Allowed:         threepid.EmailPolicy(e.AllowedDomains, e.DeniedDomains),
			TokenLifetime:   e.TokenLifetime,
			MaxAttempts:     e.MaxTokenAttempts,
			NextLinkDomains: e.NextLinkDomains,
			HideExistence:   e.HideExistence,
		}
	}
	if remote.sms != nil {
		// Texts share the lifetimes, attempt cap, next_link domains and existence
		// policy of email: one policy for validation, whatever the medium.
		e := cfg.Email
		media[threepid.MediumMSISDN] = threepid.MediumConfig{
			Sender:          remote.sms,
			Parse:           threepid.MSISDNParser(cfg.SMS.DefaultCountry),
			TokenLifetime:   e.TokenLifetime,
			MaxAttempts:     e.MaxTokenAttempts,
			NextLinkDomains: e.NextLinkDomains,
			HideExistence:   e.HideExistence,
		}
	}

	svc := threepid.New(threepid.Config{PublicBaseURL: cfg.PublicBaseURL, Media: media,
		Identity: remote.identity}, st, engine, log)
	engine.AddStages(svc.Stages()...)
	return svc
}

// threePIDFlows adds the 3PID stages to the UIA flows that cfg asks for: the email and
// msisdn stages to every registration flow when registration requires an address or a
// number, and for a password reset a flow of each validated medium's stage alone,
// beside the password.
func threePIDFlows(cfg *config.Config, flows [][]string, op uia.Operation) [][]string {
	email, msisdn := threepid.MediumEmail.StageType(), threepid.MediumMSISDN.StageType()
	switch op {
	case uia.OpPasswordReset:
		if cfg.SMS.Sender != "" {
			flows = append(flows, []string{msisdn})
		}
		if cfg.Email.Enabled() {
			flows = append(flows, []string{email})
		}
		return flows
	case uia.OpRegister:
		var required []string
		if cfg.Email.Enabled() && cfg.Email.RequireForRegistration {
			required = append(required, email)
		}
		if cfg.SMS.Sender != "" && cfg.SMS.RequireForRegistration {
			required = append(required, msisdn)
		}
		if len(required) == 0 {
			return flows
		}
		out := make([][]string, 0, len(flows))
		for _, flow := range flows {
			if len(flow) == 1 && flow[0] == uia.TypeDummy {
				flow = nil // the 3PID stages are enough to tell this flow apart
			}
			out = append(out, append(slices.Clone(flow), required...))
		}
		return out
	}
	return flows
}

// sweepValidationSessions removes the validation sessions that expired a grace period
// ago.
func (s *Server) sweepValidationSessions(ctx context.Context, now time.Time) {
	before := now.Add(-validationGrace).UnixMilli()
	n, err := s.store.DeleteExpiredValidationSessions(ctx, before)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("could not clear expired validation sessions; retrying in a minute",
			"error", err)
	} else if n > 0 {
		s.log.Debug("cleared expired validation sessions", "count", n)
	}
}
