package mxerr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestIsMatchesByErrcode(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", ErrForbidden.Msg("no, %s", "really"))
	if !errors.Is(err, ErrForbidden) {
		t.Error("errors.Is does not match a wrapped copy with another message")
	}
	if errors.Is(err, ErrUnknownToken) {
		t.Error("errors.Is matches another errcode")
	}

	var e *Error
	if !errors.As(err, &e) || e.Message != "no, really" || e.Status != http.StatusForbidden {
		t.Errorf("errors.As gave %+v", e)
	}
	if ErrForbidden.Message != "forbidden" {
		t.Error("Msg changed the shared value")
	}
}

func TestMarshalJSON(t *testing.T) {
	limited := ErrLimitExceeded.Msg("slow down")
	limited.RetryAfterMS = 1500
	soft := ErrUnknownToken.Msg("expired")
	soft.SoftLogout = true
	uia := ErrForbidden.Msg("wrong password").WithUIA(&Challenge{Session: "s",
		Flows: []Flow{{Stages: []string{"m.login.password"}}}})

	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"plain", ErrNotJSON.Msg("bad"), `{"errcode":"M_NOT_JSON","error":"bad"}`},
		{"retry", limited,
			`{"errcode":"M_LIMIT_EXCEEDED","error":"slow down","retry_after_ms":1500}`},
		{"soft logout", soft,
			`{"errcode":"M_UNKNOWN_TOKEN","error":"expired","soft_logout":true}`},
		{"failed stage", uia, `{"completed":[],"errcode":"M_FORBIDDEN",` +
			`"error":"wrong password","flows":[{"stages":["m.login.password"]}],` +
			`"params":{},"session":"s"}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.err)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("%s: got %s\nwant %s", tt.name, got, tt.want)
		}
	}
	if uia.Status != http.StatusUnauthorized {
		t.Errorf("WithUIA status = %d, want 401", uia.Status)
	}
}

func TestUnmarshalRoundTrip(t *testing.T) {
	in := ErrForbidden.Msg("wrong").WithUIA(&Challenge{Session: "abc",
		Flows: []Flow{{Stages: []string{"m.login.dummy"}}}, Completed: []string{}})
	data, _ := json.Marshal(in)

	var out Error
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if out.Code != CodeForbidden || out.Message != "wrong" || out.UIA == nil ||
		out.UIA.Session != "abc" || len(out.UIA.Flows) != 1 {
		t.Errorf("round trip gave %+v (UIA %+v)", out, out.UIA)
	}
}

func TestChallengeBody(t *testing.T) {
	got, _ := json.Marshal(&Challenge{})
	if string(got) != `{"completed":[],"flows":[],"params":{}}` {
		t.Errorf("empty challenge = %s", got)
	}
}
