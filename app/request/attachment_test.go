package request_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/problem"
	"github.com/nhs-esr/portal/app/request"
)

// Files as their first bytes make them.
var (
	pdfFile  = []byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
	pngFile  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"), make([]byte, 40)...)
	jpegFile = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"), make([]byte, 40)...)
	exeFile  = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 200)...)
)

// zipFile builds a ZIP archive holding the named (empty) entries, in order.
func zipFile(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		f, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("<x/>")); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSniffAttachment(t *testing.T) {
	docx := zipFile(t, "[Content_Types].xml", "_rels/.rels", "docProps/thumbnail.jpeg", "word/document.xml")
	xlsx := zipFile(t, "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml")
	// A large first entry pushes word/ beyond what a signature sniffer reads; the archive's central
	// directory still names it.
	var bigDocx bytes.Buffer
	zw := zip.NewWriter(&bigDocx)
	for _, n := range []string{"[Content_Types].xml", "docProps/thumbnail.jpeg", "word/document.xml"} {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(bytes.Repeat([]byte{'x'}, 10000)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	docm := zipFile(t, "[Content_Types].xml", "word/document.xml", "word/vbaProject.bin")
	plainZip := zipFile(t, "notes.txt")
	jar := zipFile(t, "META-INF/MANIFEST.MF", "Main.class")

	cases := []struct {
		name     string
		filename string
		content  []byte
		wantName string // "" when refused
		wantType string
		refusal  string // part of the refusal
	}{
		{"PDF", "Business case.pdf", pdfFile, "Business case.pdf", request.TypePDF, ""},
		{"PNG", "screen.PNG", pngFile, "screen.PNG", request.TypePNG, ""},
		{"JPEG as .jpg", "photo.jpg", jpegFile, "photo.jpg", request.TypeJPEG, ""},
		{"JPEG as .jpeg", "photo.jpeg", jpegFile, "photo.jpeg", request.TypeJPEG, ""},
		{"DOCX", "Requirement.docx", docx, "Requirement.docx", request.TypeDOCX, ""},
		{"DOCX with word/ far in", "Big.docx", bigDocx.Bytes(), "Big.docx", request.TypeDOCX, ""},
		{"XLSX", "Savings.xlsx", xlsx, "Savings.xlsx", request.TypeXLSX, ""},
		{"no extension gets one", "scan", pdfFile, "scan.pdf", request.TypePDF, ""},
		{"a Windows path is cut to the name", `C:\fakepath\Report.pdf`, pdfFile, "Report.pdf", request.TypePDF, ""},
		{"control characters and quotes go", "a\"b\x00\nc.pdf", pdfFile, "abc.pdf", request.TypePDF, ""},
		{"executable renamed .pdf", "invoice.pdf", exeFile, "", "", "must be a PDF"},
		{"executable", "setup.exe", exeFile, "", "", "must be a PDF"},
		{"PNG called .pdf", "chart.pdf", pngFile, "", "", "is a PNG image"},
		{"PDF called .docx", "letter.docx", pdfFile, "", "", "is a PDF"},
		{"DOCX called .xlsx", "sheet.xlsx", docx, "", "", "is a Word document"},
		{"PDF called .exe", "tool.exe", pdfFile, "", "", "rename it to end .pdf"},
		{"macro-enabled Word", "macro.docx", docm, "", "", "macros"},
		{"plain ZIP", "archive.docx", plainZip, "", "", "must be a PDF"},
		{"Java archive", "app.docx", jar, "", "", "must be a PDF"},
		{"broken ZIP", "broken.docx", []byte("PK\x03\x04garbage"), "", "", "damaged"},
		{"HTML", "page.pdf", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), "", "", "must be a PDF"},
		{"text", "notes.pdf", []byte("just some notes"), "", "", "must be a PDF"},
		{"empty", "empty.pdf", nil, "", "", "empty"},
		{"too large", "huge.pdf", append(append([]byte{}, pdfFile...), make([]byte, request.MaxAttachmentBytes)...), "", "", "smaller than 5 MB"},
		{"just under the limit", "big.pdf", append(append([]byte{}, pdfFile...), make([]byte, request.MaxAttachmentBytes-len(pdfFile))...), "big.pdf", request.TypePDF, ""},
		{"no name", "  ", pdfFile, "", "", "Select a file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name, ct, err := request.SniffAttachment(c.filename, c.content)
			if c.refusal != "" {
				var rule *request.RuleError
				if !errors.As(err, &rule) || rule.Field != "file" || !strings.Contains(rule.Message, c.refusal) {
					t.Fatalf("got %q %q %v, want a refusal mentioning %q", name, ct, err, c.refusal)
				}
				return
			}
			if err != nil || name != c.wantName || ct != c.wantType {
				t.Fatalf("got %q %q %v, want %q %q", name, ct, err, c.wantName, c.wantType)
			}
		})
	}
}

func TestAttachmentsStoreAndAccess(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.inRequirements("Attach to me")
	add := func(who, name string, content []byte) (*request.Attachment, error) {
		return request.AddAttachment(ctx, w.db, w.v[who], audit.Actor{Name: who}, w.now, r.Reference, name, content)
	}
	a, err := add("raiser", "Business case.pdf", pdfFile)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pdfFile)
	if a.ContentType != request.TypePDF || a.SizeBytes != len(pdfFile) || !bytes.Equal(a.SHA256, sum[:]) {
		t.Errorf("stored %+v", a)
	}
	for _, who := range []string{"developer", "central", "fam_region"} {
		if _, err := add(who, who+".png", pngFile); err != nil {
			t.Errorf("%s uploads: %v", who, err)
		}
	}
	for who, want := range map[string]error{
		"nsig_member":   problem.ErrForbidden, // reviews it, but does not add documents
		"other_org":     problem.ErrNotFound,
		"fam_elsewhere": problem.ErrNotFound,
		"admin":         problem.ErrNotFound,
	} {
		if _, err := add(who, "x.pdf", pdfFile); !errors.Is(err, want) {
			t.Errorf("%s uploads: %v, want %v", who, err, want)
		}
		// Even a file that would be refused tells an outsider nothing.
		if _, err := add(who, "x.pdf", exeFile); !errors.Is(err, want) {
			t.Errorf("%s uploads an executable: %v, want %v", who, err, want)
		}
	}
	if _, err := add("raiser", "x.pdf", exeFile); !isRule(err) {
		t.Errorf("an executable: %v", err)
	}

	list, err := request.Attachments(ctx, w.db, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 4 || list[0].Filename != "Business case.pdf" || list[0].UploaderName != "Test raiser" {
		t.Fatalf("list %+v", list)
	}
	for who, want := range map[string]error{"raiser": nil, "fam_region": nil, "nsig_member": nil, "developer": nil,
		"other_org": problem.ErrNotFound, "fam_elsewhere": problem.ErrNotFound, "admin": problem.ErrNotFound} {
		f, err := request.GetAttachment(ctx, w.db, w.v[who], r.Reference, a.ID)
		if !errors.Is(err, want) {
			t.Errorf("%s downloads: %v, want %v", who, err, want)
			continue
		}
		if want == nil && (!bytes.Equal(f.Content, pdfFile) || f.Filename != "Business case.pdf") {
			t.Errorf("%s downloads %q, %d bytes", who, f.Filename, len(f.Content))
		}
	}
	// An attachment of another request is not found through this one.
	other := w.inRequirements("Another")
	if _, err := request.GetAttachment(ctx, w.db, w.v["raiser"], other.Reference, a.ID); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("attachment through another request: %v", err)
	}
	if got := w.countRows("SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'attachment_added'", r.ID); got != 4 {
		t.Errorf("%d timeline events, want 4", got)
	}
	if got := w.countRows("SELECT count(*) FROM audit_events WHERE entity_id = ? AND action = 'attachment.added'", r.Reference); got != 4 {
		t.Errorf("%d audit events, want 4", got)
	}
}
