package app

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Assets are the portal's static files (public/), read and fingerprinted once at start-up so that pages
// link to "/public/css/portal.css?v=<hash>" and browsers may keep such a URL for a year.
type Assets struct {
	files map[string]assetFile // by path inside public/, e.g. "css/portal.css"
}

type assetFile struct {
	body        []byte
	hash        string // the first 12 hex characters of the SHA-256 of body
	contentType string
}

const (
	cacheFingerprinted = "public, max-age=31536000, immutable"
	cacheShort         = "public, max-age=300"
	cacheNHSAssets     = "public, max-age=86400"
	nhsAssetsDir       = "vendor/nhsuk/assets/"
)

// NewAssets reads and hashes every file of public. It fails when the NHS design system has not been
// copied into public/vendor, saying how to fix that.
func NewAssets(public fs.FS) (*Assets, error) {
	a := &Assets{files: make(map[string]assetFile)}
	err := fs.WalkDir(public, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		body, err := fs.ReadFile(public, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		a.files[name] = assetFile{body: body, hash: hex.EncodeToString(sum[:])[:12], contentType: contentType(name)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read public files: %w", err)
	}
	for _, name := range []string{"vendor/nhsuk/nhsuk-frontend.min.css", "vendor/nhsuk/nhsuk-frontend.min.js"} {
		if _, ok := a.files[name]; !ok {
			return nil, fmt.Errorf("public/%s is missing: run `make assets` to copy the NHS design system "+
				"from node_modules into public/vendor, then build again", name)
		}
	}
	return a, nil
}

// Path returns the fingerprinted URL of a served file, e.g. Path("css/portal.css") is
// "/public/css/portal.css?v=1a2b3c4d5e6f". It panics when there is no such file: names are written in
// the code, so a wrong one is a programming error. Templates use the "asset" function, which fails
// start-up instead.
func (a *Assets) Path(name string) string {
	p, err := a.url(name)
	if err != nil {
		panic(err)
	}
	return p
}

// url is Path returning an error instead of panicking.
func (a *Assets) url(name string) (string, error) {
	f, ok := a.lookup(name)
	if !ok {
		return "", fmt.Errorf("no public file %q is served (names are relative to public/, e.g. \"css/portal.css\")", name)
	}
	return "/public/" + name + "?v=" + f.hash, nil
}

// lookup finds a file that may be served under /public: only what is in css/, js/ and vendor/.
func (a *Assets) lookup(name string) (assetFile, bool) {
	if !cleanName(name) {
		return assetFile{}, false
	}
	if !strings.HasPrefix(name, "css/") && !strings.HasPrefix(name, "js/") && !strings.HasPrefix(name, "vendor/") {
		return assetFile{}, false
	}
	f, ok := a.files[name]
	return f, ok
}

// Handler serves GET /public/*. A request whose ?v= matches the file's fingerprint may be cached for a
// year; any other for five minutes. Anything outside css/, js/ and vendor/ is not found.
func (a *Assets) Handler() fiber.Handler {
	return func(c *fiber.Ctx) error {
		f, ok := a.lookup(c.Params("*"))
		if !ok {
			return fiber.ErrNotFound
		}
		cache := cacheShort
		if c.Query("v") == f.hash {
			cache = cacheFingerprinted
		}
		return sendAsset(c, f, cache)
	}
}

// NHSAssetsHandler serves GET /assets/*: the NHS design system's images and manifest, which its CSS
// asks for at /assets/images/…, cached for a day.
func (a *Assets) NHSAssetsHandler() fiber.Handler {
	return func(c *fiber.Ctx) error {
		name := c.Params("*")
		if !cleanName(name) {
			return fiber.ErrNotFound
		}
		f, ok := a.files[nhsAssetsDir+name]
		if !ok {
			return fiber.ErrNotFound
		}
		return sendAsset(c, f, cacheNHSAssets)
	}
}

func sendAsset(c *fiber.Ctx, f assetFile, cacheControl string) error {
	etag := `"` + f.hash + `"`
	c.Set(fiber.HeaderCacheControl, cacheControl)
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), etag) {
		c.Status(fiber.StatusNotModified)
		return nil
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	return c.Send(f.body)
}

// cleanName reports whether name is a plain relative path: no "..", no empty or "." segments, no
// leading or trailing slash, no backslash.
func cleanName(name string) bool {
	return name != "" && fs.ValidPath(name) && !strings.Contains(name, `\`)
}

// etagMatches reports whether an If-None-Match header names etag (weak or strong) or is "*".
func etagMatches(header, etag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == etag || candidate == "*" {
			return true
		}
	}
	return false
}

// contentType is the media type of a public file, from its extension. The table is written out so that
// it does not depend on the host's MIME database.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".woff2":
		return "font/woff2"
	case ".woff":
		return "font/woff"
	case ".txt":
		return "text/plain; charset=utf-8"
	default:
		return "application/octet-stream"
	}
}
