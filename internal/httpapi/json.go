package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mxaccounts/mxaccounts/internal/store"
	"github.com/mxaccounts/mxaccounts/mxerr"
)

// bodyMode says whether an endpoint accepts a missing body.
type bodyMode int

const (
	bodyRequired bodyMode = iota
	// bodyOptional treats an absent or empty body as {} (logout, device deletion).
	bodyOptional
)

// decodeObject reads the request body as a JSON object. Invalid JSON or UTF-8 is
// M_NOT_JSON, a valid non-object is M_BAD_JSON, a body over the cap is M_TOO_LARGE.
func decodeObject(r *http.Request, mode bodyMode) (map[string]json.RawMessage, error) {
	data, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, mxerr.ErrTooLarge.Msg("the request body is larger than %d bytes",
			tooBig.Limit)
	}
	if err != nil {
		return nil, mxerr.ErrNotJSON.Msg("could not read the request body: %v", err)
	}

	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		if mode == bodyOptional {
			return map[string]json.RawMessage{}, nil
		}
		return nil, mxerr.ErrNotJSON.Msg("the request body is empty; send a JSON object")
	}
	if !utf8.Valid(trimmed) || !json.Valid(trimmed) {
		return nil, mxerr.ErrNotJSON.Msg("the request body is not valid JSON")
	}
	if trimmed[0] != '{' {
		return nil, mxerr.ErrBadJSON.Msg("the request body must be a JSON object")
	}

	var obj map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &obj); err != nil {
		return nil, mxerr.ErrBadJSON.Msg("the request body must be a JSON object")
	}
	if bytes.Contains(trimmed, []byte(`\u0000`)) && hasNUL(trimmed) {
		// Valid JSON, but no identifier, name or secret here may hold U+0000, and
		// PostgreSQL cannot store it in text.
		return nil, mxerr.ErrInvalidParam.Msg("strings in the request must not contain " +
			"U+0000")
	}
	return obj, nil
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(mxerr.ErrInternal)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError answers with err: a *mxerr.Error or *mxerr.Challenge as it is, anything
// else as a 500 whose body says nothing of the cause, which goes to the request log.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		merr *mxerr.Error
		ch   *mxerr.Challenge
	)
	switch {
	case errors.As(err, &merr):
		if merr.Status == http.StatusTooManyRequests && merr.RetryAfterMS > 0 {
			secs := int(math.Ceil(float64(merr.RetryAfterMS) / 1000))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		writeJSON(w, merr.Status, merr)
	case errors.As(err, &ch):
		writeJSON(w, http.StatusUnauthorized, ch)
	case r.Context().Err() != nil && errors.Is(err, r.Context().Err()):
		// The client went away (or its deadline passed) and the work stopped with it:
		// nothing for an operator to fix, and nobody left to answer.
		requestInfo(r.Context()).cause = err
		w.WriteHeader(statusClientClosed)
	default:
		requestInfo(r.Context()).cause = err
		writeJSON(w, http.StatusInternalServerError, mxerr.ErrInternal)
	}
}

// statusClientClosed is the status that the request log and metrics record for a
// request whose client closed the connection before the answer: 499, as nginx does.
const statusClientClosed = 499

// stringParam returns body[key] when it is a string; absent is ok=false, another type is
// M_BAD_JSON.
func stringParam(body map[string]json.RawMessage, key string) (string, bool, error) {
	raw, ok := body[key]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, mxerr.ErrBadJSON.Msg("%s must be a string", key)
	}
	return s, true, nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// hasNUL reports whether any string or key in the JSON document holds U+0000.
func hasNUL(doc []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if str, ok := tok.(string); ok && strings.ContainsRune(str, 0) {
			return true
		}
	}
}
