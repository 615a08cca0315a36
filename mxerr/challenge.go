package mxerr

import (
	"encoding/json"
	"net/http"
)

// Flow is one way through User-Interactive Authentication: stages to complete in order.
type Flow struct {
	Stages []string `json:"stages"`
}

// Challenge is the body of a 401 answer from an endpoint protected by User-Interactive
// Authentication
// (https://spec.matrix.org/v1.13/client-server-api/#user-interactive-authentication-api):
// the flows on offer, the stages this session has completed and the session ID to echo.
// A Challenge is also an error, so a service can return it up to the HTTP layer.
type Challenge struct {
	Flows     []Flow         `json:"flows"`
	Params    map[string]any `json:"params"`
	Session   string         `json:"session,omitempty"`
	Completed []string       `json:"completed"`
}

// Error says that authentication is still needed.
func (c *Challenge) Error() string {
	return "user-interactive authentication required (session " + c.Session + ")"
}

// StatusCode is 401, the status of every challenge.
func (c *Challenge) StatusCode() int { return http.StatusUnauthorized }

// MarshalJSON writes the challenge with empty lists and objects rather than nulls.
func (c *Challenge) MarshalJSON() ([]byte, error) {
	body := map[string]any{}
	c.addTo(body)
	return json.Marshal(body)
}

func (c *Challenge) addTo(body map[string]any) {
	flows := c.Flows
	if flows == nil {
		flows = []Flow{}
	}
	completed := c.Completed
	if completed == nil {
		completed = []string{}
	}
	params := c.Params
	if params == nil {
		params = map[string]any{}
	}

	body["flows"] = flows
	body["params"] = params
	body["completed"] = completed
	if c.Session != "" {
		body["session"] = c.Session
	}
}
