package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// maxAuditPage caps the limit of one page of the audit log.
const maxAuditPage = 1000

// auditEventJSON is an audit event as GET /_mxaccounts/admin/v1/audit shows it.
type auditEventJSON struct {
	ID        int64           `json:"id"`
	TS        int64           `json:"ts"`
	Action    string          `json:"action"`
	Actor     string          `json:"actor"`
	Target    string          `json:"target"`
	IP        string          `json:"ip"`
	UserAgent string          `json:"user_agent"`
	Outcome   string          `json:"outcome"`
	Details   json.RawMessage `json:"details"`
}

// adminAuditEvents serves GET /_mxaccounts/admin/v1/audit, the audit log, newest first
// (dir=b) or oldest first (dir=f). user keeps the events whose actor or target it is,
// action those of one action, since and until (milliseconds since the epoch, or RFC
// 3339 times) a span of time. limit (default 100, at most 1000) sizes a page; from,
// set to the next_token of the page before, continues.
func (s *Server) adminAuditEvents(
	w http.ResponseWriter, r *http.Request, _ *store.Requester,
) error {
	f, err := auditFilter(r.URL.Query())
	if err != nil {
		return err
	}
	events, err := s.store.AuditEvents(r.Context(), f)
	if err != nil {
		return err
	}

	out := make([]auditEventJSON, 0, len(events))
	for _, e := range events {
		if len(e.Details) == 0 {
			e.Details = json.RawMessage("{}")
		}
		out = append(out, auditEventJSON{ID: e.ID, TS: e.TimeMS, Action: e.Action,
			Actor: e.Actor, Target: string(e.Target), IP: e.IP, UserAgent: e.UserAgent,
			Outcome: e.Outcome, Details: e.Details})
	}
	body := map[string]any{"events": out}
	if int64(len(events)) == f.Limit {
		body["next_token"] = strconv.FormatInt(events[len(events)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// auditFilter reads the query of the audit log.
func auditFilter(q url.Values) (store.AuditFilter, error) {
	f := store.AuditFilter{User: q.Get("user"), Action: q.Get("action")}
	var err error
	if f.Limit, err = intQuery(q, "limit", 100, 1); err != nil {
		return f, err
	}
	f.Limit = min(f.Limit, maxAuditPage)
	if f.After, err = intQuery(q, "from", 0, 0); err != nil {
		return f, err
	}
	if f.SinceMS, err = timeQuery(q, "since"); err != nil {
		return f, err
	}
	if f.UntilMS, err = timeQuery(q, "until"); err != nil {
		return f, err
	}
	switch q.Get("dir") {
	case "", "b":
	case "f":
		f.Forward = true
	default:
		return f, mxerr.ErrInvalidParam.Msg("dir must be f or b")
	}
	return f, nil
}

// timeQuery reads a time given in milliseconds since the epoch or as RFC 3339; 0 when
// absent.
func timeQuery(q url.Values, name string) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
		return ms, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UnixMilli(), nil
	}
	return 0, mxerr.ErrInvalidParam.Msg("%s must be milliseconds since the epoch or an "+
		"RFC 3339 time", name)
}
