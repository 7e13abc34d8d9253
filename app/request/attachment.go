package request

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/problem"
)

// Supporting documents are stored in PostgreSQL with their SHA-256. What a file is comes from its
// bytes, never from its name: a name whose extension says something else is refused, so that what is
// downloaded later opens as what it claims to be.

// MaxAttachmentBytes is the largest supporting document, 5 MiB.
const MaxAttachmentBytes = 5 << 20

// The content types a supporting document may have.
const (
	TypePDF  = "application/pdf"
	TypeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	TypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
)

// attachmentTypes are the kinds of file accepted: content type, what users call it, and the
// extensions a name may end with.
var attachmentTypes = []struct {
	ContentType string
	Kind        string
	Extensions  []string
}{
	{TypePDF, "PDF", []string{".pdf"}},
	{TypeDOCX, "Word document", []string{".docx"}},
	{TypeXLSX, "Excel spreadsheet", []string{".xlsx"}},
	{TypePNG, "PNG image", []string{".png"}},
	{TypeJPEG, "JPEG image", []string{".jpg", ".jpeg"}},
}

// AttachmentKind is a content type in words, e.g. "PDF".
func AttachmentKind(contentType string) string {
	for _, t := range attachmentTypes {
		if t.ContentType == contentType {
			return t.Kind
		}
	}
	return contentType
}

const wrongType = "The file must be a PDF, Word document (DOCX), Excel spreadsheet (XLSX), PNG or JPEG"

// SniffAttachment checks a supporting document by its content and returns its name, made safe to
// store and show, and its content type. It refuses (with a *RuleError on the field "file") a file that
// is empty or too large, that is not one of the accepted kinds, or whose name's extension says it is
// another kind. A name without an extension is given the right one.
//
// Detection: mimetype (already in the module through the validator) recognises PDF, PNG and JPEG by
// their signatures, and executables and other formats so that they are refused. Word and Excel files
// are ZIP archives; mimetype reads only the first few kilobytes, so their structure is checked here
// with archive/zip instead, from the archive's central directory: [Content_Types].xml plus
// word/document.xml or xl/workbook.xml. Macro-enabled documents (with a vbaProject.bin), which can
// carry code, are refused.
func SniffAttachment(filename string, content []byte) (string, string, error) {
	name := safeFilename(filename)
	switch {
	case name == "":
		return "", "", &RuleError{Field: "file", Message: "Select a file"}
	case len(content) == 0:
		return "", "", &RuleError{Field: "file", Message: "The selected file is empty"}
	case len(content) > MaxAttachmentBytes:
		return "", "", &RuleError{Field: "file", Message: "The file must be smaller than 5 MB"}
	}
	contentType := ""
	if bytes.HasPrefix(content, []byte("PK\x03\x04")) {
		ct, err := officeType(content)
		if err != nil {
			return "", "", err
		}
		contentType = ct
	} else {
		m := mimetype.Detect(content)
		for _, t := range []string{TypePDF, TypePNG, TypeJPEG} {
			if m.Is(t) {
				contentType = t
			}
		}
	}
	if contentType == "" {
		return "", "", &RuleError{Field: "file", Message: wrongType}
	}
	for _, t := range attachmentTypes {
		if t.ContentType != contentType {
			continue
		}
		ext := strings.ToLower(path.Ext(name))
		switch {
		case ext == "":
			name += t.Extensions[0]
		case !contains(t.Extensions, ext):
			return "", "", &RuleError{Field: "file", Message: fmt.Sprintf("The file is called %s but it is a %s: rename it to end %s, or choose the file you meant", ext, t.Kind, t.Extensions[0])}
		}
	}
	return name, contentType, nil
}

// officeType recognises a DOCX or XLSX file from its ZIP structure.
func officeType(content []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(content), int64(len(content)))
	if err != nil {
		return "", &RuleError{Field: "file", Message: "The file is damaged or is not a Word or Excel file: " + strings.ToLower(wrongType[:1]) + wrongType[1:]}
	}
	has := map[string]bool{}
	for _, f := range zr.File {
		has[f.Name] = true
	}
	if has["word/vbaProject.bin"] || has["xl/vbaProject.bin"] {
		return "", &RuleError{Field: "file", Message: "The file contains macros: save it as a plain Word (DOCX) or Excel (XLSX) file without macros"}
	}
	switch {
	case !has["[Content_Types].xml"]:
		return "", &RuleError{Field: "file", Message: wrongType}
	case has["word/document.xml"]:
		return TypeDOCX, nil
	case has["xl/workbook.xml"]:
		return TypeXLSX, nil
	}
	return "", &RuleError{Field: "file", Message: wrongType}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// safeFilename keeps the last part of a name a browser sent (some send the whole path), without
// control characters or surrounding spaces, at most 200 characters with its extension kept.
func safeFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToValidUTF8(name, "")
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	if utf8.RuneCountInString(name) > 200 {
		ext := path.Ext(name)
		if utf8.RuneCountInString(ext) > 10 {
			ext = ""
		}
		r := []rune(strings.TrimSuffix(name, ext))
		name = string(r[:200-utf8.RuneCountInString(ext)]) + ext
	}
	return name
}

// Attachment is a supporting document, without its content.
type Attachment struct {
	bun.BaseModel `bun:"table:attachments,alias:at"`

	ID           int64     `bun:"id,pk,autoincrement"`
	RequestID    int64     `bun:"request_id"`
	Filename     string    `bun:"filename"`
	ContentType  string    `bun:"content_type"`
	SizeBytes    int       `bun:"size_bytes"`
	SHA256       []byte    `bun:"sha256"`
	UploadedBy   int64     `bun:"uploaded_by"`
	CreatedAt    time.Time `bun:"created_at"`
	UploaderName string    `bun:"uploader_name,scanonly"`
	UploaderOrg  PersonOrg `bun:"embed:uploader_"`
}

// Uploader is who added the document.
func (a *Attachment) Uploader() Person { return a.UploaderOrg.Person(a.UploadedBy, a.UploaderName) }

// AttachmentFile is a supporting document with its content, for download.
type AttachmentFile struct {
	Attachment `bun:",extend"`
	Content    []byte `bun:"content"`
}

// CanUpload reports whether the viewer may add supporting documents: the raising organisation, the
// development and central teams and the region's functional account manager, all of whom see the
// request in full.
func CanUpload(v Viewer, r *Request) bool {
	if v.AccessTo(r) < AccessFull {
		return false
	}
	return v.IsRaiser(r) || v.Has(identity.RoleDevelopmentTeam) || v.Has(identity.RoleCentralTeam) ||
		(v.Has(identity.RoleFunctionalAccountManager) && v.RegionID == r.RegionID)
}

// AddAttachment stores a supporting document on a request that is still open, after checking it with
// SniffAttachment, in one transaction with its timeline and audit events.
func AddAttachment(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference, filename string, content []byte) (*Attachment, error) {
	name, contentType, err := SniffAttachment(filename, content)
	if err != nil {
		// Who may upload is checked first, so that a refused file tells nobody anything.
		if _, gerr := uploadable(ctx, db, v, reference); gerr != nil {
			return nil, gerr
		}
		return nil, err
	}
	sum := sha256.Sum256(content)
	var out *Attachment
	err = database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockForWork(ctx, tx, v, reference)
		if err != nil {
			return err
		}
		if !CanUpload(v, r) {
			return fmt.Errorf("upload to %s: %w", reference, problem.ErrForbidden)
		}
		if r.Status.Closed() {
			return &RuleError{Field: "file", Message: "Documents cannot be added to a request that is closed"}
		}
		f := &AttachmentFile{Attachment: Attachment{RequestID: r.ID, Filename: name, ContentType: contentType, SizeBytes: len(content),
			SHA256: sum[:], UploadedBy: v.UserID, CreatedAt: now, UploaderName: v.Name}, Content: content}
		if _, err := tx.NewInsert().Model(f).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("store attachment on %s: %w", reference, err)
		}
		if err := addEvent(ctx, tx, Event{RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name, Kind: "attachment_added",
			Summary: fmt.Sprintf("A supporting document was added: %s (%s).", name, AttachmentKind(contentType))}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "attachment.added", EntityType: "request", EntityID: r.Reference,
			After: map[string]any{"attachment_id": f.ID, "content_type": contentType, "size_bytes": len(content),
				"sha256": fmt.Sprintf("%x", sum)},
		}); err != nil {
			return err
		}
		out = &f.Attachment
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("add attachment to %s: %w", reference, err)
	}
	return out, nil
}

// uploadable checks that the viewer may add documents to the request, without locking it.
func uploadable(ctx context.Context, db bun.IDB, v Viewer, reference string) (*EnhancementRequest, error) {
	er, access, err := GetEnhancement(ctx, db, v, reference)
	if err != nil {
		return nil, err
	}
	if access < AccessFull {
		return nil, fmt.Errorf("request %s: %w", reference, problem.ErrNotFound)
	}
	if !CanUpload(v, &er.Request) {
		return nil, fmt.Errorf("upload to %s: %w", reference, problem.ErrForbidden)
	}
	return er, nil
}

// Attachments lists a request's supporting documents, oldest first, without their content.
func Attachments(ctx context.Context, db bun.IDB, requestID int64) ([]Attachment, error) {
	var out []Attachment
	err := db.NewSelect().Model(&out).
		ColumnExpr("at.id, at.request_id, at.filename, at.content_type, at.size_bytes, at.sha256, at.uploaded_by, at.created_at").
		ColumnExpr("u.name AS uploader_name").ColumnExpr(personColumns("u", "uploader")).
		Join("JOIN users AS u ON u.id = at.uploaded_by").
		Where("at.request_id = ?", requestID).Order("at.created_at", "at.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list attachments of request %d: %w", requestID, err)
	}
	return out, nil
}

// GetAttachment returns a supporting document with its content, if the viewer may see the request in
// full; otherwise, or when the request has no such document, problem.ErrNotFound.
func GetAttachment(ctx context.Context, db bun.IDB, v Viewer, reference string, id int64) (*AttachmentFile, error) {
	er, access, err := GetEnhancement(ctx, db, v, reference)
	if err != nil {
		return nil, err
	}
	if access < AccessFull {
		return nil, fmt.Errorf("attachment %d of %s: %w", id, reference, problem.ErrNotFound)
	}
	f := new(AttachmentFile)
	err = db.NewSelect().Model(f).ColumnExpr("at.*").ColumnExpr("u.name AS uploader_name").
		Join("JOIN users AS u ON u.id = at.uploaded_by").
		Where("at.id = ? AND at.request_id = ?", id, er.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("attachment %d of %s: %w", id, reference, problem.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read attachment %d of %s: %w", id, reference, err)
	}
	return f, nil
}

// CanRemoveAttachment reports whether the viewer may remove a supporting document from a request still
// open: the person who added it, or the central team.
func CanRemoveAttachment(v Viewer, r *Request, a *Attachment) bool {
	return !r.Status.Closed() && CanUpload(v, r) && (a.UploadedBy == v.UserID || v.Has(identity.RoleCentralTeam))
}

// RemoveAttachment deletes a supporting document from a request, in one transaction with its timeline
// and audit events; it returns the document's name. A document already removed, or not the request's,
// is problem.ErrNotFound.
func RemoveAttachment(ctx context.Context, db *bun.DB, v Viewer, actor audit.Actor, now time.Time, reference string, id int64) (string, error) {
	var name string
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockForWork(ctx, tx, v, reference)
		if err != nil {
			return err
		}
		a := new(Attachment)
		err = tx.NewSelect().Model(a).Column("at.id", "at.request_id", "at.filename", "at.content_type", "at.size_bytes", "at.sha256", "at.uploaded_by").
			Where("at.id = ? AND at.request_id = ?", id, r.ID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("attachment %d of %s: %w", id, reference, problem.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read attachment %d of %s: %w", id, reference, err)
		}
		if !CanRemoveAttachment(v, r, a) {
			return fmt.Errorf("remove attachment %d of %s: %w", id, reference, problem.ErrForbidden)
		}
		if _, err := tx.NewDelete().Table("attachments").Where("id = ?", a.ID).Exec(ctx); err != nil {
			return fmt.Errorf("remove attachment %d of %s: %w", id, reference, err)
		}
		if err := addEvent(ctx, tx, Event{RequestID: r.ID, OccurredAt: now, ActorUserID: v.UserID, ActorName: v.Name, Kind: "attachment_removed",
			Summary: fmt.Sprintf("A supporting document was removed: %s.", a.Filename)}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, audit.Event{
			Actor: actor, Action: "attachment.removed", EntityType: "request", EntityID: r.Reference,
			Before: map[string]any{"attachment_id": a.ID, "filename": a.Filename, "content_type": a.ContentType, "size_bytes": a.SizeBytes,
				"sha256": fmt.Sprintf("%x", a.SHA256)},
		}); err != nil {
			return err
		}
		name = a.Filename
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("remove attachment from %s: %w", reference, err)
	}
	return name, nil
}
