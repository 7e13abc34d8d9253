package app

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/identity"
)

// authzTable is who may use every route. It is written out by hand, apart from the route table, so
// that a route added without an entry here, or with different access, fails this test.
var authzTable = map[string][]string{
	"GET /healthz":     {"anonymous", "*"},
	"GET /readyz":      {"anonymous", "*"},
	"GET /public/*":    {"anonymous", "*"},
	"GET /assets/*":    {"anonymous", "*"},
	"GET /favicon.ico": {"anonymous", "*"},

	"GET /accessibility": {"anonymous", "*"},
	"GET /downtime":      {"anonymous", "*"},
	"GET /sign-in":       {"anonymous", "*"},
	"POST /sign-in":      {"anonymous", "*"},
	"POST /sign-out":     {"*"},

	"GET /sign-in/oidc/:provider":          {"anonymous", "*"},
	"GET /sign-in/oidc/:provider/callback": {"anonymous", "*"},
	"GET /sign-in/request-access":          {"anonymous", "*"},
	"POST /sign-in/request-access":         {"anonymous", "*"},

	"GET /sign-in/code":                 {"*"},
	"POST /sign-in/code":                {"*"},
	"GET /sign-in/recovery":             {"*"},
	"POST /sign-in/recovery":            {"*"},
	"GET /account/two-factor":           {"*"},
	"GET /account":                      {"*"},
	"GET /account/sessions":             {"*"},
	"POST /account/sessions/end-others": {"*"},
	"POST /account/sessions/:id/end":    {"*"},
	"POST /account/two-factor":          {"*"},

	"GET /":                  {"*"},
	"GET /account/password":  {"*"},
	"POST /account/password": {"*"},

	"GET /requests":             {"*"},
	"GET /requests/export.csv":  {"*"},
	"GET /requests/export.xlsx": {"*"},
	"GET /requests/export.pdf":  {"*"},
	"GET /triage":               {central},

	"GET /dashboard":                                         {central, devTeam},
	"GET /dashboard/report.pdf":                              {central, devTeam},
	"GET /dashboard/report.xlsx":                             {central, devTeam},
	"GET /dashboard/regions/:region":                         {fam, central, devTeam},
	"GET /dashboard/regions/:region/report.pdf":              {fam, central, devTeam},
	"GET /dashboard/regions/:region/report.xlsx":             {fam, central, devTeam},
	"GET /dashboard/organisations/:organisation":             {requester, nsigMember, fam, central, devTeam},
	"GET /dashboard/organisations/:organisation/report.pdf":  {requester, nsigMember, fam, central, devTeam},
	"GET /dashboard/organisations/:organisation/report.xlsx": {requester, nsigMember, fam, central, devTeam},

	"GET /assessments":                        {devTeam},
	"GET /reviews":                            {central},
	"GET /requests/:ref/assessment":           {central, devTeam},
	"POST /requests/:ref/assessment":          {devTeam},
	"POST /requests/:ref/assessment/assessor": {central, devTeam},

	// Requirement definition and business justification.
	"GET /requests/:ref/requirement":             {requester, nsigMember, fam, central, devTeam},
	"POST /requests/:ref/requirement":            {requester, nsigMember, devTeam},
	"POST /requests/:ref/requirement/agree":      {requester, nsigMember, devTeam},
	"GET /requests/:ref/requirement/versions/:v": {requester, nsigMember, fam, central, devTeam},
	"GET /requests/:ref/justification":           {requester, nsigMember, fam, central, devTeam},
	"GET /requests/:ref/justification/check":     {requester, nsigMember, fam, central, devTeam},
	"POST /requests/:ref/justification/submit":   {requester, nsigMember, devTeam},
	"POST /requests/:ref/justification/endorse":  {fam, nsigMember},
	"GET /requests/:ref/justification/:section":  {requester, nsigMember, fam, central, devTeam},
	"POST /requests/:ref/justification/:section": {requester, nsigMember, fam, devTeam},
	"POST /requests/:ref/attachments":            {requester, nsigMember, fam, central, devTeam},
	"GET /requests/:ref/attachments/:id":         {requester, nsigMember, fam, central, devTeam},
	"POST /requests/:ref/attachments/:id/remove": {requester, nsigMember, fam, central, devTeam},

	"GET /requests/new":                  {requester, nsigMember},
	"GET /requests/similar":              {"*"},
	"POST /requests/drafts":              {requester, nsigMember},
	"GET /requests/drafts/:id/title":     {requester, nsigMember},
	"POST /requests/drafts/:id/title":    {requester, nsigMember},
	"GET /requests/drafts/:id/details":   {requester, nsigMember},
	"POST /requests/drafts/:id/details":  {requester, nsigMember},
	"GET /requests/drafts/:id/affected":  {requester, nsigMember},
	"POST /requests/drafts/:id/affected": {requester, nsigMember},
	"GET /requests/drafts/:id/urgency":   {requester, nsigMember},
	"POST /requests/drafts/:id/urgency":  {requester, nsigMember},
	"GET /requests/drafts/:id/check":     {requester, nsigMember},
	"POST /requests/drafts/:id/submit":   {requester, nsigMember},
	"GET /requests/:ref/raised":          {requester, nsigMember},
	"GET /schedules":                     {"*"},
	"GET /schedules/new":                 {central},
	"GET /schedules/preview":             {central},
	"GET /schedules/preview/pdf":         {central},
	"POST /schedules":                    {central},
	"GET /schedules/:id":                 {"*"},
	"GET /schedules/:id/pdf":             {"*"},
	"GET /schedules/:id/csv":             {"*"},
	"GET /schedules/:id/xlsx":            {"*"},
	"POST /schedules/:id/public":         {central},
	"GET /development-schedule":          {"anonymous", "*"},
	"GET /development-schedule/pdf":      {"anonymous", "*"},
	"GET /releases":                      {"*"},
	"GET /releases/new":                  {central},
	"POST /releases":                     {central},
	"GET /releases/:id":                  {"*"},
	"GET /releases/:id/edit":             {central},
	"POST /releases/:id":                 {central},
	"GET /releases/:id/release":          {central},
	"POST /releases/:id/release":         {central},
	"GET /requests/:ref/move":            {central},
	"POST /requests/:ref/move":           {central},
	"GET /links/:token":                  {"*"},
	"POST /links/:token":                 {"*"},
	"GET /requests/:ref":                 {"*"},
	"GET /requests/:ref/actions/:name":   {requester, nsigMember, central},
	"POST /requests/:ref/actions/:name":  {requester, nsigMember, central},
	"POST /requests/:ref/comments":       {"*"},
	"POST /requests/:ref/support":        {requester, nsigMember},
	"POST /requests/:ref/follow":         {"*"},
	"POST /requests/:ref/assign":         {central},
	"GET /requests/:ref/summary":         {central},
	"POST /requests/:ref/summary":        {central},

	"GET /supplementary-roles":                           {"*"},
	"GET /supplementary-roles/export.csv":                {"*"},
	"GET /supplementary-roles/export.xlsx":               {"*"},
	"GET /supplementary-roles/request":                   {requester, nsigMember},
	"POST /supplementary-roles/request":                  {requester, nsigMember},
	"POST /supplementary-roles/request/submit":           {requester, nsigMember},
	"GET /supplementary-roles/queue":                     {central},
	"GET /competences":                                   {"*"},
	"GET /competences/export.csv":                        {"*"},
	"GET /competences/export.xlsx":                       {"*"},
	"GET /competences/request":                           {requester, nsigMember},
	"POST /competences/request":                          {requester, nsigMember},
	"POST /competences/request/submit":                   {requester, nsigMember},
	"GET /competences/queue":                             {central},
	"POST /requests/:ref/regional-view":                  {nsigMember},
	"GET /nsigs":                                         {nsigMember, central, admin},
	"GET /nsigs/new":                                     {central, admin},
	"POST /nsigs":                                        {central, admin},
	"GET /nsigs/membership":                              {central, admin},
	"GET /nsigs/waiting":                                 {nsigMember},
	"GET /nsigs/:id":                                     {nsigMember, central, admin},
	"GET /nsigs/:id/edit":                                {central, admin},
	"POST /nsigs/:id":                                    {central, admin},
	"GET /nsigs/:id/queue":                               {nsigMember, central, admin},
	"GET /nsigs/:id/report.pdf":                          {nsigMember, central, admin},
	"GET /nsigs/:id/report.xlsx":                         {nsigMember, central, admin},
	"GET /nsigs/:id/seats/:region":                       {central, admin},
	"GET /nsigs/:id/seats/:region/appoint":               {central, admin},
	"POST /nsigs/:id/seats/:region/appoint":              {central, admin},
	"GET /nsigs/:id/appointments/:appointment/end":       {central, admin},
	"POST /nsigs/:id/appointments/:appointment/end":      {central, admin},
	"POST /nsigs/:id/handovers/:project/regions/:region": {nsigMember, central},

	"GET /nsigs/:id/meetings/new":                            {central},
	"POST /nsigs/:id/meetings":                               {central},
	"GET /nsigs/:id/meetings/:meeting":                       {nsigMember, central, admin},
	"GET /nsigs/:id/meetings/:meeting/calendar.ics":          {nsigMember, central, admin},
	"GET /nsigs/:id/meetings/:meeting/items/new":             {nsigMember, central},
	"POST /nsigs/:id/meetings/:meeting/items":                {nsigMember, central},
	"POST /nsigs/:id/meetings/:meeting/items/:item/decision": {nsigMember, central},
	"POST /nsigs/:id/meetings/:meeting/items/:item/minutes":  {nsigMember, central},
	"POST /nsigs/:id/meetings/:meeting/publish":              {nsigMember, central},
	"POST /nsigs/:id/meetings/:meeting/attendance":           {nsigMember, central},
	"POST /nsigs/:id/meetings/:meeting/actions":              {nsigMember, central},
	"POST /nsigs/:id/meetings/:meeting/actions/:action/done": {nsigMember, central},

	"GET /regions":                      {nsigMember, fam, central, admin},
	"GET /regions/:region/update":       {nsigMember, fam, central, admin},
	"GET /regions/:region/update/pdf":   {nsigMember, fam, central, admin},
	"POST /regions/:region/update/send": {central},

	"GET /projects":               {central, admin},
	"GET /projects/new":           {central, admin},
	"POST /projects":              {central, admin},
	"GET /projects/:id/edit":      {central, admin},
	"POST /projects/:id":          {central, admin},
	"GET /projects/:id/handover":  {central, admin},
	"POST /projects/:id/handover": {central, admin},

	"GET /admin/users":                       {admin},
	"GET /admin/users/new":                   {admin},
	"POST /admin/users":                      {admin},
	"GET /admin/users/:id":                   {admin},
	"GET /admin/users/:id/edit":              {admin},
	"POST /admin/users/:id":                  {admin},
	"POST /admin/users/:id/disable":          {admin},
	"POST /admin/users/:id/enable":           {admin},
	"POST /admin/users/:id/reset-password":   {admin},
	"POST /admin/users/:id/two-factor/reset": {admin},
	"POST /admin/users/:id/sessions/end":     {admin},
	"GET /notifications":                     {"*"},
	"POST /notifications/read-all":           {"*"},
	"POST /notifications/:id/read":           {"*"},
	"GET /account/notifications":             {"*"},
	"POST /account/notifications":            {"*"},
	"GET /admin/mail":                        {admin},
	"GET /admin/mail/:id":                    {admin},
	"GET /admin/mail/:id/html":               {admin},
	"GET /admin/audit":                       {admin},
	"GET /admin/organisations":               {admin},
	"GET /admin/downtime/new":                {admin},
	"POST /admin/downtime":                   {admin},
	"POST /admin/downtime/:id/withdraw":      {admin},
	"GET /people":                            {approver},
	"GET /people/:id":                        {approver, admin},
	"POST /people/:id/leaving":               {approver, admin},
	"POST /people/:id/remove-access":         {approver, admin},
	"GET /admin/organisations/new":           {admin},
	"POST /admin/organisations":              {admin},
	"GET /admin/organisations/:id/edit":      {admin},
	"POST /admin/organisations/:id":          {admin},
	"GET /admin/organisations/:id/merge":     {admin},
	"POST /admin/organisations/:id/merge":    {admin},
	"GET /access-reviews":                    {approver, fam, admin},
	"GET /access-reviews/roles.csv":          {approver, admin},
	"GET /access-reviews/reviews.csv":        {approver, admin},
	"GET /access-reviews/report.xlsx":        {approver, admin},
	"GET /access-reviews/:id":                {approver, fam, admin},
	"GET /access-reviews/:id/record.pdf":     {approver, fam, admin},
	"POST /access-reviews/:id/people/:user":  {approver, fam, admin},
	"POST /access-reviews/:id/sign-off":      {approver, fam, admin},
	"GET /access-requests":                   {approver, admin},
	"GET /access-requests/:id":               {approver, admin},
	"POST /access-requests/:id":              {approver, admin},
}

// sensitiveRoutes are the actions that ask an elevated user for a passcode again when their last one is
// more than 15 minutes old: granting roles, resetting a second factor, publishing a schedule, putting a
// release live.
var sensitiveRoutes = map[string]bool{
	"POST /admin/users":                      true,
	"POST /admin/users/:id":                  true,
	"POST /admin/users/:id/two-factor/reset": true,
	"POST /schedules":                        true,
	"POST /releases/:id/release":             true,
	"POST /access-requests/:id":              true,
}

func TestSensitiveRoutesAskForAFreshCode(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	for _, r := range p.app.Routes() {
		key := r.Method + " " + r.Path
		if r.Sensitive != sensitiveRoutes[key] {
			t.Errorf("route %s: sensitive is %v, the table says %v", key, r.Sensitive, sensitiveRoutes[key])
		}
	}
}

func TestAuthorizationTableCoversEveryRoute(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	registered := map[string]bool{}
	for _, r := range p.app.Routes() {
		key := r.Method + " " + r.Path
		registered[key] = true
		want, ok := authzTable[key]
		if !ok {
			t.Errorf("route %s is not in the authorization table", key)
			continue
		}
		got := []string{}
		if r.Public {
			got = append(got, "anonymous", "*")
		} else if r.SignedIn {
			got = append(got, "*")
		}
		got = append(got, r.Roles...)
		if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
			t.Errorf("route %s allows %v, the table says %v", key, got, want)
		}
	}
	for key := range authzTable {
		if !registered[key] {
			t.Errorf("the authorization table lists %s, which is not a route", key)
		}
	}
}

// routePath fills a route's parameters with values that exist or at least parse: the handlers of
// allowed roles then answer (perhaps 404 or 422), never 403.
func routePath(pattern string, userID int64) string {
	return strings.NewReplacer(
		":id", fmt.Sprint(userID),
		":ref", "ENH-2026-9999",
		":name", "acknowledge",
		":section", "about",
		":v", "1",
		":token", "an-unknown-action-link-token",
		":region", "2",
		":organisation", "1",
		":appointment", "999999",
		":meeting", "999999",
		":item", "999999",
		":action", "999999",
		":provider", "sso",
		":user", fmt.Sprint(userID),
		"/public/*", "/public/css/portal.css",
		"/assets/*", "/assets/images/favicon.ico",
	).Replace(pattern)
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func allowedFor(entry []string, who string) bool {
	for _, e := range entry {
		if e == who || (e == "*" && who != "anonymous") {
			return true
		}
	}
	return false
}

// TestAuthorizationEveryRouteEveryRole calls every route as anonymous and as a user of each role:
// those allowed are served (whatever the handler then makes of an empty form), the rest are refused —
// 403 for a signed-in user, a redirect to sign in for anonymous.
func TestAuthorizationEveryRouteEveryRole(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	target := p.createUser("target@test.nhs.uk", "Target User", identity.RoleRequester)
	who := []string{"anonymous"}
	for _, r := range identity.Roles {
		who = append(who, r.Name)
	}
	for _, r := range p.app.Routes() {
		key := r.Method + " " + r.Path
		path := routePath(r.Path, target.ID)
		for _, w := range who {
			t.Run(key+" as "+w, func(t *testing.T) {
				var b *browser
				if w == "anonymous" {
					b = p.anonymous()
				} else {
					b = p.as(p.users[w])
				}
				var res response
				if r.Method == "GET" {
					res = b.get(path)
				} else {
					res = b.post(path, url.Values{})
				}
				allowed := allowedFor(authzTable[key], w)
				toSignIn := res.status == 303 && strings.HasPrefix(res.header.Get("Location"), "/sign-in")
				switch {
				case allowed && (res.status == 403 || (toSignIn && key != "POST /sign-out")):
					t.Errorf("%s may use %s but got %d %s", w, key, res.status, res.header.Get("Location"))
				case !allowed && w == "anonymous" && !toSignIn:
					t.Errorf("anonymous must be sent to sign in for %s, got %d", key, res.status)
				case !allowed && w != "anonymous" && res.status != 403:
					t.Errorf("%s must be refused %s with 403, got %d", w, key, res.status)
				}
			})
		}
	}
}

// TestCSRFRequiredOnEveryUnsafeRoute posts to every unsafe route, as a user allowed to use it, with no
// token and with a wrong token: each is refused with 403 and changes nothing.
func TestCSRFRequiredOnEveryUnsafeRoute(t *testing.T) {
	t.Parallel()
	p := newTestPortal(t)
	target := p.createUser("target@test.nhs.uk", "Target User", identity.RoleRequester)
	for _, r := range p.app.Routes() {
		if safeMethod(r.Method) {
			continue
		}
		key := r.Method + " " + r.Path
		path := routePath(r.Path, target.ID)
		as := "anonymous"
		for _, e := range authzTable[key] {
			if e != "anonymous" {
				as = e
				break
			}
		}
		if as == "*" {
			as = identity.RoleRequester
		}
		for name, token := range map[string]string{"missing": "", "wrong": "bm90LXRoZS10b2tlbg"} {
			t.Run(key+" "+name, func(t *testing.T) {
				b := p.anonymous()
				if as != "anonymous" {
					b = p.as(p.users[as])
				}
				b.get("/sign-in") // an anonymous browser has its CSRF cookie, as a real one would
				form := url.Values{"version": {"1"}, "email": {"x@y.nhs.uk"}, "password": {"x"}}
				if token != "" {
					form.Set("_csrf", token)
				}
				res := b.do("POST", path, form)
				if res.status != 403 || !strings.Contains(res.body, "Your form could not be sent") {
					t.Fatalf("status %d, want 403 with the expired-form page", res.status)
				}
			})
		}
	}
	var status string
	if err := p.db.DB.NewSelect().Table("users").Column("status").Where("id = ?", target.ID).Scan(t.Context(), &status); err != nil {
		t.Fatal(err)
	}
	if status != identity.StatusActive {
		t.Fatalf("a refused form changed the user: status %s", status)
	}
}
