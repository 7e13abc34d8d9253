package app

import (
	"fmt"
	"net/url"
	"strconv"
)

// Pagination is the previous/next links under a list.
type Pagination struct {
	PrevHref, NextHref   string
	PrevLabel, NextLabel string
	Page, Pages          int
}

func paginate(base string, q url.Values, page, perPage, total int) Pagination {
	pages := max(1, (total+perPage-1)/perPage)
	p := Pagination{Page: page, Pages: pages}
	link := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			if len(vs) > 0 && vs[0] != "" {
				v.Set(k, vs[0])
			}
		}
		v.Set("page", strconv.Itoa(n))
		return base + "?" + v.Encode()
	}
	if page > 1 {
		p.PrevHref, p.PrevLabel = link(page-1), fmt.Sprintf("%d of %d", page-1, pages)
	}
	if page < pages {
		p.NextHref, p.NextLabel = link(page+1), fmt.Sprintf("%d of %d", page+1, pages)
	}
	return p
}
