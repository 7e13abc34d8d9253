package app

import (
	"github.com/gofiber/fiber/v2"

	"github.com/nhs-esr/portal/app/identity"
)

// access says who may use a route. Deny by default: a route whose access names nobody is refused to
// everyone, signed in or not.
type access struct {
	public   bool     // anyone, signed in or not
	signedIn bool     // anyone signed in
	roles    []string // anyone signed in holding one of these roles
	static   bool     // a file: no session is read and no Cache-Control: no-store is added
	// fresh marks a sensitive action: an elevated user whose second factor was passed more than
	// identity.FreshFor ago enters a passcode again first (see reconfirm).
	fresh bool
}

// sensitive is ac for a sensitive action (see access.fresh).
func sensitive(ac access) access { ac.fresh = true; return ac }

var (
	anyone     = access{public: true}
	staticFile = access{public: true, static: true}
	signedIn   = access{signedIn: true}
)

func roles(names ...string) access { return access{roles: names} }

const (
	requester  = identity.RoleRequester
	nsigMember = identity.RoleNSIGMember
	fam        = identity.RoleFunctionalAccountManager
	central    = identity.RoleCentralTeam
	devTeam    = identity.RoleDevelopmentTeam
	admin      = identity.RoleAdmin
	approver   = identity.RoleAccessApprover
)

// route is one entry of the route table.
type route struct {
	method  string
	path    string
	access  access
	handler fiber.Handler
}

// routeTable is every URL the portal answers, top to bottom: method, path, who may use it, handler.
func (a *App) routeTable() []route {
	return []route{
		// Probes and files.
		{"GET", "/healthz", anyone, a.healthz},
		{"GET", "/readyz", anyone, a.readyz},
		{"GET", "/public/*", staticFile, a.assets.Handler()},
		{"GET", "/assets/*", staticFile, a.assets.NHSAssetsHandler()},
		{"GET", "/favicon.ico", staticFile, a.favicon},

		// Pages anyone can read.
		{"GET", "/accessibility", anyone, a.accessibility},
		{"GET", "/downtime", anyone, a.downtimeIndex},

		// Signing in and out.
		{"GET", "/sign-in", anyone, a.signInShow},
		{"POST", "/sign-in", anyone, a.signInCreate},
		{"POST", "/sign-out", signedIn, a.signOut},
		// Single sign-on with an OpenID Connect identity provider (none unless configured).
		{"GET", "/sign-in/oidc/:provider", anyone, a.oidcStart},
		{"GET", "/sign-in/oidc/:provider/callback", anyone, a.oidcCallback},
		{"GET", "/sign-in/request-access", anyone, a.accessRequestNew},
		{"POST", "/sign-in/request-access", anyone, a.accessRequestCreate},
		// The second factor: the passcode after the password (or a recovery code instead), and setting
		// up an authenticator, which elevated roles must do before any other page.
		{"GET", "/sign-in/code", signedIn, a.signInCodeShow},
		{"POST", "/sign-in/code", signedIn, a.signInCodeCreate},
		{"GET", "/sign-in/recovery", signedIn, a.signInRecoveryShow},
		{"POST", "/sign-in/recovery", signedIn, a.signInRecoveryCreate},
		{"GET", "/account/two-factor", signedIn, a.twoFactorShow},
		{"POST", "/account/two-factor", signedIn, a.twoFactorCreate},

		// Everyone signed in.
		{"GET", "/", signedIn, a.home},
		{"GET", "/account", signedIn, a.accountShow},
		{"GET", "/account/sessions", signedIn, a.sessionsIndex},
		{"POST", "/account/sessions/end-others", signedIn, a.sessionsEndOthers},
		{"POST", "/account/sessions/:id/end", signedIn, a.sessionEnd},
		{"GET", "/account/password", signedIn, a.passwordEdit},
		{"POST", "/account/password", signedIn, a.passwordUpdate},

		// Requests. Fixed paths come before /requests/:ref.
		{"GET", "/requests", signedIn, a.requestsIndex},
		{"GET", "/requests/export.csv", signedIn, a.requestsExportCSV},
		{"GET", "/requests/export.xlsx", signedIn, a.requestsExportXLSX},
		{"GET", "/requests/export.pdf", signedIn, a.requestsExportPDF},
		{"GET", "/triage", roles(central), a.triageIndex},
		// Dashboards: the national one for the national teams, a region's for its functional account
		// manager, an organisation's for its requesters; every figure counts only what the viewer may see
		// and links to the requests it counts. Each downloads as a PDF and an Excel workbook.
		{"GET", "/dashboard", roles(central, devTeam), a.dashboardShow},
		{"GET", "/dashboard/report.pdf", roles(central, devTeam), a.dashboardPDF},
		{"GET", "/dashboard/report.xlsx", roles(central, devTeam), a.dashboardXLSX},
		{"GET", "/dashboard/regions/:region", roles(fam, central, devTeam), a.dashboardShow},
		{"GET", "/dashboard/regions/:region/report.pdf", roles(fam, central, devTeam), a.dashboardPDF},
		{"GET", "/dashboard/regions/:region/report.xlsx", roles(fam, central, devTeam), a.dashboardXLSX},
		{"GET", "/dashboard/organisations/:organisation", roles(requester, nsigMember, fam, central, devTeam), a.dashboardShow},
		{"GET", "/dashboard/organisations/:organisation/report.pdf", roles(requester, nsigMember, fam, central, devTeam), a.dashboardPDF},
		{"GET", "/dashboard/organisations/:organisation/report.xlsx", roles(requester, nsigMember, fam, central, devTeam), a.dashboardXLSX},
		// Raising an enhancement request: a start page, question pages kept in a draft, check your
		// answers, then the confirmation. Fixed paths, so before /requests/:ref.
		{"GET", "/requests/new", roles(requester, nsigMember), a.requestNew},
		{"GET", "/requests/similar", signedIn, a.requestsSimilar},
		{"POST", "/requests/drafts", roles(requester, nsigMember), a.draftCreate},
		{"GET", "/requests/drafts/:id/title", roles(requester, nsigMember), a.draftTitleEdit},
		{"POST", "/requests/drafts/:id/title", roles(requester, nsigMember), a.draftTitleUpdate},
		{"GET", "/requests/drafts/:id/details", roles(requester, nsigMember), a.draftDetailsEdit},
		{"POST", "/requests/drafts/:id/details", roles(requester, nsigMember), a.draftDetailsUpdate},
		{"GET", "/requests/drafts/:id/affected", roles(requester, nsigMember), a.draftAffectedEdit},
		{"POST", "/requests/drafts/:id/affected", roles(requester, nsigMember), a.draftAffectedUpdate},
		{"GET", "/requests/drafts/:id/urgency", roles(requester, nsigMember), a.draftUrgencyEdit},
		{"POST", "/requests/drafts/:id/urgency", roles(requester, nsigMember), a.draftUrgencyUpdate},
		{"GET", "/requests/drafts/:id/check", roles(requester, nsigMember), a.draftCheck},
		{"POST", "/requests/drafts/:id/submit", roles(requester, nsigMember), a.draftSubmit},
		{"GET", "/requests/:ref/raised", roles(requester, nsigMember), a.requestRaised},
		// Supplementary roles and NHS MAND competences: everyone signed in browses and exports the lists;
		// requesters ask for additions (a form, check your answers, then /requests/:ref/raised); the
		// central team works through a queue of each kind from the request pages.
		{"GET", "/supplementary-roles", signedIn, a.rolesIndex},
		{"GET", "/supplementary-roles/export.csv", signedIn, a.rolesExportCSV},
		{"GET", "/supplementary-roles/export.xlsx", signedIn, a.rolesExportXLSX},
		{"GET", "/supplementary-roles/request", roles(requester, nsigMember), a.roleRequestNew},
		{"POST", "/supplementary-roles/request", roles(requester, nsigMember), a.roleRequestCheck},
		{"POST", "/supplementary-roles/request/submit", roles(requester, nsigMember), a.roleRequestSubmit},
		{"GET", "/supplementary-roles/queue", roles(central), a.rolesQueue},
		{"GET", "/competences", signedIn, a.competencesIndex},
		{"GET", "/competences/export.csv", signedIn, a.competencesExportCSV},
		{"GET", "/competences/export.xlsx", signedIn, a.competencesExportXLSX},
		{"GET", "/competences/request", roles(requester, nsigMember), a.competenceRequestNew},
		{"POST", "/competences/request", roles(requester, nsigMember), a.competenceRequestCheck},
		{"POST", "/competences/request/submit", roles(requester, nsigMember), a.competenceRequestSubmit},
		{"GET", "/competences/queue", roles(central), a.competencesQueue},
		// Releases: everyone signed in reads them; the central team manages them, puts them live and
		// moves allocated requests between them.
		{"GET", "/releases", signedIn, a.releasesIndex},
		{"GET", "/releases/new", roles(central), a.releaseNew},
		{"POST", "/releases", roles(central), a.releaseCreate},
		{"GET", "/releases/:id", signedIn, a.releaseShow},
		{"GET", "/releases/:id/edit", roles(central), a.releaseEdit},
		{"POST", "/releases/:id", roles(central), a.releaseUpdate},
		{"GET", "/releases/:id/release", roles(central), a.releaseReleaseConfirm},
		{"POST", "/releases/:id/release", sensitive(roles(central)), a.releaseRelease},
		// The quarterly Development Schedule: everyone signed in reads the published versions; the central
		// team previews and publishes them and makes one public, which anyone may then read.
		{"GET", "/schedules", signedIn, a.schedulesIndex},
		{"GET", "/schedules/new", roles(central), a.scheduleNew},
		{"GET", "/schedules/preview", roles(central), a.schedulePreview},
		{"GET", "/schedules/preview/pdf", roles(central), a.schedulePreviewPDF},
		{"POST", "/schedules", sensitive(roles(central)), a.schedulePublish},
		{"GET", "/schedules/:id", signedIn, a.scheduleShow},
		{"GET", "/schedules/:id/pdf", signedIn, a.schedulePDF},
		{"GET", "/schedules/:id/csv", signedIn, a.scheduleCSV},
		{"GET", "/schedules/:id/xlsx", signedIn, a.scheduleXLSX},
		{"POST", "/schedules/:id/public", roles(central), a.schedulePublic},
		{"GET", "/development-schedule", anyone, a.publicSchedule},
		{"GET", "/development-schedule/pdf", anyone, a.publicSchedulePDF},
		{"GET", "/requests/:ref/move", roles(central), a.requestMoveShow},
		{"POST", "/requests/:ref/move", roles(central), a.requestMove},
		// One-time links from emails, for the user they were sent to, signed in: an action link opens a
		// page to confirm its action on (opening it changes nothing) and the confirmation takes it; a
		// link to a page (from emails written before action links) goes on to it.
		{"GET", "/links/:token", signedIn, a.linkFollow},
		{"POST", "/links/:token", signedIn, a.linkTake},
		// Impact assessment and decisions: the development team assesses a request (the central team
		// reads it and either team sets the assessor); decisions are the approve, defer and
		// not_approve actions; deferred requests come back on their review dates.
		{"GET", "/assessments", roles(devTeam), a.assessmentsIndex},
		{"GET", "/reviews", roles(central), a.reviewsIndex},
		{"GET", "/requests/:ref/assessment", roles(central, devTeam), a.assessmentShow},
		{"POST", "/requests/:ref/assessment", roles(devTeam), a.assessmentUpdate},
		{"POST", "/requests/:ref/assessment/assessor", roles(central, devTeam), a.assessmentAssign},
		// Requirement definition and business justification: the raising organisation and the development
		// team write and agree the requirement; they and the region's FAM write the justification, which
		// the FAM or a regional SIG endorses. Whoever sees the request in full reads them and its
		// supporting documents. Fixed paths (check, submit, endorse) come before :section.
		{"GET", "/requests/:ref/requirement", roles(requester, nsigMember, fam, central, devTeam), a.requirementShow},
		{"POST", "/requests/:ref/requirement", roles(requester, nsigMember, devTeam), a.requirementSave},
		{"POST", "/requests/:ref/requirement/agree", roles(requester, nsigMember, devTeam), a.requirementAgree},
		{"GET", "/requests/:ref/requirement/versions/:v", roles(requester, nsigMember, fam, central, devTeam), a.requirementVersion},
		{"GET", "/requests/:ref/justification", roles(requester, nsigMember, fam, central, devTeam), a.justificationShow},
		{"GET", "/requests/:ref/justification/check", roles(requester, nsigMember, fam, central, devTeam), a.justificationCheck},
		{"POST", "/requests/:ref/justification/submit", roles(requester, nsigMember, devTeam), a.justificationSubmit},
		{"POST", "/requests/:ref/justification/endorse", roles(fam, nsigMember), a.justificationEndorse},
		{"GET", "/requests/:ref/justification/:section", roles(requester, nsigMember, fam, central, devTeam), a.justificationSectionEdit},
		{"POST", "/requests/:ref/justification/:section", roles(requester, nsigMember, fam, devTeam), a.justificationSectionSave},
		{"POST", "/requests/:ref/attachments", roles(requester, nsigMember, fam, central, devTeam), a.attachmentCreate},
		{"GET", "/requests/:ref/attachments/:id", roles(requester, nsigMember, fam, central, devTeam), a.attachmentShow},
		{"POST", "/requests/:ref/attachments/:id/remove", roles(requester, nsigMember, fam, central, devTeam), a.attachmentRemove},
		{"GET", "/requests/:ref", signedIn, a.requestShow},
		{"GET", "/requests/:ref/actions/:name", roles(requester, nsigMember, central), a.requestActionShow},
		{"POST", "/requests/:ref/actions/:name", roles(requester, nsigMember, central), a.requestActionApply},
		{"POST", "/requests/:ref/comments", signedIn, a.requestComment},
		{"POST", "/requests/:ref/support", roles(requester, nsigMember), a.requestSupport},
		{"POST", "/requests/:ref/follow", signedIn, a.requestFollow},
		{"POST", "/requests/:ref/assign", roles(central), a.requestAssign},
		{"GET", "/requests/:ref/summary", roles(central), a.requestSummaryEdit},
		{"POST", "/requests/:ref/summary", roles(central), a.requestSummaryUpdate},
		{"POST", "/requests/:ref/regional-view", roles(nsigMember), a.requestRegionalView},

		// NSIGs: the central team and administrators manage them and fill their regional seats; members
		// and deputies open their own NSIG's dashboard and review queue. Fixed paths before /nsigs/:id.
		{"GET", "/nsigs", roles(nsigMember, central, admin), a.nsigsIndex},
		{"GET", "/nsigs/new", roles(central, admin), a.nsigNew},
		{"POST", "/nsigs", roles(central, admin), a.nsigCreate},
		{"GET", "/nsigs/membership", roles(central, admin), a.nsigMembership},
		{"GET", "/nsigs/waiting", roles(nsigMember), a.nsigWaiting},
		{"GET", "/nsigs/:id", roles(nsigMember, central, admin), a.nsigShow},
		// A region's seat holder (or the central team) marks that its regional SIG has extended its
		// membership to cover a project handed to the NSIG.
		{"POST", "/nsigs/:id/handovers/:project/regions/:region", roles(nsigMember, central), a.handoverRegionDone},
		{"GET", "/nsigs/:id/edit", roles(central, admin), a.nsigEdit},
		{"POST", "/nsigs/:id", roles(central, admin), a.nsigUpdate},
		{"GET", "/nsigs/:id/queue", roles(nsigMember, central, admin), a.nsigQueue},
		{"GET", "/nsigs/:id/report.pdf", roles(nsigMember, central, admin), a.nsigReportPDF},
		{"GET", "/nsigs/:id/report.xlsx", roles(nsigMember, central, admin), a.nsigReportXLSX},
		{"GET", "/nsigs/:id/seats/:region", roles(central, admin), a.seatShow},
		{"GET", "/nsigs/:id/seats/:region/appoint", roles(central, admin), a.appointNew},
		{"POST", "/nsigs/:id/seats/:region/appoint", roles(central, admin), a.appointCreate},
		{"GET", "/nsigs/:id/appointments/:appointment/end", roles(central, admin), a.endTermShow},
		{"POST", "/nsigs/:id/appointments/:appointment/end", roles(central, admin), a.endTermCreate},
		// NSIG meetings: the central team schedules them; members and the central team ask for agenda
		// items; the chair (an NSIG member) or the central team runs the rest, checked in the domain.
		{"GET", "/nsigs/:id/meetings/new", roles(central), a.meetingNew},
		{"POST", "/nsigs/:id/meetings", roles(central), a.meetingCreate},
		{"GET", "/nsigs/:id/meetings/:meeting", roles(nsigMember, central, admin), a.meetingShow},
		{"GET", "/nsigs/:id/meetings/:meeting/calendar.ics", roles(nsigMember, central, admin), a.meetingCalendar},
		{"GET", "/nsigs/:id/meetings/:meeting/items/new", roles(nsigMember, central), a.itemNew},
		{"POST", "/nsigs/:id/meetings/:meeting/items", roles(nsigMember, central), a.itemCreate},
		{"POST", "/nsigs/:id/meetings/:meeting/items/:item/decision", roles(nsigMember, central), a.itemDecide},
		{"POST", "/nsigs/:id/meetings/:meeting/items/:item/minutes", roles(nsigMember, central), a.itemMinutes},
		{"POST", "/nsigs/:id/meetings/:meeting/publish", roles(nsigMember, central), a.meetingPublish},
		{"POST", "/nsigs/:id/meetings/:meeting/attendance", roles(nsigMember, central), a.meetingAttendance},
		{"POST", "/nsigs/:id/meetings/:meeting/actions", roles(nsigMember, central), a.actionCreate},
		{"POST", "/nsigs/:id/meetings/:meeting/actions/:action/done", roles(nsigMember, central), a.actionDone},
		// Regional SIG updates: what the NSIGs did for a region over a period, read by the region's seat
		// holders and FAM (record-level) and the national teams; the central team sends it by email.
		{"GET", "/regions", roles(nsigMember, fam, central, admin), a.regionsIndex},
		{"GET", "/regions/:region/update", roles(nsigMember, fam, central, admin), a.regionUpdate},
		{"GET", "/regions/:region/update/pdf", roles(nsigMember, fam, central, admin), a.regionUpdatePDF},
		{"POST", "/regions/:region/update/send", roles(central), a.regionUpdateSend},

		// Linked projects, handed to an NSIG when they move into business as usual.
		{"GET", "/projects", roles(central, admin), a.projectsIndex},
		{"GET", "/projects/new", roles(central, admin), a.projectNew},
		{"POST", "/projects", roles(central, admin), a.projectSave},
		{"GET", "/projects/:id/edit", roles(central, admin), a.projectEdit},
		{"POST", "/projects/:id", roles(central, admin), a.projectSave},
		{"GET", "/projects/:id/handover", roles(central, admin), a.handoverShow},
		{"POST", "/projects/:id/handover", roles(central, admin), a.handoverCreate},

		// Notifications.
		{"GET", "/notifications", signedIn, a.notificationsIndex},
		{"POST", "/notifications/read-all", signedIn, a.notificationsReadAll},
		{"POST", "/notifications/:id/read", signedIn, a.notificationRead},
		{"GET", "/account/notifications", signedIn, a.notificationSettingsEdit},
		{"POST", "/account/notifications", signedIn, a.notificationSettingsUpdate},

		// Administration.
		{"GET", "/admin/users", roles(admin), a.usersIndex},
		{"GET", "/admin/users/new", roles(admin), a.userNew},
		{"POST", "/admin/users", sensitive(roles(admin)), a.userCreate},
		{"GET", "/admin/users/:id", roles(admin), a.userShow},
		{"GET", "/admin/users/:id/edit", roles(admin), a.userEdit},
		{"POST", "/admin/users/:id", sensitive(roles(admin)), a.userUpdate},
		{"POST", "/admin/users/:id/disable", roles(admin), a.userDisable},
		{"POST", "/admin/users/:id/enable", roles(admin), a.userEnable},
		{"POST", "/admin/users/:id/reset-password", roles(admin), a.userResetPassword},
		{"POST", "/admin/users/:id/two-factor/reset", sensitive(roles(admin)), a.userResetTwoFactor},
		{"POST", "/admin/users/:id/sessions/end", roles(admin), a.userEndSessions},
		// Access: changes of roles waiting to be authorised, by an organisation's access approver or,
		// for elevated roles, a second administrator.
		{"GET", "/access-requests", roles(approver, admin), a.accessRequestsIndex},
		{"GET", "/access-requests/:id", roles(approver, admin), a.accessRequestShow},
		{"POST", "/access-requests/:id", sensitive(roles(approver, admin)), a.accessRequestDecide},
		// Leavers: an organisation's access approver (or an administrator) sets a leaving date, or
		// ends someone's access at once.
		{"GET", "/people", roles(approver), a.peopleIndex},
		{"GET", "/people/:id", roles(approver, admin), a.personShow},
		{"POST", "/people/:id/leaving", roles(approver, admin), a.personLeaving},
		{"POST", "/people/:id/remove-access", roles(approver, admin), a.personRemoveAccess},
		// Access reviews: every few months each organisation's access approver (failing one, its
		// region's FAM; for national roles, an administrator) confirms or removes each person's access
		// and signs the review off (record-level, in identity.MayReview). Reports of who holds which
		// role where, for administrators and for an approver's own organisation. Fixed paths first.
		{"GET", "/access-reviews", roles(approver, fam, admin), a.accessReviewsIndex},
		{"GET", "/access-reviews/roles.csv", roles(approver, admin), a.accessRolesCSV},
		{"GET", "/access-reviews/reviews.csv", roles(approver, admin), a.accessReviewsCSV},
		{"GET", "/access-reviews/report.xlsx", roles(approver, admin), a.accessReportXLSX},
		{"GET", "/access-reviews/:id", roles(approver, fam, admin), a.accessReviewShow},
		{"GET", "/access-reviews/:id/record.pdf", roles(approver, fam, admin), a.accessReviewPDF},
		{"POST", "/access-reviews/:id/people/:user", roles(approver, fam, admin), a.accessReviewMark},
		{"POST", "/access-reviews/:id/sign-off", roles(approver, fam, admin), a.accessReviewSignOff},
		{"GET", "/admin/downtime/new", roles(admin), a.downtimeNew},
		{"POST", "/admin/downtime", roles(admin), a.downtimeCreate},
		{"POST", "/admin/downtime/:id/withdraw", roles(admin), a.downtimeWithdraw},
		{"GET", "/admin/organisations", roles(admin), a.organisationsIndex},
		{"GET", "/admin/organisations/new", roles(admin), a.organisationNew},
		{"POST", "/admin/organisations", roles(admin), a.organisationCreate},
		{"GET", "/admin/organisations/:id/edit", roles(admin), a.organisationEdit},
		{"POST", "/admin/organisations/:id", roles(admin), a.organisationUpdate},
		{"GET", "/admin/organisations/:id/merge", roles(admin), a.organisationMergeShow},
		{"POST", "/admin/organisations/:id/merge", roles(admin), a.organisationMerge},
		{"GET", "/admin/audit", roles(admin), a.auditIndex},
		{"GET", "/admin/mail", roles(admin), a.mailIndex},
		{"GET", "/admin/mail/:id", roles(admin), a.mailShow},
		{"GET", "/admin/mail/:id/html", roles(admin), a.mailHTML},
	}
}

// RouteInfo describes one registered route and who may use it, for the authorization test.
type RouteInfo struct {
	Method, Path string
	Public       bool
	SignedIn     bool
	Roles        []string
	Sensitive    bool // asks an elevated user for a passcode again when their last one is old
}

// Routes lists the route table.
func (a *App) Routes() []RouteInfo {
	out := make([]RouteInfo, 0, len(a.routes))
	for _, r := range a.routes {
		out = append(out, RouteInfo{Method: r.method, Path: r.path, Public: r.access.public, SignedIn: r.access.signedIn, Roles: r.access.roles, Sensitive: r.access.fresh})
	}
	return out
}
