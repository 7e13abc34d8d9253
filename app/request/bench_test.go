package request_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/database/dbtest"
	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/request"
	"github.com/nhs-esr/portal/app/seed"
)

const (
	// similarTitle is what someone might type as the title of a new request.
	similarTitle = "Remind managers when DBS checks are due for renewal"
	// planCheckFrom is the number of requests from which the plan must use an index: with a few
	// thousand, reading the whole table is the cheaper plan and PostgreSQL rightly takes it.
	planCheckFrom = 100_000
)

// BenchmarkFindSimilar looks for requests like a new title among PORTAL_BENCH_REQUESTS synthetic
// requests (100,000 unless set), as a requester raising one and as the central team triaging, and fails
// if, from 100,000 requests, the query's plan reads the whole requests table instead of the title's
// trigram index or the full-text index. It runs only with -bench: building the database takes a minute.
func BenchmarkFindSimilar(b *testing.B) {
	ctx := context.Background()
	d := dbtest.New(b)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	n := fillSynthetic(b, d.DB, d.Owner(b), now)

	viewers := []struct{ name, ods, role string }{
		{"requester", "ZLN01", identity.RoleRequester},
		{"central_team", "ZNC01", identity.RoleCentralTeam},
	}
	for _, who := range viewers {
		org, err := organisation.GetByODS(ctx, d.DB, who.ods)
		if err != nil {
			b.Fatal(err)
		}
		u, err := identity.Create(ctx, d.DB, audit.Actor{Name: "benchmark"}, now, identity.NewUser{
			Email: who.name + ".bench@test.nhs.uk", Name: "Benchmark " + who.name, OrganisationID: org.ID, Roles: []string{who.role}, Password: password,
		})
		if err != nil {
			b.Fatal(err)
		}
		v, err := request.ViewerFor(ctx, d.DB, u)
		if err != nil {
			b.Fatal(err)
		}
		checkSimilarPlan(b, d.DB, v, who.name, n >= planCheckFrom)

		b.Run(fmt.Sprintf("%s/%d_requests", who.name, n), func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			found := 0
			for range b.N {
				start := time.Now()
				similar, err := request.FindSimilar(ctx, d.DB, v, request.KindEnhancement, similarTitle, 0, 5)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				found = len(similar)
			}
			if found == 0 {
				b.Fatalf("no request is like %q", similarTitle)
			}
			b.ReportMetric(latencyPercentile(lat, 0.50), "p50_ms")
			b.ReportMetric(latencyPercentile(lat, 0.99), "p99_ms")
		})
	}
}

// checkSimilarPlan explains the statement FindSimilar runs and prints the plan. When enforce is set it
// fails unless the plan reads requests through the title's trigram index and the summaries' full-text
// index, and never sequentially.
func checkSimilarPlan(b *testing.B, db *bun.DB, v request.Viewer, who string, enforce bool) {
	ctx := context.Background()
	var out []byte
	if err := db.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+request.SimilarSQL(db, v, request.KindEnhancement, similarTitle)).Scan(&out); err != nil {
		b.Fatalf("explain FindSimilar: %v", err)
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		b.Fatalf("explain FindSimilar: %v\n%s", err, out)
	}
	var seq bool
	var indexes, shape []string
	var walk func(p planNode, depth int)
	walk = func(p planNode, depth int) {
		line := strings.Repeat("  ", depth) + p.NodeType
		if p.RelationName != "" {
			line += " on " + p.RelationName
		}
		if p.IndexName != "" {
			line += " using " + p.IndexName
			indexes = append(indexes, p.IndexName)
		}
		shape = append(shape, line)
		if p.NodeType == "Seq Scan" && p.RelationName == "requests" {
			seq = true
		}
		for _, c := range p.Plans {
			walk(c, depth+1)
		}
	}
	walk(plans[0].Plan, 0)
	plan := strings.Join(shape, "\n")
	fmt.Printf("bench: the plan of FindSimilar as %s:\n    %s\n", who, strings.ReplaceAll(plan, "\n", "\n    "))
	if !enforce {
		fmt.Printf("bench: the plan is not checked below %d requests\n", planCheckFrom)
		return
	}
	if seq {
		b.Fatalf("FindSimilar as %s reads the whole requests table:\n%s", who, plan)
	}
	for _, index := range []string{"requests_title_trgm_gist_idx", "requests_summary_search_idx"} {
		if !slices.Contains(indexes, index) {
			b.Fatalf("FindSimilar as %s does not use %s:\n%s", who, index, plan)
		}
	}
}

// planNode is one node of EXPLAIN (FORMAT JSON).
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	Plans        []planNode `json:"Plans"`
}

// fillSynthetic adds PORTAL_BENCH_REQUESTS synthetic requests (100,000 unless set), always the same ones,
// then vacuums and analyses them as autovacuum would have (as the database's owner, who alone may), and
// returns how many it added.
func fillSynthetic(b *testing.B, db, owner *bun.DB, now time.Time) int {
	n := 100_000
	if s := os.Getenv("PORTAL_BENCH_REQUESTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			b.Fatalf("PORTAL_BENCH_REQUESTS=%q: want a positive whole number", s)
		}
	}
	ctx := context.Background()
	start := time.Now()
	step := max(n/10/1000, 1) * 1000 // Synthetic writes 1,000 a batch
	err := seed.Synthetic(ctx, db, now, n, 20261120, func(done, total int) {
		if done%step == 0 && done < total {
			fmt.Printf("bench: seeding %d of %d synthetic requests (%s)\n", done, total, time.Since(start).Round(time.Second))
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	seeded := time.Since(start)
	if _, err := owner.ExecContext(ctx, "VACUUM (ANALYZE)"); err != nil { // only the owner may
		b.Fatal(err)
	}
	fmt.Printf("bench: seeded %d synthetic requests in %s (then VACUUM (ANALYZE) in %s)\n",
		n, seeded.Round(time.Millisecond), (time.Since(start) - seeded).Round(time.Millisecond))
	return n
}

// latencyPercentile is the nearest-rank percentile of the latencies, in milliseconds.
func latencyPercentile(lat []time.Duration, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	i := max(int(math.Ceil(p*float64(len(sorted))))-1, 0)
	return float64(sorted[i]) / float64(time.Millisecond)
}
