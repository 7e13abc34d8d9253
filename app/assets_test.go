package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/public"
)

func testPublic() fstest.MapFS {
	return fstest.MapFS{
		"embed.go":                                   {Data: []byte("package public")},
		"css/portal.css":                             {Data: []byte("body{}")},
		"js/portal.js":                               {Data: []byte("initAll()")},
		"vendor/nhsuk/nhsuk-frontend.min.css":        {Data: []byte(".nhsuk{}")},
		"vendor/nhsuk/nhsuk-frontend.min.js":         {Data: []byte("export{}")},
		"vendor/nhsuk/assets/images/favicon.ico":     {Data: []byte{0, 0, 1, 0}},
		"vendor/nhsuk/assets/images/nhsuk-icon.svg":  {Data: []byte("<svg/>")},
		"vendor/nhsuk/assets/images/nhsuk-icon.png":  {Data: []byte("\x89PNG")},
		"vendor/nhsuk/assets/manifest.json":          {Data: []byte("{}")},
		"vendor/nhsuk/assets/fonts/frutiger.woff2":   {Data: []byte("wOF2")},
		"vendor/nhsuk/nhsuk-frontend.min.js.map":     {Data: []byte("{}")},
		"vendor/nhsuk/assets/images/unknown.unknown": {Data: []byte("?")},
	}
}

func TestNewAssetsNeedsTheDesignSystem(t *testing.T) {
	for _, missing := range []string{"vendor/nhsuk/nhsuk-frontend.min.css", "vendor/nhsuk/nhsuk-frontend.min.js"} {
		fsys := testPublic()
		delete(fsys, missing)
		_, err := NewAssets(fsys)
		if err == nil {
			t.Fatalf("without %s: want an error", missing)
		}
		if !strings.Contains(err.Error(), "run `make assets`") || !strings.Contains(err.Error(), missing) {
			t.Errorf("without %s: error %q should name the file and say to run `make assets`", missing, err)
		}
	}
}

func TestAssetsPath(t *testing.T) {
	a, err := NewAssets(testPublic())
	if err != nil {
		t.Fatal(err)
	}
	// The SHA-256 of "body{}" begins 9e9e0c1a8e5e… — whatever it is, the URL carries 12 hex characters.
	got := a.Path("css/portal.css")
	if !strings.HasPrefix(got, "/public/css/portal.css?v=") || len(got) != len("/public/css/portal.css?v=")+12 {
		t.Errorf("Path = %q", got)
	}
	for _, name := range []string{"css/nope.css", "embed.go", "../go.mod", "/css/portal.css", "", "css/../css/portal.css", "css/./portal.css", "css//portal.css", `css\portal.css`} {
		if _, err := a.url(name); err == nil {
			t.Errorf("url(%q): want an error", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Path of an unknown file did not panic")
		}
	}()
	a.Path("css/nope.css")
}

func TestAssetsHandlers(t *testing.T) {
	a, err := NewAssets(testPublic())
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	app.Get("/public/*", a.Handler())
	app.Get("/assets/*", a.NHSAssetsHandler())

	css := a.Path("css/portal.css")
	js := a.Path("js/portal.js")
	tests := []struct {
		name        string
		url         string
		ifNoneMatch string
		status      int
		contentType string
		cache       string
		body        string
	}{
		{"fingerprinted css", css, "", 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body{}"},
		{"fingerprinted js", js, "", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "initAll()"},
		{"unfingerprinted", "/public/css/portal.css", "", 200, "text/css; charset=utf-8", "public, max-age=300", "body{}"},
		{"stale fingerprint", "/public/css/portal.css?v=000000000000", "", 200, "text/css; charset=utf-8", "public, max-age=300", "body{}"},
		{"vendor js", "/public/vendor/nhsuk/nhsuk-frontend.min.js", "", 200, "text/javascript; charset=utf-8", "public, max-age=300", "export{}"},
		{"source map", "/public/vendor/nhsuk/nhsuk-frontend.min.js.map", "", 200, "application/json", "public, max-age=300", "{}"},
		{"not modified", "/public/css/portal.css", "", 304, "", "public, max-age=300", ""}, // If-None-Match set below
		{"nhs svg", "/assets/images/nhsuk-icon.svg", "", 200, "image/svg+xml", "public, max-age=86400", "<svg/>"},
		{"nhs png", "/assets/images/nhsuk-icon.png", "", 200, "image/png", "public, max-age=86400", "\x89PNG"},
		{"nhs ico", "/assets/images/favicon.ico", "", 200, "image/x-icon", "public, max-age=86400", "\x00\x00\x01\x00"},
		{"nhs manifest", "/assets/manifest.json", "", 200, "application/json", "public, max-age=86400", "{}"},
		{"font", "/assets/fonts/frutiger.woff2", "", 200, "font/woff2", "public, max-age=86400", "wOF2"},
		{"unknown type", "/assets/images/unknown.unknown", "", 200, "application/octet-stream", "public, max-age=86400", "?"},
		{"source outside the served folders", "/public/embed.go", "", 404, "", "", ""},
		{"unknown file", "/public/css/nope.css", "", 404, "", "", ""},
		{"folder", "/public/css", "", 404, "", "", ""},
		{"folder with slash", "/public/css/", "", 404, "", "", ""},
		{"traversal", "/public/css/../embed.go", "", 404, "", "", ""},
		{"encoded traversal", "/public/css/..%2fembed.go", "", 404, "", "", ""},
		{"double-encoded traversal", "/public/css/%252e%252e/embed.go", "", 404, "", "", ""},
		{"backslash", "/public/css\\portal.css", "", 404, "", "", ""},
		{"traversal out of nhs assets", "/assets/../nhsuk-frontend.min.css", "", 404, "", "", ""},
		{"encoded traversal out of nhs assets", "/assets/images/..%2f..%2fnhsuk-frontend.min.js", "", 404, "", "", ""},
		{"nhs assets only serves its folder", "/assets/nhsuk-frontend.min.css", "", 404, "", "", ""},
		{"unknown nhs asset", "/assets/images/nope.svg", "", 404, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RequestURI = tc.url // sent as written, so encoded and ".." paths reach the server unchanged
			if tc.status == 304 {
				req.Header.Set("If-None-Match", `W/"x", "`+a.files["css/portal.css"].hash+`"`)
			}
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == 404 {
				return
			}
			if got := resp.Header.Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
			if got := resp.Header.Get("ETag"); len(got) != 14 || got[0] != '"' {
				t.Errorf("ETag %q, want a quoted 12-character hash", got)
			}
			if tc.status == 304 {
				if len(body) != 0 {
					t.Errorf("304 with a body of %d bytes", len(body))
				}
				return
			}
			if got := resp.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			if string(body) != tc.body {
				t.Errorf("body %q, want %q", body, tc.body)
			}
		})
	}
}

// TestRealAssets checks the portal's own public folder: the files the layout links exist, and the NHS
// design system's CSS finds its images under /assets/.
func TestRealAssets(t *testing.T) {
	a, err := NewAssets(public.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"css/portal.css", "js/portal.js", "vendor/nhsuk/nhsuk-frontend.min.css", "vendor/nhsuk/nhsuk-frontend.min.js"} {
		if _, err := a.url(name); err != nil {
			t.Error(err)
		}
	}
	css := string(a.files["vendor/nhsuk/nhsuk-frontend.min.css"].body)
	// The portal loads nothing from elsewhere: `make assets` drops the design system's web-font rules.
	if strings.Contains(css, "https://") || strings.Contains(css, "http://") {
		t.Error("the vendored design-system CSS refers to another site; run `make assets`")
	}
	for _, image := range []string{"nhsuk-icon-arrow-down.svg", "nhsuk-icon-cross.svg"} {
		if strings.Contains(css, "/assets/images/"+image) {
			if _, ok := a.files["vendor/nhsuk/assets/images/"+image]; !ok {
				t.Errorf("the design system's CSS asks for /assets/images/%s, which is not there", image)
			}
		}
	}
}
