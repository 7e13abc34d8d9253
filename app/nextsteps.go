package app

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/release"
	"github.com/nhs-esr/portal/app/request"
)

// nextPanel is the request page's "What happens next": who the request is waiting on, what is
// missing before its next step (each with a link to where it is done) and, in the template, what the
// viewer can do now. It is built from what the page has already read: it runs no statement of its own.
type nextPanel struct {
	Waiting string     // who is waiting on whom, in a sentence
	Overdue bool       // what is waited for is late
	Before  string     // what the missing items stand between, e.g. "Before impact assessment can start"
	Missing []nextItem // the steps before the next one, done or not
}

// nextItem is one thing the next step needs.
type nextItem struct {
	Text string
	Href string // where it is done; "" when the viewer cannot open it
	Link string
	Done bool
}

// readiness is what the page knows of the work the next step needs.
type readiness struct {
	RequirementAgreed      bool
	JustificationSubmitted bool
	AssessmentKnown        bool // the viewer sees the impact assessment (central and development teams)
	AssessmentCompleted    bool
}

func readinessOf(pg *request.Page, assessment assessmentPanel) readiness {
	return readiness{
		RequirementAgreed:      len(pg.Work.AgreedSides) == 2,
		JustificationSubmitted: !pg.Work.SubmittedAt.IsZero(),
		AssessmentKnown:        assessment.Show,
		AssessmentCompleted:    assessment.Completed,
	}
}

// ready reports whether an action the lifecycle allows the viewer can succeed now: actions whose rules
// would refuse them (impact assessment before the requirement is agreed and the justification
// submitted, a decision before the impact assessment is complete) are not offered.
func (r readiness) ready(action string) bool {
	switch action {
	case "submit_for_assessment":
		return r.RequirementAgreed && r.JustificationSubmitted
	case "approve", "defer", "not_approve":
		return r.AssessmentCompleted
	}
	return true
}

// nextStepsFor words what happens next to the request for the viewer, who may see it at the page's
// access (full is the whole request). Nothing is said that the summary does not already tell, unless
// the viewer sees the whole request.
func nextStepsFor(v request.Viewer, er *request.EnhancementRequest, pg *request.Page, full bool, r readiness, now time.Time) *nextPanel {
	raiser := v.IsRaiser(&er.Request) || er.OrganisationID == v.OrganisationID
	org := er.OrganisationName
	if raiser {
		org = "your organisation"
	}
	central := "the central team"
	if v.Has(identity.RoleCentralTeam) {
		central = "you and the rest of the central team"
	}
	dev := "the development team"
	if v.Has(identity.RoleDevelopmentTeam) {
		dev = "you and the rest of the development team"
	}
	today := request.Day(now.In(london))
	p := &nextPanel{}
	switch er.Status {
	case request.StatusSubmitted:
		p.Waiting = "Waiting on " + central + " to acknowledge it"
		if full {
			p.Waiting += ", by " + er.AckDueOn.Format("Monday 2 January 2006")
			p.Overdue = er.AckDueOn.Before(today)
		}
		p.Waiting += ". Then they check it against what ESR already does and decide whether it is an enhancement."
	case request.StatusInTriage:
		p.Waiting = "Waiting on " + central + " to triage it: to classify it as an enhancement, ask " + org + " a question, or close it with a reason."
	case request.StatusInformationRequested:
		p.Waiting = "Waiting on " + org + " to answer the central team's question"
		if full && !er.InfoDueOn.IsZero() {
			p.Waiting += ", by " + er.InfoDueOn.Format("Monday 2 January 2006")
			p.Overdue = er.InfoDueOn.Before(today)
		}
		p.Waiting += ". The question is in the timeline below. Answering sends it back into triage."
	case request.StatusAwaitingRequesterDecision:
		p.Waiting = "Waiting on " + org + " to decide whether to take it forward. Taking it forward starts the requirement definition and business justification."
	case request.StatusRequirementsJustification:
		p.Waiting = "Waiting on " + org + " and " + dev + " to agree the requirement definition and complete the business justification."
		if full {
			p.Before = "Before impact assessment can start"
			req := nextItem{Text: "The requirement definition is agreed by the raising organisation and the development team", Done: r.RequirementAgreed,
				Href: requirementPath(er.Reference), Link: "Open the requirement definition"}
			if !r.RequirementAgreed {
				switch {
				case pg.Work.RequirementVersion == 0:
					req.Text = "The requirement definition is written and agreed by both sides: it is not written yet"
				case len(pg.Work.AgreedSides) == 1:
					req.Text = "The requirement definition is agreed by both sides: only " + request.SideLabel(pg.Work.AgreedSides[0]) + " has agreed it"
				default:
					req.Text = "The requirement definition is agreed by both sides: nobody has agreed the latest version yet"
				}
			}
			just := nextItem{Text: "The business justification is complete and submitted", Done: r.JustificationSubmitted,
				Href: justificationPath(er.Reference), Link: "Open the business justification"}
			if !r.JustificationSubmitted {
				j := pg.Work.Justification()
				just.Text += ": " + strconv.Itoa(j.Completed()) + " of " + strconv.Itoa(len(request.JustificationSections)) + " sections are complete"
			}
			p.Missing = []nextItem{req, just}
			if r.RequirementAgreed && r.JustificationSubmitted {
				p.Waiting = "Both are done: " + org + ", the central team or the development team can now send it for impact assessment."
			}
		}
	case request.StatusImpactAssessment:
		p.Waiting = "Waiting on " + dev + " to assess its impact. Then the central team decides: approve, defer or do not approve."
		if r.AssessmentKnown {
			p.Before = "Before the central team can decide"
			p.Missing = []nextItem{{Text: "The impact assessment is complete", Done: r.AssessmentCompleted,
				Href: "/requests/" + er.Reference + "/assessment", Link: "Open the impact assessment"}}
			if r.AssessmentCompleted {
				p.Waiting = "The impact assessment is complete: waiting on " + central + " to decide whether to approve it, defer it or not approve it."
			}
		}
	case request.StatusApproved:
		p.Waiting = "Approved: waiting on " + central + " to allocate it to a release."
	case request.StatusDeferred:
		p.Waiting = "Deferred: it comes back for impact assessment"
		if pg.HasDecision && !pg.Decision.ReviewOn.IsZero() {
			p.Waiting += " on " + pg.Decision.ReviewOn.Format("Monday 2 January 2006")
		} else {
			p.Waiting += " on its review date"
		}
		p.Waiting += ", or sooner if the central team brings it back."
	case request.StatusAllocated:
		p.Waiting = "Allocated to a release: it is delivered when its release goes live"
		if rl := pg.Release; rl != nil {
			p.Waiting = "Allocated to Release " + strconv.Itoa(rl.Number) + ": it is delivered when that release goes live"
			if !rl.TargetDate.IsZero() {
				p.Waiting += ", planned for " + rl.TargetDate.Format("2 January 2006")
			}
		}
		p.Waiting += ". The central team marks the release as released."
	default:
		return nil
	}
	return p
}

// toldText says, group by group, whom an action would tell, for its confirmation page.
func (a *App) toldText(ctx context.Context, v request.Viewer, er *request.EnhancementRequest, t request.Transition) ([]string, error) {
	told, err := request.Audience(ctx, a.db, v, &er.Request, t)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range told {
		n := g.Count
		switch g.Group {
		case "followers":
			if n > 0 {
				out = append(out, fmt.Sprintf("the %d %s following this request", n, plural(n, "person", "people")))
			}
		case "raisers":
			if n > 0 {
				out = append(out, fmt.Sprintf("the %d %s at %s following this request", n, plural(n, "person", "people"), er.OrganisationName))
			}
		case "supporters":
			if n > 0 {
				out = append(out, fmt.Sprintf("the %d %s who added their organisation's support", n, plural(n, "person", "people")))
			}
		case "triage":
			if er.AssigneeName != "" {
				out = append(out, "its triager, "+er.AssigneeName)
			} else if n > 0 {
				out = append(out, "the central team")
			}
		}
	}
	return out, nil
}

// allocateOptions are the releases an approved request can go into, each with how full it is, and the
// request's assessed effort in words ("" when the assessment gives no days).
func (a *App) allocateOptions(ctx context.Context, v request.Viewer, er *request.EnhancementRequest) ([]Option, string, error) {
	list, err := release.List(ctx, a.db)
	if err != nil {
		return nil, "", err
	}
	var effort float64
	var effortText string
	if release.National(v) {
		cur, err := request.GetAssessment(ctx, a.db, v, er.ID)
		if err != nil {
			return nil, "", err
		}
		if cur.EffortDays != nil {
			effort = *cur.EffortDays
			effortText = release.FormatDays(effort) + " effort days"
		}
	}
	slices.SortStableFunc(list, func(x, y release.Release) int {
		if c := x.TargetDate.Compare(y.TargetDate); c != 0 {
			return c
		}
		return x.Number - y.Number
	})
	out := []Option{{Value: "", Label: "Choose a release"}}
	for _, r := range list {
		if r.Released() {
			continue
		}
		label := fmt.Sprintf("%s (target %s)", r.Title(), r.TargetDate.Format("2 January 2006"))
		if r.CapacityDays.Valid {
			label += fmt.Sprintf(": %s of %s effort days used", release.FormatDays(r.UsedDays), release.FormatDays(r.CapacityDays.Float64))
			switch {
			case r.OverCapacity():
				label += ", over capacity"
			case r.UsedDays+effort > r.CapacityDays.Float64:
				label += ", over capacity with this change"
			}
		}
		out = append(out, Option{Value: strconv.FormatInt(r.ID, 10), Label: label})
	}
	return out, effortText, nil
}
