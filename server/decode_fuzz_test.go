package server

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fuzzBody has a field of each kind command bodies use: strings, an
// optional instant, a number, a nested object and arrays.
type fuzzBody struct {
	Name  string     `json:"name"`
	Due   *time.Time `json:"due"`
	Count int        `json:"count"`
	Inner struct {
		Note string `json:"note"`
		Deep *struct {
			Level int `json:"level"`
		} `json:"deep"`
	} `json:"inner"`
	Tags  []string `json:"tags"`
	Items []struct {
		ID  string `json:"id"`
		Qty int    `json:"qty"`
	} `json:"items"`
}

// FuzzDecodeBody feeds arbitrary bytes to decodeBody. Properties: it never
// panics; an error is always an *apiError with Status 400 and at least one
// field with a problem; the outcome is deterministic (the same bytes decode
// to the same value, or fail with the same error, again).
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range []string{
		// Valid bodies.
		`{}`,
		`{"name":"Kettle","due":"2026-05-15T12:00:00Z","count":3,"inner":{"note":"n","deep":{"level":1}},"tags":["a","b"],"items":[{"id":"x","qty":2}]}`,
		`{"due":"2026-05-15T12:00:00+08:00"}`,
		`{"due":null,"tags":null,"inner":{"deep":null}}`,
		`{"name":"包裹破损 👍"}`,
		` {"count":-1} ` + "\n",
		`{"NAME":"case-insensitive match"}`,
		// Trailing data.
		`{"name":"a"} {"name":"b"}`,
		`{"name":"a"}{}`,
		`{"name":"a"}]`,
		`{"name":"a"} x`,
		`{} null`,
		// Unknown fields, also in nested objects and array elements.
		`{"extra":1}`,
		`{"inner":{"extra":1}}`,
		`{"items":[{"extra":1}]}`,
		`{"":1}`,
		`{"\u0000":1}`,
		// NUL and invalid UTF-8 in strings (the decoder passes them on;
		// the input checks reject them later).
		`{"name":"a\u0000b"}`,
		"{\"name\":\"a\x00b\"}",
		"{\"name\":\"\xff\xc3\"}",
		`{"name":"\ud800"}`,
		"\xff",
		// Wrong types.
		`{"count":"3"}`,
		`{"name":1}`,
		`{"due":"tomorrow"}`,
		`{"due":1}`,
		`{"inner":[]}`,
		`{"tags":"a"}`,
		`{"items":[1]}`,
		`[1]`,
		`"a"`,
		`null`,
		`true`,
		// Huge numbers.
		`{"count":99999999999999999999999999}`,
		`{"count":1e999}`,
		`{"count":1.5}`,
		`{"count":-0}`,
		`{"inner":{"deep":{"level":9223372036854775808}}}`,
		// Deep nesting, beyond encoding/json's limit of 10000.
		strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001),
		strings.Repeat(`{"inner":`, 200) + `{}` + strings.Repeat(`}`, 200),
		`{"x":` + strings.Repeat(`{"a":`, 10001) + `1` + strings.Repeat(`}`, 10002),
		// Malformed JSON and an empty body.
		``,
		` `,
		`{`,
		`{"name":"a"`,
		`{"name":}`,
		`{name:"a"}`,
		`{"name":"a",}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var first fuzzBody
		err := decodeBody(body, &first)
		if err != nil {
			ae, ok := err.(*apiError)
			if !ok {
				t.Fatalf("%q: error %T %v, want an *apiError", body, err, err)
			}
			if ae.Status != http.StatusBadRequest {
				t.Errorf("%q: status %d, want 400", body, ae.Status)
			}
			if len(ae.Fields) == 0 {
				t.Errorf("%q: %v has no fields", body, ae)
			}
			for field, problem := range ae.Fields {
				if problem == "" {
					t.Errorf("%q: field %q has an empty problem", body, field)
				}
			}
			var again fuzzBody
			if err2 := decodeBody(body, &again); !reflect.DeepEqual(err, err2) {
				t.Errorf("%q: decoded twice, failed with %v then %v", body, err, err2)
			}
			return
		}
		var again fuzzBody
		if err := decodeBody(body, &again); err != nil {
			t.Fatalf("%q: decoded once, then failed with %v", body, err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Errorf("%q: decoded twice to different values:\n%+v\n%+v", body, first, again)
		}
	})
}
