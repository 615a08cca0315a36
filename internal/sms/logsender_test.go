package sms

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(slog.New(slog.NewTextHandler(&buf, nil)))

	if !strings.Contains(buf.String(), "do not use this in production") {
		t.Errorf("no production warning at construction: %s", buf.String())
	}
	if err := l.Send(context.Background(), "447400123456", "Your code is 654321"); err != nil {
		t.Fatal(err)
	}

	out := buf.String()
	for _, want := range []string{"msisdn=447400123456", "654321", "development"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
