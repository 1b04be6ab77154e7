package server

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
)

// api.md lists: ?limit= (default 50, max 500) and an opaque `next` cursor.
const (
	defaultLimit = 50
	maxLimit     = 500
)

// page is the paging part of a list request.
type page struct {
	limit  int
	cursor []byte // the decoded cursor, nil on the first page
}

// parsePage reads limit and next from q, reporting problems into errs.
func parsePage(q url.Values, errs fieldErrors) page {
	p := page{limit: defaultLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			errs.add("limit", fmt.Sprintf("must be a whole number from 1 to %d", maxLimit))
		} else {
			p.limit = n
		}
	}
	if v := q.Get("next"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || !json.Valid(b) {
			errs.add("next", "not a cursor this server gave out")
		} else {
			p.cursor = b
		}
	}
	return p
}

// decodeCursor fills dst from the page's cursor, if any.
func (p page) decodeCursor(dst any, errs fieldErrors) bool {
	if p.cursor == nil {
		return false
	}
	if err := json.Unmarshal(p.cursor, dst); err != nil {
		errs.add("next", "not a cursor this server gave out")
		return false
	}
	return true
}

// encodeCursor makes the opaque `next` of a list answer.
func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// listResponse is every list's body: the items and, when there may be
// more, the cursor of the next page.
type listResponse[T any] struct {
	Items []T     `json:"items"`
	Next  *string `json:"next"`
}

// paginate turns the rows of a keyset query asked for limit+1 rows into a
// list answer: the extra row only says there is a next page, whose cursor
// is the last returned row's key.
func paginate[R, T any](rows []R, limit int, key func(R) any, item func(R) T) listResponse[T] {
	out := listResponse[T]{Items: make([]T, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			next := encodeCursor(key(rows[i-1]))
			out.Next = &next
			break
		}
		out.Items = append(out.Items, item(r))
	}
	return out
}
