package request

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/actionlink"
	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/problem"
)

// Actions from emails. The emails that ask someone to decide offer the decision's actions (News.Actions):
// each recipient is offered only what the portal would let them do now, and an email to an address on
// the secure list carries each as a one-time link (package actionlink). Opening a link shows a page to
// confirm on and changes nothing; confirming takes the action through the same functions as the portal's
// own forms (TakeLinkAction), at the version the email was written against.

// The actions an email can offer besides the lifecycle's transitions, which it offers by their names.
const (
	// ActionAgree agrees a version of the requirement definition, for the viewer's side.
	ActionAgree = "agree"
	// ActionEndorse endorses the submitted business justification on behalf of a region.
	ActionEndorse = "endorse"
)

// Offer is an action a message offers, at the version of what it acts on: the request's version for a
// transition, the requirement definition's for ActionAgree, the business justification's for
// ActionEndorse.
type Offer struct {
	Name    string
	Version int
}

// EmailAction is an action emails offer, in words: the link's (with the reference for %[1]s and the
// version for %[2]d), what confirming it does, and the confirmation button's.
type EmailAction struct {
	Name    string
	Link    string
	Happens string
	Button  string
}

// EmailActions is every action an email can offer: which emails offer which is written where each email
// is sent (the transitions' Offers, and the News of raising, assessing, submitting a justification and
// saving or agreeing a requirement definition).
var EmailActions = []EmailAction{
	{"acknowledge", "Acknowledge %[1]s", "The request moves into triage and its acknowledgement is recorded as made today. Everyone following it is told.", "Acknowledge"},
	{"approve", "Approve %[1]s", "The request is approved, to be allocated to a release. Its requester and everyone following it are told at once, with your rationale.", "Approve"},
	{"defer", "Defer %[1]s", "The request is deferred and comes back to impact assessment on the review date. Its requester and everyone following it are told, with your rationale.", "Defer"},
	{"not_approve", "Do not approve %[1]s", "The request is closed as not approved. Its requester and everyone following it are told, with your reason.", "Do not approve"},
	{"classify_enhancement", "Classify %[1]s as an enhancement", "The request is accepted as an enhancement: every organisation can then read what it asks for and support it, and the requester decides whether to take it forward.", "Classify as an enhancement"},
	{"not_taken_forward", "Close %[1]s: not taken forward", "The request is closed with your reason and explanation, which the requester reads.", "Do not take forward"},
	{"request_information", "Ask about %[1]s again", "The request waits for the requester again: they have 10 working days to answer your question.", "Ask the question"},
	{"progress", "Take %[1]s forward", "Your organisation takes the request forward: next, the requirement definition and business justification, written with the development team.", "Take it forward"},
	{"decline", "Do not take %[1]s forward", "The request is closed. The central team is told.", "Do not take it forward"},
	{"answer", "Answer the question about %[1]s", "Your answer goes to the central team and the request goes back into triage.", "Send your answer"},
	{ActionAgree, "Agree version %[2]d of the requirement definition of %[1]s", "Your side agrees this version of the requirement definition. Impact assessment can start once both sides have agreed it and the business justification is complete.", "Agree this version"},
	{ActionEndorse, "Endorse the business justification of %[1]s", "Your endorsement is added to the business justification, on behalf of the region you choose, with your comment.", "Endorse"},
}

// EmailActionNamed returns the email action with the name.
func EmailActionNamed(name string) (EmailAction, bool) {
	for _, a := range EmailActions {
		if a.Name == name {
			return a, true
		}
	}
	return EmailAction{}, false
}

// LinkLabel is the words of the link that offers o on the request with the reference.
func LinkLabel(reference string, o Offer) string {
	a, ok := EmailActionNamed(o.Name)
	if !ok {
		return o.Name + " " + reference
	}
	if strings.Contains(a.Link, "%[2]d") {
		return fmt.Sprintf(a.Link, reference, o.Version)
	}
	return fmt.Sprintf(a.Link, reference)
}

// offered is what of offers the viewer may take on r now, as a message's actions.
func offered(ctx context.Context, db bun.IDB, v Viewer, r *Request, offers []Offer) ([]notify.Action, error) {
	var out []notify.Action
	for _, o := range offers {
		err := CheckAction(ctx, db, v, r, o.Name, o.Version)
		var rule *RuleError
		switch {
		case err == nil:
			out = append(out, notify.Action{Name: o.Name, Label: LinkLabel(r.Reference, o), Version: o.Version})
		case errors.Is(err, problem.ErrForbidden), errors.Is(err, problem.ErrConflict), errors.Is(err, problem.ErrNotFound), errors.As(err, &rule):
		default:
			return nil, fmt.Errorf("offer %s on %s to user %d: %w", o.Name, r.Reference, v.UserID, err)
		}
	}
	return out, nil
}

// CheckAction says whether the viewer may take the email action name on r now, as offered at version:
// nil when they may; problem.ErrNotFound when they may not see r in full (or there is no such action);
// a conflict (problem.ErrConflict, or a *RequirementConflict or *JustificationConflict holding the
// current document) when r or its document has moved on since; problem.ErrForbidden when the action is
// not theirs to take. The action itself checks all of it again when it is taken.
func CheckAction(ctx context.Context, db bun.IDB, v Viewer, r *Request, name string, version int) error {
	if v.AccessTo(r) < AccessFull {
		return fmt.Errorf("request %s: %w", r.Reference, problem.ErrNotFound)
	}
	switch name {
	case ActionAgree:
		if r.Kind != KindEnhancement {
			return fmt.Errorf("agree on %s: %w", r.Reference, problem.ErrNotFound)
		}
		side := AgreementSide(v, r)
		if side == "" {
			return fmt.Errorf("agree the requirement of %s: %w", r.Reference, problem.ErrForbidden)
		}
		if !Editable(r) {
			return fmt.Errorf("request %s is %s: %w", r.Reference, r.Status, problem.ErrConflict)
		}
		latest, err := latestRequirement(ctx, db, r.ID)
		if err != nil {
			return err
		}
		if latest.Version != version {
			return &RequirementConflict{Current: latest, Based: version}
		}
		agreed, err := db.NewSelect().Table("requirement_agreements").
			Where("request_id = ? AND side = ? AND version = ?", r.ID, side, version).Exists(ctx)
		if err != nil {
			return fmt.Errorf("read agreements of %s: %w", r.Reference, err)
		}
		if agreed {
			return fmt.Errorf("version %d of %s is agreed for %s already: %w", version, r.Reference, SideLabel(side), problem.ErrConflict)
		}
		return nil
	case ActionEndorse:
		if r.Kind != KindEnhancement {
			return fmt.Errorf("endorse %s: %w", r.Reference, problem.ErrNotFound)
		}
		regions, err := EndorsingRegions(ctx, db, v, r)
		if err != nil {
			return err
		}
		if len(regions) == 0 {
			return fmt.Errorf("endorse %s: %w", r.Reference, problem.ErrForbidden)
		}
		if !Endorsable(r) {
			return fmt.Errorf("request %s is %s: %w", r.Reference, r.Status, problem.ErrConflict)
		}
		j, err := GetJustification(ctx, db, r.ID)
		if err != nil {
			return err
		}
		if !j.Submitted() || j.Version != version {
			return &JustificationConflict{Current: j, Based: version}
		}
		done, err := db.NewSelect().Table("justification_endorsements").Where("request_id = ? AND user_id = ?", r.ID, v.UserID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("read endorsements of %s: %w", r.Reference, err)
		}
		if done {
			return fmt.Errorf("%s is endorsed by user %d already: %w", r.Reference, v.UserID, problem.ErrConflict)
		}
		return nil
	}
	t, ok := TransitionNamed(r.Kind, name)
	if _, offered := EmailActionNamed(name); !ok || !offered {
		return fmt.Errorf("request %s has no email action %q: %w", r.Reference, name, problem.ErrNotFound)
	}
	if r.Version != version {
		return fmt.Errorf("request %s is at version %d, the email was written at %d: %w", r.Reference, r.Version, version, problem.ErrConflict)
	}
	if !t.from(r.Status) {
		return fmt.Errorf("request %s is %s, so it cannot %s: %w", r.Reference, r.Status, name, problem.ErrConflict)
	}
	if !t.Allows(v, r) {
		return fmt.Errorf("%s on %s: %w", name, r.Reference, problem.ErrForbidden)
	}
	return nil
}

// LinkInput is what the confirmation page of an action link sends: for a transition, what it needs
// (Input; its Version is ignored, the link's counts); for ActionEndorse, the comment (Input.Text) and
// the region it is for.
type LinkInput struct {
	Input
	RegionID int16
}

// LinkOutcome is what confirming an action link did.
type LinkOutcome struct {
	Link    actionlink.Link
	Request *Request // after a transition
	Side    string   // ActionAgree: the side agreed for
	Both    bool     // ActionAgree: both sides have now agreed
}

// TakeLinkAction confirms the email action link with the token for the signed-in viewer. In one
// transaction it uses the link, which must be the viewer's, unused and unexpired (otherwise an
// *actionlink.RefusedError), and takes its action on its request at the version the email was written
// against, through the functions the portal's own forms use (Apply for a transition); whatever they
// refuse (a rule, a conflict, a permission) rolls the transaction back and leaves the link unused.
func TakeLinkAction(ctx context.Context, db *bun.DB, env Env, v Viewer, actor audit.Actor, token string, in LinkInput) (*LinkOutcome, error) {
	out := new(LinkOutcome)
	err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		l, err := actionlink.Consume(ctx, tx, actor, token, v.UserID, env.Now)
		if err != nil {
			return err
		}
		out.Link = *l
		switch l.Action {
		case ActionAgree:
			out.Side, out.Both, err = agreeRequirement(ctx, tx, v, actor, env.Now, l.Reference, l.Version)
			return err
		case ActionEndorse:
			return endorse(ctx, tx, v, actor, env.Now, l.Reference, EndorsementInput{Comment: in.Text, RegionID: in.RegionID, Version: l.Version})
		}
		if _, ok := EmailActionNamed(l.Action); !ok {
			return fmt.Errorf("action link for %q: %w", l.Action, problem.ErrNotFound)
		}
		in.Input.Version = l.Version
		out.Request, err = ApplyInTx(ctx, tx, env, v, actor, l.Reference, l.Action, in.Input)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("take the action of a link: %w", err)
	}
	return out, nil
}
