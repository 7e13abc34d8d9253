// Package mailtest is for tests of the portal's emails: a real SMTP server, run in the test's process,
// that keeps every email it accepts, and a MIME reader that takes an email apart as a mail program would
// (headers, the plain-text and HTML parts with their transfer encodings undone, and the links of each).
package mailtest

import (
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"encoding/base64"

	"github.com/emersion/go-smtp"
	"golang.org/x/net/html"
)

// Mail is one email taken apart.
type Mail struct {
	From   string   // the envelope sender
	To     []string // the envelope recipients
	Header netmail.Header
	Raw    string
	// Text and HTML are the decoded plain-text and HTML parts ("" when missing); Body is Text for a
	// single-part email of any type.
	Text string
	HTML string
	// TextLinks are the web addresses in the plain-text part, in order; HTMLLinks the href of every
	// <a> of the HTML part with its text, in order.
	TextLinks []string
	HTMLLinks []Anchor
	// Parts lists the content types of the parts, in order.
	Parts []string
}

// Anchor is a link of an HTML part: where it goes and the words it shows.
type Anchor struct {
	Href string
	Text string
}

// Parse takes a raw email apart. It accepts a single part of any type, or multipart/alternative (or
// multipart/mixed) holding text/plain and text/html.
func Parse(raw []byte) (*Mail, error) {
	msg, err := netmail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("read email: %w", err)
	}
	m := &Mail{Header: msg.Header, Raw: string(raw)}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("content type %q: %w", msg.Header.Get("Content-Type"), err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("read part: %w", err)
			}
			pt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
			if err != nil {
				return nil, fmt.Errorf("part content type: %w", err)
			}
			body, err := decode(p, p.Header.Get("Content-Transfer-Encoding"))
			if err != nil {
				return nil, err
			}
			m.Parts = append(m.Parts, pt)
			switch pt {
			case "text/plain":
				m.Text = body
			case "text/html":
				m.HTML = body
			}
		}
	} else {
		body, err := decode(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return nil, err
		}
		m.Parts = []string{mediaType}
		if mediaType == "text/html" {
			m.HTML = body
		} else {
			m.Text = body
		}
	}
	m.TextLinks = webAddresses.FindAllString(m.Text, -1)
	if m.HTML != "" {
		if m.HTMLLinks, err = anchors(m.HTML); err != nil {
			return nil, err
		}
	}
	return m, nil
}

var webAddresses = regexp.MustCompile(`https?://[^\s<>"]+`)

// Body is the plain-text part, or the only part.
func (m *Mail) Body() string {
	if m.Text != "" {
		return m.Text
	}
	return m.HTML
}

func decode(r io.Reader, encoding string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &stripNewlines{r: r})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("decode %s part: %w", encoding, err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}

// stripNewlines drops the line breaks of a base64 body.
type stripNewlines struct{ r io.Reader }

func (s *stripNewlines) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// anchors lists the links of an HTML document.
func anchors(doc string) ([]Anchor, error) {
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("parse HTML part: %w", err)
	}
	var out []Anchor
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			a := Anchor{Text: strings.Join(strings.Fields(textOf(n)), " ")}
			for _, at := range n.Attr {
				if at.Key == "href" {
					a.Href = at.Val
				}
			}
			out = append(out, a)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return out, nil
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

// Server is an SMTP server that keeps every email it accepts.
type Server struct {
	Host string
	Port int

	mu    sync.Mutex
	mails []*Mail
}

// Start runs a Server on a free loopback port until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{server: s}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Errorf("smtp server: %v", err)
		}
	}()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Received returns the emails accepted so far, in order.
func (s *Server) Received() []*Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Mail(nil), s.mails...)
}

type session struct {
	server *Server
	from   string
	to     []string
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error { ss.from = from; return nil }

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := Parse(raw)
	if err != nil {
		return err
	}
	m.From, m.To = ss.from, ss.to
	ss.server.mu.Lock()
	defer ss.server.mu.Unlock()
	ss.server.mails = append(ss.server.mails, m)
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }
