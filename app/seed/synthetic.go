package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/nhs-esr/portal/app/database"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/notify"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/workday"
)

// Words that synthetic requests are made of, so that titles read like real ones and similar-request
// and full-text searches have realistic work to do.
var (
	synthVerbs   = []string{"Add", "Show", "Let managers see", "Let employees update", "Remind managers about", "Report on", "Record", "Export", "Validate", "Notify staff about", "Filter", "Automate"}
	synthObjects = []string{"competence expiry dates", "the Compliance Matrix", "flexible working requests", "pay progression dates", "bank worker enrolments", "right to work checks", "sickness absence episodes", "annual leave balances", "overtime claims", "DBS renewal dates", "professional registration expiry", "mandatory training compliance", "job planning sessions", "P60 and P11D documents", "pension opt-out forms", "Oliver McGowan training tiers", "vaccination records", "starter checklists", "leaver questionnaires", "supervision records"}
	synthWhere   = []string{"in Employee Self Service", "in Manager Self Service", "in the ESR app", "in the BI dashboards", "on the payslip", "through Inter Authority Transfer", "in OLM", "in the Data Warehouse", "by email", "for bank staff"}
	synthAreas   = []string{"Core HR", "Recruitment", "Payroll", "Absence", "Work Structures", "Self Service", "Learning Management (OLM)", "Business Intelligence", "Data Warehouse", "Inter Authority Transfer (IAT)", "Interfaces"}
	synthStatus  = []request.Status{request.StatusSubmitted, request.StatusInTriage, request.StatusInformationRequested, request.StatusAwaitingRequesterDecision,
		request.StatusRequirementsJustification, request.StatusImpactAssessment, request.StatusNotTakenForward, request.StatusWithdrawn, request.StatusApproved, request.StatusDelivered}
)

// Synthetic adds n realistic enhancement requests, with timeline events, comments, supports,
// followers and the notifications of their acknowledgement, for benchmarks. It writes in batches of
// 1,000, each in its own transaction, and calls progress after each batch. It writes no audit events:
// the data is made up, not done by anyone.
func Synthetic(ctx context.Context, db *bun.DB, now time.Time, n int, seedValue uint64, progress func(done, total int)) error {
	if err := Organisations(ctx, db, now); err != nil {
		return err
	}
	raisers, err := syntheticRaisers(ctx, db, now)
	if err != nil {
		return err
	}
	var orgIDs []int64
	if err := db.NewSelect().Table("organisations").Column("id").Order("id").Scan(ctx, &orgIDs); err != nil {
		return fmt.Errorf("list organisations: %w", err)
	}
	var nsigByArea = map[string]int64{}
	for _, area := range synthAreas {
		id, err := request.NSIGFor(ctx, db, area)
		if err != nil {
			return err
		}
		nsigByArea[area] = id
	}
	cal := workday.New()
	rng := rand.New(rand.NewPCG(seedValue, seedValue^0x9e3779b97f4a7c15))
	const batch = 1000
	for done := 0; done < n; done += batch {
		size := min(batch, n-done)
		if err := database.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
			return syntheticBatch(ctx, tx, cal, rng, now, size, raisers, orgIDs, nsigByArea)
		}); err != nil {
			return fmt.Errorf("synthetic batch at %d: %w", done, err)
		}
		if progress != nil {
			progress(done+size, n)
		}
	}
	return nil
}

type raiser struct{ userID, orgID int64 }

// syntheticRaisers makes sure every organisation has a requester to raise requests.
func syntheticRaisers(ctx context.Context, db *bun.DB, now time.Time) ([]raiser, error) {
	var orgs []struct {
		ID  int64  `bun:"id"`
		ODS string `bun:"ods_code"`
	}
	if err := db.NewSelect().Table("organisations").Column("id", "ods_code").Order("id").Scan(ctx, &orgs); err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	out := make([]raiser, 0, len(orgs))
	for _, o := range orgs {
		email := "synthetic." + strings.ToLower(o.ODS) + "@demo.esr-portal.example"
		u, err := ensureUser(ctx, db, now, email, "Synthetic requester "+o.ODS, o.ODS, identity.RoleRequester)
		if err != nil {
			return nil, err
		}
		out = append(out, raiser{userID: u.ID, orgID: o.ID})
	}
	return out, nil
}

func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

func syntheticBatch(ctx context.Context, tx bun.Tx, cal *workday.Calendar, rng *rand.Rand, now time.Time, size int,
	raisers []raiser, orgIDs []int64, nsigByArea map[string]int64) error {
	reqs := make([]request.Request, size)
	enh := make([]request.Enhancement, size)
	years := map[int]int{}
	for i := range reqs {
		rs := pick(rng, raisers)
		received := now.Add(-time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour))))
		year := received.In(cal.Location()).Year()
		years[year]++
		due, err := cal.AddWorkingDays(received, request.AcknowledgementDays)
		if err != nil {
			return err
		}
		status := pick(rng, synthStatus)
		area := pick(rng, synthAreas)
		r := request.Request{
			Kind: request.KindEnhancement, Title: pick(rng, synthVerbs) + " " + pick(rng, synthObjects) + " " + pick(rng, synthWhere),
			Status: status, OrganisationID: rs.orgID, RaisedByID: rs.userID, NSIGID: nsigByArea[area],
			ReceivedAt: received, AckDueOn: due, SubmissionToken: uuid.NewString(), Version: 1 + rng.IntN(5),
			CreatedAt: received, UpdatedAt: received,
			Accepted: status != request.StatusSubmitted && status != request.StatusInTriage && status != request.StatusInformationRequested && status != request.StatusNotTakenForward,
		}
		if status != request.StatusSubmitted {
			r.AcknowledgedAt = received.Add(time.Duration(1+rng.IntN(8*24)) * time.Hour)
		}
		reqs[i] = r
		enh[i] = request.Enhancement{
			SRNumber: fmt.Sprintf("SR%07d", rng.IntN(9_000_000)+1_000_000), FunctionalArea: area,
			Problem:       "Today staff " + strings.ToLower(pick(rng, synthVerbs)) + " " + pick(rng, synthObjects) + " by hand, which takes time and causes errors.",
			Proposal:      pick(rng, synthVerbs) + " " + pick(rng, synthObjects) + " " + pick(rng, synthWhere) + ".",
			AffectedUsers: []string{pick(rng, []string{"employee", "manager", "professional_user"})}, Urgency: pick(rng, []string{"critical", "high", "medium", "low"}),
		}
	}
	// Reserve a block of reference numbers per year.
	next := map[int]int{}
	for year, count := range years {
		var last int
		if err := tx.NewRaw(`INSERT INTO reference_counters (prefix, year, last) VALUES ('ENH', ?, ?)
			ON CONFLICT (prefix, year) DO UPDATE SET last = reference_counters.last + EXCLUDED.last RETURNING last`, year, count).Scan(ctx, &last); err != nil {
			return fmt.Errorf("reserve references: %w", err)
		}
		next[year] = last - count + 1
	}
	for i := range reqs {
		year := reqs[i].ReceivedAt.In(cal.Location()).Year()
		reqs[i].Reference = fmt.Sprintf("ENH-%d-%04d", year, next[year])
		next[year]++
	}
	if _, err := tx.NewInsert().Model(&reqs).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("insert requests: %w", err)
	}
	ids := make([]int64, size)
	for i := range reqs {
		enh[i].RequestID = reqs[i].ID
		ids[i] = reqs[i].ID
	}
	if _, err := tx.NewInsert().Model(&enh).Exec(ctx); err != nil {
		return fmt.Errorf("insert enhancements: %w", err)
	}
	if _, err := tx.NewRaw(`UPDATE requests AS r SET search =
		setweight(to_tsvector('english', r.title), 'A') || setweight(to_tsvector('english', e.problem || ' ' || e.proposal), 'B')
		FROM enhancement_requests AS e WHERE e.request_id = r.id AND r.id = ANY (?)`, pgdialect.Array(ids)).Exec(ctx); err != nil {
		return fmt.Errorf("index requests: %w", err)
	}
	if err := request.IndexSummaries(ctx, tx, ids); err != nil {
		return err
	}
	var events []request.Event
	var comments []request.Comment
	type support struct {
		bun.BaseModel  `bun:"table:request_supports"`
		RequestID      int64     `bun:"request_id"`
		OrganisationID int64     `bun:"organisation_id"`
		UserID         int64     `bun:"user_id"`
		Note           string    `bun:"note"`
		CreatedAt      time.Time `bun:"created_at"`
	}
	var supports []support
	type follower struct {
		bun.BaseModel `bun:"table:request_followers"`
		RequestID     int64     `bun:"request_id"`
		UserID        int64     `bun:"user_id"`
		CreatedAt     time.Time `bun:"created_at"`
	}
	var followers []follower
	// What a raiser was told: each acknowledgement, read within a day unless it came in the last month.
	type notification struct {
		bun.BaseModel `bun:"table:notifications"`
		UserID        int64     `bun:"user_id"`
		Event         string    `bun:"event"`
		RequestID     int64     `bun:"request_id"`
		Title         string    `bun:"title"`
		Body          string    `bun:"body"`
		Link          string    `bun:"link"`
		InApp         bool      `bun:"in_app"`
		CreatedAt     time.Time `bun:"created_at"`
		ReadAt        time.Time `bun:"read_at,nullzero"`
		AccessLevel   int       `bun:"access_level"`
	}
	var notifications []notification
	userOf := map[int64]int64{}
	for _, rs := range raisers {
		userOf[rs.orgID] = rs.userID
	}
	for _, r := range reqs {
		events = append(events, request.Event{RequestID: r.ID, OccurredAt: r.ReceivedAt, ActorUserID: r.RaisedByID, ActorName: "Synthetic requester",
			Kind: "raised", ToStatus: string(request.StatusSubmitted), Summary: "Raised."})
		if !r.AcknowledgedAt.IsZero() {
			n := notification{UserID: r.RaisedByID, Event: notify.EventAcknowledged, RequestID: r.ID, Title: r.Reference + " has been acknowledged",
				Body: r.Title, Link: "/requests/" + r.Reference, InApp: true, CreatedAt: r.AcknowledgedAt, AccessLevel: int(request.AccessFull)}
			if r.AcknowledgedAt.Before(now.AddDate(0, -1, 0)) {
				n.ReadAt = r.AcknowledgedAt.Add(24 * time.Hour)
			}
			notifications = append(notifications, n)
			events = append(events, request.Event{RequestID: r.ID, OccurredAt: r.AcknowledgedAt, ActorName: "Central team", Kind: "acknowledge",
				FromStatus: string(request.StatusSubmitted), ToStatus: string(request.StatusInTriage), Summary: "Acknowledged by the central team. Triage has started."})
		}
		if r.Status != request.StatusSubmitted && r.Status != request.StatusInTriage {
			events = append(events, request.Event{RequestID: r.ID, OccurredAt: r.AcknowledgedAt.Add(48 * time.Hour), ActorName: "Central team", Kind: "status",
				FromStatus: string(request.StatusInTriage), ToStatus: string(r.Status), Summary: "Now " + strings.ToLower(r.Status.Label()) + "."})
		}
		followers = append(followers, follower{RequestID: r.ID, UserID: r.RaisedByID, CreatedAt: r.ReceivedAt})
		for k := rng.IntN(4); k > 0; k-- {
			comments = append(comments, request.Comment{RequestID: r.ID, AuthorID: r.RaisedByID, Body: "We see this every week: " + pick(rng, synthObjects) + ".",
				Internal: rng.IntN(3) == 0, CreatedAt: r.ReceivedAt.Add(time.Duration(k) * 30 * time.Hour)})
		}
		if r.Accepted {
			seen := map[int64]bool{r.OrganisationID: true}
			for k := rng.IntN(4); k > 0; k-- {
				org := pick(rng, orgIDs)
				if seen[org] {
					continue
				}
				seen[org] = true
				supports = append(supports, support{RequestID: r.ID, OrganisationID: org, UserID: userOf[org], Note: "", CreatedAt: r.ReceivedAt.Add(96 * time.Hour)})
			}
		}
	}
	for _, rows := range []any{&events, &followers} {
		if _, err := tx.NewInsert().Model(rows).Exec(ctx); err != nil {
			return fmt.Errorf("insert synthetic rows: %w", err)
		}
	}
	if len(notifications) > 0 {
		if _, err := tx.NewInsert().Model(&notifications).Exec(ctx); err != nil {
			return fmt.Errorf("insert notifications: %w", err)
		}
	}
	if len(comments) > 0 {
		if _, err := tx.NewInsert().Model(&comments).Exec(ctx); err != nil {
			return fmt.Errorf("insert comments: %w", err)
		}
	}
	if len(supports) > 0 {
		if _, err := tx.NewInsert().Model(&supports).Exec(ctx); err != nil {
			return fmt.Errorf("insert supports: %w", err)
		}
	}
	return nil
}
