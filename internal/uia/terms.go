package uia

import (
	"context"
)

// TypeTerms is the auth type of the terms stage.
const TypeTerms = "m.login.terms"

// Policy is one policy document offered at the terms stage.
type Policy struct {
	ID      string
	Version string
	// Languages maps a language tag to the document's name and URL in it.
	Languages map[string]PolicyText
}

// PolicyText is a policy's name and URL in one language.
type PolicyText struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Terms is m.login.terms (spec v1.11): the challenge lists the policies, and the client
// completes the stage once its user accepted them all. The registration records which
// versions were accepted.
type Terms struct {
	Policies []Policy
}

// Type implements Stage.
func (Terms) Type() string { return TypeTerms }

// Params implements Stage: {"policies": {id: {"version": v, lang: {name, url}}}}.
func (t Terms) Params() any {
	policies := make(map[string]map[string]any, len(t.Policies))
	for _, p := range t.Policies {
		entry := map[string]any{"version": p.Version}
		for lang, text := range p.Languages {
			entry[lang] = text
		}
		policies[p.ID] = entry
	}
	return map[string]any{"policies": policies}
}

// Complete implements Stage: completing it is the acceptance.
func (Terms) Complete(context.Context, *Attempt) error { return nil }
