package check

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	lambdaauth "github.com/jwtgate/jwtgate/functions/lambda/authorizer"
	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// reasonCode is one decision.Reason constant with the outcome its group
// in shared/decision/reason.go declares ("// unauthenticated (401)", …).
type reasonCode struct {
	code    string
	outcome decision.Outcome
}

// reasonCodes reads the Reason constants from the source, so that a code
// added there is a code the documentation must explain.
func reasonCodes(t *testing.T) []reasonCode {
	t.Helper()
	file := filepath.Join(localruntest.Root(t), "shared", "decision", "reason.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]decision.Outcome{"unauthenticated": decision.Unauthenticated, "forbidden": decision.Forbidden, "unavailable": decision.Unavailable}
	var out []reasonCode
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		group := ""
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Reason" {
				continue
			}
			if vs.Doc != nil {
				group = strings.Fields(vs.Doc.Text())[0]
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					t.Fatalf("reason.go: a Reason that is not a string literal: %T", v)
				}
				code, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				o, ok := groups[group]
				switch {
				case code == string(decision.ReasonOK):
					o = decision.Allow
				case !ok:
					t.Fatalf("reason.go: %s is under no outcome comment (unauthenticated, forbidden, unavailable)", code)
				}
				out = append(out, reasonCode{code, o})
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("found %d reason codes in reason.go: the scan is broken", len(out))
	}
	return out
}

// reasonRow is one row of the reason-code table: | reason | cause | API
// Gateway | Azure | fix |.
type reasonRow struct{ code, cause, apigw, azure, fix string }

func reasonTable(t *testing.T) []reasonRow {
	t.Helper()
	var rows []reasonRow
	for _, l := range loadDoc(t, reasonsPage).section(t, reasonsHeading) {
		if reTableCode.FindStringSubmatch(l) == nil {
			continue
		}
		cells := strings.Split(strings.Trim(strings.ReplaceAll(l, `\|`, "\x00"), "| "), "|")
		if len(cells) != 5 {
			t.Fatalf("%s: a reason row needs 5 cells (reason, cause, API Gateway, Azure, fix): %s", reasonsPage, l)
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, reasonRow{strings.Trim(cells[0], "`"), cells[1], cells[2], cells[3], cells[4]})
	}
	return rows
}

// Every decision.Reason has one row in the reason-code table, and no row
// names a code the code does not have.
func TestEveryReasonCodeIsDocumentedAndNothingElse(t *testing.T) {
	var want, got []string
	for _, r := range reasonCodes(t) {
		want = append(want, r.code)
	}
	for _, r := range reasonTable(t) {
		got = append(got, r.code)
		if r.cause == "" || r.fix == "" {
			t.Errorf("%s: %s: cause and fix must be filled in", reasonsPage, r.code)
		}
	}
	sameSet(t, reasonsPage+" ("+reasonsHeading+")", got, want)
}

// fixedDecider answers every request with one decision.
type fixedDecider decision.Decision

func (f fixedDecider) Decide(context.Context, *decision.Request) decision.Decision {
	return decision.Decision(f)
}

var (
	reLeadingStatus = regexp.MustCompile(`^(\d{3})\b`)
	reErrorCode     = regexp.MustCompile(`error="([a-z_]+)"`)
)

// What the reason-code table says each platform answers is what the
// adapters answer: the Lambda authorizer (for a REST TOKEN event) and the
// Azure handler (for a proxied request), each given the decision.
func TestTheReasonTableShowsWhatEachPlatformAnswers(t *testing.T) {
	outcomes := map[string]decision.Outcome{}
	for _, r := range reasonCodes(t) {
		outcomes[r.code] = r.outcome
	}
	restEvent := readRepoFile(t, "events/apigw-rest-token-valid.json")
	for _, row := range reasonTable(t) {
		o, ok := outcomes[row.code]
		if !ok {
			continue // reported by TestEveryReasonCodeIsDocumentedAndNothingElse
		}
		d := fixedDecider{Outcome: o, Reason: decision.Reason(row.code), Detail: "doc check", Principal: "alice"}
		cfg := config.Default()

		// API Gateway: the status the authorizer's answer makes API Gateway give.
		event := restEvent
		if row.code == string(decision.EventMalformed) {
			event = []byte(`{"type":"TOKEN"}`) // the adapter's own refusal
		}
		res := lambdaauth.New(d, cfg, slog.New(slog.DiscardHandler)).Evaluate(context.Background(), event)
		if got := leadingStatus(t, row.code, row.apigw); got != res.Status {
			t.Errorf("%s: %s: the table says API Gateway answers %d, the authorizer gives %d", reasonsPage, row.code, got, res.Status)
		}

		// Azure: status and WWW-Authenticate error code.
		req := httptest.NewRequest(http.MethodGet, "/api/authorize/orders", nil)
		req.Header.Set("Authorization", "Bearer x.y.z")
		if row.code == string(decision.EventMalformed) {
			req.Header.Set("X-Forwarded-Uri", "/one") // two forward-header families naming two calls
			req.Header.Set("X-Original-URI", "/two")
		}
		rec := httptest.NewRecorder()
		customhandler.New(d, cfg, nil).ServeHTTP(rec, req)
		if got := leadingStatus(t, row.code, row.azure); got != rec.Code {
			t.Errorf("%s: %s: the table says Azure answers %d, the handler gives %d", reasonsPage, row.code, got, rec.Code)
		}
		challenge := rec.Header().Get("WWW-Authenticate")
		wantErr, gotErr := "", ""
		for _, e := range []string{"invalid_token", "insufficient_scope", "invalid_request", "invalid_dpop_proof"} {
			if strings.Contains(row.azure, e) {
				wantErr = e
			}
		}
		if m := reErrorCode.FindStringSubmatch(challenge); m != nil {
			gotErr = m[1]
		}
		if wantErr != gotErr {
			t.Errorf("%s: %s: the table says error %q, the handler's WWW-Authenticate is %q", reasonsPage, row.code, wantErr, challenge)
		}
		if wantChallenge := rec.Code == 401 || rec.Code == 403 || rec.Code == 400; wantChallenge != (challenge != "") {
			t.Errorf("%s: %s: status %d with WWW-Authenticate %q", reasonsPage, row.code, rec.Code, challenge)
		}
		if strings.Contains(row.azure, "Retry-After") != (rec.Header().Get("Retry-After") != "") {
			t.Errorf("%s: %s: the table and the handler disagree on Retry-After (%q)", reasonsPage, row.code, rec.Header().Get("Retry-After"))
		}
	}
}

func leadingStatus(t *testing.T, code, cell string) int {
	t.Helper()
	m := reLeadingStatus.FindStringSubmatch(cell)
	if m == nil {
		t.Errorf("%s: %s: the cell %q does not start with a status", reasonsPage, code, cell)
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
