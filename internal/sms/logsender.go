package sms

import (
	"context"
	"log/slog"
)

// Log is a Sender for development: it writes each message, code included, to the
// server log at warning level and sends nothing. It is NOT for production: anyone who
// reads the log can validate any phone number.
type Log struct {
	logger *slog.Logger
}

// NewLog returns a Log sender writing to logger (slog.Default when nil), and logs a
// warning that text messages will not be sent.
func NewLog(logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	logger.Warn("sms.sender is log: text messages go to this log and are never sent; " +
		"do not use this in production")
	return &Log{logger: logger}
}

// Send logs msisdn and text and never fails.
func (l *Log) Send(ctx context.Context, msisdn, text string) error {
	l.logger.WarnContext(ctx, "SMS not sent (development log sender)",
		slog.String("msisdn", msisdn), slog.String("text", text))
	return nil
}
