package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"slices"
	"strings"
	texttemplate "text/template"

	"golang.org/x/text/language"

	"github.com/mxaccounts/mxaccounts/internal/threepid"
)

// builtin is the shipped catalogue: one directory per language, each with a .txt and
// an .html template per message kind, the subjects (subjects.txt, one named template
// per kind) and the HTML frame (layout.html).
//
//go:embed templates
var builtin embed.FS

// defaultLanguage is the language every other falls back to, file by file.
const defaultLanguage = "en"

// kinds are the messages every language provides, by fallback if not its own.
var kinds = []threepid.Kind{threepid.KindValidation, threepid.KindAddressInUse,
	threepid.KindNoAccount, threepid.KindPasswordChanged, threepid.KindThreePIDAdded,
	threepid.KindThreePIDRemoved}

// messageSet is the parsed templates of one language.
type messageSet struct {
	subjects *texttemplate.Template
	text     map[threepid.Kind]*texttemplate.Template
	html     map[threepid.Kind]*htmltemplate.Template
}

// catalogue holds the message sets by language and picks one for a request.
type catalogue struct {
	sets map[string]*messageSet
	// names are the language directories, in the order of tags.
	names   []string
	tags    []language.Tag
	matcher language.Matcher
	// subjects are the configured subjects, which replace the sets' in every language.
	subjects map[threepid.Kind]*texttemplate.Template
}

// loadCatalogue parses the built-in templates, overlaid file by file by those in dir
// when it is not "": a file there replaces the built-in file of the same path, and a
// language directory there adds a language. A file missing in a language is taken from
// English. Configured subjects replace the catalogue's.
func loadCatalogue(dir string, subjects map[threepid.Kind]string) (*catalogue, error) {
	src := layered{fs.FS(mustSub(builtin, "templates"))}
	if dir != "" {
		src = layered{os.DirFS(dir), src[0]}
	}
	langs, err := src.languages()
	if err != nil {
		return nil, err
	}

	c := &catalogue{sets: map[string]*messageSet{},
		subjects: map[threepid.Kind]*texttemplate.Template{}}
	for _, lang := range langs {
		set, err := parseSet(src, lang)
		if err != nil {
			return nil, err
		}
		c.sets[lang] = set
		c.names = append(c.names, lang)
		c.tags = append(c.tags, language.Make(lang))
	}
	c.matcher = language.NewMatcher(c.tags)

	for kind, subject := range subjects {
		if subject == "" {
			continue
		}
		t, err := texttemplate.New(string(kind)).Option("missingkey=error").Parse(subject)
		if err != nil {
			return nil, fmt.Errorf("email.subjects.%s: %w", kind, err)
		}
		c.subjects[kind] = t
	}
	return c, nil
}

// parseSet parses the templates of one language.
func parseSet(src layered, lang string) (*messageSet, error) {
	set := &messageSet{text: map[threepid.Kind]*texttemplate.Template{},
		html: map[threepid.Kind]*htmltemplate.Template{}}

	read := func(name string) (string, error) {
		data, err := src.read(lang, name)
		if err != nil {
			return "", fmt.Errorf("email template %s/%s: %w", lang, name, err)
		}
		return data, nil
	}
	subjects, err := read("subjects.txt")
	if err != nil {
		return nil, err
	}
	if set.subjects, err = texttemplate.New("subjects").Parse(subjects); err != nil {
		return nil, fmt.Errorf("email template %s/subjects.txt: %w", lang, err)
	}
	layout, err := read("layout.html")
	if err != nil {
		return nil, err
	}

	for _, kind := range kinds {
		text, err := read(string(kind) + ".txt")
		if err != nil {
			return nil, err
		}
		set.text[kind], err = texttemplate.New(string(kind)).Option("missingkey=error").
			Parse(text)
		if err != nil {
			return nil, fmt.Errorf("email template %s/%s.txt: %w", lang, kind, err)
		}
		if set.subjects.Lookup(string(kind)) == nil {
			return nil, fmt.Errorf("email template %s/subjects.txt defines no %q", lang, kind)
		}

		html, err := read(string(kind) + ".html")
		if err != nil {
			return nil, err
		}
		t, err := htmltemplate.New("layout").Parse(layout)
		if err == nil {
			t, err = t.Parse(html)
		}
		if err != nil {
			return nil, fmt.Errorf("email template %s/%s.html: %w", lang, kind, err)
		}
		set.html[kind] = t
	}
	return set, nil
}

// pick returns the language of the catalogue that suits an Accept-Language header
// best, and English when none does.
func (c *catalogue) pick(acceptLanguage string) string {
	prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(prefs) == 0 {
		return defaultLanguage
	}
	_, i, conf := c.matcher.Match(prefs...)
	if conf == language.No {
		return defaultLanguage
	}
	return c.names[i]
}

// rendered is one message ready to send.
type rendered struct {
	Lang, Subject, Text, HTML string
}

// render renders kind in the language picked for acceptLanguage with data.
func (c *catalogue) render(kind threepid.Kind, acceptLanguage string, data *data) (
	*rendered, error,
) {
	lang := c.pick(acceptLanguage)
	set := c.sets[lang]
	if set == nil || set.text[kind] == nil {
		return nil, fmt.Errorf("no email template for %q", kind)
	}
	data.Lang = lang

	var subject bytes.Buffer
	var err error
	if t, ok := c.subjects[kind]; ok {
		err = t.Execute(&subject, data)
	} else {
		err = set.subjects.ExecuteTemplate(&subject, string(kind), data)
	}
	if err != nil {
		return nil, fmt.Errorf("render the subject of %s in %s: %w", kind, lang, err)
	}
	// A subject is one line, whatever the template's line breaks.
	data.Subject = strings.Join(strings.Fields(subject.String()), " ")

	var text, html bytes.Buffer
	if err := set.text[kind].Execute(&text, data); err != nil {
		return nil, fmt.Errorf("render %s.txt in %s: %w", kind, lang, err)
	}
	if err := set.html[kind].ExecuteTemplate(&html, "layout", data); err != nil {
		return nil, fmt.Errorf("render %s.html in %s: %w", kind, lang, err)
	}
	return &rendered{Lang: lang, Subject: data.Subject, Text: text.String(),
		HTML: html.String()}, nil
}

// layered reads a file from the first file system that has it.
type layered []fs.FS

// read returns the file name of lang, or of English when no layer has it for lang.
func (l layered) read(lang, name string) (string, error) {
	for _, try := range []string{lang, defaultLanguage} {
		for _, fsys := range l {
			data, err := fs.ReadFile(fsys, try+"/"+name)
			if err == nil {
				return string(data), nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
	}
	return "", fs.ErrNotExist
}

// languages returns the language directories of every layer, English first. A
// directory whose name is no language tag is an error.
func (l layered) languages() ([]string, error) {
	seen := map[string]bool{defaultLanguage: true}
	out := []string{defaultLanguage}
	for _, fsys := range l {
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			return nil, fmt.Errorf("read email templates: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			if !e.IsDir() || seen[name] {
				continue
			}
			if _, err := language.Parse(name); err != nil {
				return nil, fmt.Errorf("email templates: directory %q is not a language "+
					"tag such as de or pt-BR", name)
			}
			seen[name] = true
			out = append(out, name)
		}
	}
	slices.Sort(out[1:])
	return out, nil
}

// mustSub returns the subtree dir of fsys, which must exist.
func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the embedded tree always has it
	}
	return sub
}
