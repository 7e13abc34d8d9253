package app

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/nhs-esr/portal/app/identity"
	"github.com/nhs-esr/portal/app/organisation"
	"github.com/nhs-esr/portal/app/request"
)

// choices are the reference lists that forms and filters offer — functional areas, NSIGs, regions,
// organisations and the central team's triagers — held in memory, because every requests list and
// request page shows them and they rarely change. This instance forgets them as soon as it changes one
// of them itself; a change made through another instance reaches this one within choicesTTL.
type choices struct {
	mu     sync.Mutex
	ttl    time.Duration
	at     time.Time // when data was read; zero when there is none
	data   *choiceLists
	loadMu sync.Mutex // one reader at a time refreshes the lists
}

// choiceLists is one reading of the lists.
type choiceLists struct {
	// Reading is a hash of the lists as read: content built from one reading is not reused with lists
	// that differ (see contentKey).
	Reading       uint64
	Areas         []string
	NSIGs         []nsigChoice // every NSIG, by name, inactive ones too
	Regions       []organisation.Region
	Organisations []organisation.Organisation
	Triagers      []identity.User // active holders of the central team role
}

// choicesTTL is how long a reading of the lists is used: the most that a change made through another
// portal instance takes to show here.
const choicesTTL = 30 * time.Second

// get returns the lists, reading them again when they are older than the TTL or were forgotten.
func (ch *choices) get(ctx context.Context, a *App) (*choiceLists, error) {
	ch.mu.Lock()
	if ch.data != nil && time.Since(ch.at) < ch.ttl {
		d := ch.data
		ch.mu.Unlock()
		return d, nil
	}
	ch.mu.Unlock()
	ch.loadMu.Lock()
	defer ch.loadMu.Unlock()
	ch.mu.Lock()
	if ch.data != nil && time.Since(ch.at) < ch.ttl { // another request read them meanwhile
		d := ch.data
		ch.mu.Unlock()
		return d, nil
	}
	ch.mu.Unlock()
	at := time.Now()
	d, err := readChoices(ctx, a)
	if err != nil {
		return nil, err
	}
	// The same lists read again keep their number, so that the pages built from them stay kept.
	h := fnv.New64a()
	fmt.Fprintf(h, "%+v", *d)
	d.Reading = h.Sum64()
	ch.mu.Lock()
	ch.data, ch.at = d, at
	ch.mu.Unlock()
	return d, nil
}

// forget drops the lists, after this instance changed one of them.
func (ch *choices) forget() {
	ch.mu.Lock()
	ch.data = nil
	ch.mu.Unlock()
}

func readChoices(ctx context.Context, a *App) (*choiceLists, error) {
	d := &choiceLists{}
	var err error
	if d.Areas, err = request.FunctionalAreas(ctx, a.db); err != nil {
		return nil, err
	}
	if err := a.db.NewSelect().Table("nsigs").Column("id", "name", "status").Order("name").Scan(ctx, &d.NSIGs); err != nil {
		return nil, fmt.Errorf("list NSIGs: %w", err)
	}
	if d.Regions, err = organisation.Regions(ctx, a.db); err != nil {
		return nil, err
	}
	if d.Organisations, err = organisation.List(ctx, a.db); err != nil {
		return nil, err
	}
	if d.Triagers, err = identity.Holders(ctx, a.db, identity.RoleCentralTeam); err != nil {
		return nil, err
	}
	return d, nil
}

// nsigOptions lists every NSIG, inactive ones too (their requests are still listed), for a filter.
func (l *choiceLists) nsigOptions() []Option {
	opts := []Option{{Value: "", Label: "Any NSIG"}}
	for _, n := range l.NSIGs {
		label := n.Name
		if n.Status != "active" {
			label += " (inactive)"
		}
		opts = append(opts, Option{Value: strconv.FormatInt(n.ID, 10), Label: label})
	}
	return opts
}

// assignOptions are the triage form's choices: the central team's people and the active NSIGs.
func (l *choiceLists) assignOptions() (people, groups []Option) {
	people = []Option{{Value: "", Label: "Nobody yet"}}
	for _, u := range l.Triagers {
		people = append(people, Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name})
	}
	groups = []Option{{Value: "", Label: "No NSIG"}}
	for _, n := range l.NSIGs {
		if n.Status == "active" {
			groups = append(groups, Option{Value: strconv.FormatInt(n.ID, 10), Label: n.Name})
		}
	}
	return people, groups
}
