package app

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/catalogue"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/request"
)

// The request page and the action pages for supplementary role and national competency requests: the
// same page, timeline, comments, follow and actions as an enhancement request, with the kind's own
// answers in place of the enhancement's.

// requestOfAnyKind reads the request of the page's :ref for the pages every kind shares: an
// enhancement request in full; another kind with what all requests share (its Enhancement part empty).
func (a *App) requestOfAnyKind(c *fiber.Ctx, v request.Viewer) (*request.EnhancementRequest, error) {
	ref := c.Params("ref")
	if request.KindOf(ref) == request.KindEnhancement {
		er, _, err := request.GetEnhancement(c.UserContext(), a.db, v, ref)
		return er, err
	}
	r, _, err := request.Get(c.UserContext(), a.db, v, ref)
	if err != nil {
		return nil, err
	}
	return &request.EnhancementRequest{Request: *r}, nil
}

// listedAnswers are a list request's summary rows (what every viewer of it may see), the rest of its
// answers (for those who see it in full), and its decision.
func (a *App) listedAnswers(ctx context.Context, v request.Viewer, ref string) (r *request.Request, summary, full, decision []SummaryRow, access request.Access, err error) {
	switch request.KindOf(ref) {
	case request.KindSupplementaryRole:
		sr, acc, err := request.GetSupplementaryRole(ctx, a.db, v, ref)
		if err != nil {
			return nil, nil, nil, nil, acc, err
		}
		wellbeing := "No"
		if sr.Wellbeing {
			wellbeing = "Yes"
		}
		summary = []SummaryRow{
			{Key: "Role name", Value: sr.RoleName},
			{Key: "Who records it in ESR", Value: catalogue.InputLevelLabel(sr.InputLevel)},
			{Key: "Linked to the wellbeing agenda", Value: wellbeing},
		}
		full = []SummaryRow{
			{Key: "Duties", Value: sr.Duties},
			{Key: "Justification", Value: sr.Justification},
			{Key: "Benefits", Value: sr.Benefits},
			{Key: "Organisations expected to use it", Value: sr.Organisations},
		}
		decision = listedDecision(&sr.Request, sr.OutcomeReason, "the supplementary roles list")
		return &sr.Request, summary, full, decision, acc, nil
	default:
		nc, acc, err := request.GetNationalCompetency(ctx, a.db, v, ref)
		if err != nil {
			return nil, nil, nil, nil, acc, err
		}
		summary = []SummaryRow{
			{Key: "ESR label", Value: nc.Label},
			{Key: "Framework", Value: nc.Framework},
			{Key: "Renewal period", Value: catalogue.RenewalText(nc.RenewalYears)},
		}
		full = []SummaryRow{
			{Key: "Competence name", Value: nc.CompetenceName},
			{Key: "National learning", Value: orDash(nc.NationalLearning)},
			{Key: "National initiative", Value: orDash(nc.NationalInitiative)},
			{Key: "Staff groups", Value: nc.StaffGroups},
			{Key: "Justification", Value: nc.Justification},
		}
		decision = listedDecision(&nc.Request, nc.OutcomeReason, "the NHS MAND competence list")
		return &nc.Request, summary, full, decision, acc, nil
	}
}

func listedDecision(r *request.Request, reason, list string) []SummaryRow {
	switch r.Status {
	case request.StatusApproved:
		return []SummaryRow{{Key: "Outcome", Value: "Approved: added to " + list + " on " + r.DecidedAt.In(london).Format("2 January 2006")}}
	case request.StatusRejected:
		return []SummaryRow{{Key: "Outcome", Value: "Rejected"}, {Key: "Reason", Value: reason}}
	}
	return nil
}

// listedShowPage is requestShowPage for a supplementary role or national competency request.
func (a *App) listedShowPage(c *fiber.Ctx, v request.Viewer, ref string) (*requestShowPage, error) {
	ctx := c.UserContext()
	r, summary, full, decision, access, err := a.listedAnswers(ctx, v, ref)
	if err != nil {
		return nil, err
	}
	p := &requestShowPage{
		Page: a.page(c, r.Reference+": "+r.Title), R: &request.EnhancementRequest{Request: *r}, Status: r.Status.Info(),
		Full: access >= request.AccessFull, Internal: access >= request.AccessInternal, Outcome: decision,
		SummaryNote: "You can see the summary of this request because its " + listName(r.Kind) + " is on the list. The raising organisation, its region's functional account manager and the central and development teams see it in full.",
	}
	p.Details = append([]SummaryRow{{Key: "Reference", Value: r.Reference}, {Key: "Type", Value: request.KindLabel(r.Kind)}}, summary...)
	p.Details = append(p.Details,
		SummaryRow{Key: "Raised by", Value: r.OrganisationName + " (" + r.RegionName + ")"},
		SummaryRow{Key: "Received", Value: r.ReceivedAt.In(london).Format("2 January 2006")})
	if p.Full {
		p.Details = append(p.Details, full...)
		if r.AcknowledgedAt.IsZero() {
			p.Details = append(p.Details, SummaryRow{Key: "Acknowledge by", Value: r.AckDueOn.Format("Monday 2 January 2006")})
		} else {
			p.Details = append(p.Details, SummaryRow{Key: "Acknowledged", Value: r.AcknowledgedAt.In(london).Format("2 January 2006")})
		}
		if r.Status == request.StatusInformationRequested && !r.InfoDueOn.IsZero() {
			p.Details = append(p.Details, SummaryRow{Key: "Reply needed by", Value: r.InfoDueOn.Format("Monday 2 January 2006")})
		}
		entries, err := request.Timeline(ctx, a.db, r.ID, access)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			p.Timeline = append(p.Timeline, describe(v, access, e))
		}
		if p.Following, err = request.IsFollowing(ctx, a.db, r.ID, v.UserID); err != nil {
			return nil, err
		}
	}
	for _, t := range request.Available(v, r) {
		p.Actions = append(p.Actions, actionButton{
			Name: t.Name, Label: t.Label, HasForm: t.NeedsText || t.TextLabel != "",
			Secondary: t.Name == "withdraw" || t.Name == "request_information", Warning: t.Name == "reject",
		})
	}
	p.CanComment, p.CanInternal = p.Full, p.Internal
	p.InternalOptions = []Option{{Value: "true", Label: "Internal note: only the central and development teams"}}
	if v.Has(identity.RoleCentralTeam) && r.AcknowledgedAt.IsZero() && !request.FinalFor(r.Kind, r.Status) {
		if sla, err := a.calendar.Status(r.AckDueOn, a.now()); err == nil {
			p.SLA = "Acknowledgement " + sla.Text
		}
	}
	return p, nil
}

func listName(kind string) string {
	if kind == request.KindSupplementaryRole {
		return "role"
	}
	return "competence"
}

// listedActionHint is the hint of an action's text on a list request.
func listedActionHint(name, fallback string) string {
	switch name {
	case "answer":
		return "The central team sees your answer and the request goes back under review."
	case "approve":
		return "Optional. The requester sees this. Approving adds the entry above to the list straight away."
	case "reject":
		return "The requester sees this. Say what they can do instead, if anything."
	case "withdraw":
		return "The central team sees this. Nothing is added to the list."
	}
	return fallback
}
