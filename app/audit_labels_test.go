package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nhs-esr/portal/app/audit"
	"github.com/nhs-esr/portal/app/request"
)

// TestAuditActionsHaveLabels reads the portal's code for every audit.Event it records and checks that
// each action it can record has its own label in words, so that the audit trail never shows a code
// such as "user.password_changed". It also checks that no label is left for an action the portal
// no longer records.
func TestAuditActionsHaveLabels(t *testing.T) {
	recorded := recordedAuditActions(t)
	if len(recorded) < 50 {
		t.Fatalf("found only %d audit actions in the code: the reading below has missed how they are recorded", len(recorded))
	}
	for _, action := range slices.Sorted(maps.Keys(recorded)) {
		if !audit.HasLabel(action) {
			t.Errorf("audit action %q (recorded at %s) has no label in app/audit/labels.go", action, recorded[action])
		}
	}
	for _, action := range audit.LabelledActions() {
		if _, ok := recorded[action]; !ok {
			t.Errorf("app/audit/labels.go labels %q, which nothing records", action)
		}
	}
}

// recordedAuditActions finds the Action of every audit.Event literal in the non-test Go code of app
// and cmd, mapped to where it is recorded. An Action is a string literal; a variable given string
// literals in its function, or a parameter given string literals by the function's callers; or a
// request lifecycle transition ("request." + name).
func recordedAuditActions(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	for _, root := range []string{".", "../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			files = append(files, f)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	found := map[string]string{}
	add := func(lit *ast.BasicLit) {
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
		}
		found[s] = fset.Position(lit.Pos()).String()
	}
	for _, f := range files {
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				cl, ok := n.(*ast.CompositeLit)
				if !ok || !isAuditEvent(cl.Type) {
					return true
				}
				for _, el := range cl.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok || !isIdent(kv.Key, "Action") {
						continue
					}
					switch v := kv.Value.(type) {
					case *ast.BasicLit:
						add(v)
					case *ast.Ident:
						lits := assignedLiterals(fn.Body, v.Name)
						if len(lits) == 0 {
							lits = callerLiterals(files, fn, v.Name)
						}
						if len(lits) == 0 {
							t.Errorf("%s: cannot tell which actions %s holds; teach this test how it is set", fset.Position(v.Pos()), v.Name)
						}
						for _, l := range lits {
							add(l)
						}
					case *ast.BinaryExpr:
						prefix, ok := v.X.(*ast.BasicLit)
						if !ok || prefix.Value != `"request."` {
							t.Errorf("%s: an audit action made some other way; teach this test how it is set", fset.Position(v.Pos()))
							continue
						}
						for _, tr := range request.Transitions {
							found["request."+tr.Name] = fset.Position(v.Pos()).String()
						}
					default:
						t.Errorf("%s: an audit action made some other way; teach this test how it is set", fset.Position(kv.Value.Pos()))
					}
				}
				return true
			})
		}
	}
	return found
}

func isAuditEvent(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.SelectorExpr:
		return isIdent(x.X, "audit") && x.Sel.Name == "Event"
	case *ast.Ident:
		return x.Name == "Event" // inside package audit itself
	}
	return false
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// assignedLiterals are the string literals body assigns to the variable name (name := "x",
// name = "y", or as one of several).
func assignedLiterals(body *ast.BlockStmt, name string) []*ast.BasicLit {
	var out []*ast.BasicLit
	ast.Inspect(body, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != len(as.Rhs) {
			return true
		}
		for i, l := range as.Lhs {
			if lit, ok := as.Rhs[i].(*ast.BasicLit); ok && isIdent(l, name) && lit.Kind == token.STRING {
				out = append(out, lit)
			}
		}
		return true
	})
	return out
}

// callerLiterals are the string literals that calls of fn pass as its parameter name.
func callerLiterals(files []*ast.File, fn *ast.FuncDecl, name string) []*ast.BasicLit {
	pos := -1
	i := 0
	for _, field := range fn.Type.Params.List {
		for _, n := range field.Names {
			if n.Name == name {
				pos = i
			}
			i++
		}
	}
	if pos < 0 {
		return nil
	}
	var out []*ast.BasicLit
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !isIdent(call.Fun, fn.Name.Name) || len(call.Args) <= pos {
				return true
			}
			if lit, ok := call.Args[pos].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				out = append(out, lit)
			}
			return true
		})
	}
	return out
}
