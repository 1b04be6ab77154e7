package server

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodeJSONStrict(t *testing.T) {
	type body struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
		On    *bool  `json:"on"`
	}
	for _, tc := range []struct {
		in, field string
	}{
		{`{"name":"a","count":1}`, ""},
		{`{"name":"a","extra":1}`, "extra"},
		{`{"count":"3"}`, "count"},
		{`{"on":1}`, "on"},
		{`{"name":"a"} {"name":"b"}`, "body"},
		{`{"name":"a"`, "body"},
		{``, "body"},
		{`[1]`, "body"},
		{`{"name":"` + strings.Repeat("x", maxBodyBytes) + `"}`, "body"},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.in))
		var b body
		err := decodeJSON(httptest.NewRecorder(), r, &b)
		if tc.field == "" {
			if err != nil {
				t.Errorf("%.40s: unexpected %v", tc.in, err)
			}
			continue
		}
		var ae *apiError
		if !errors.As(err, &ae) || ae.Status != 400 || ae.Fields[tc.field] == "" {
			t.Errorf("%.40s: got %v, want 400 on field %q", tc.in, err, tc.field)
		}
	}
}
