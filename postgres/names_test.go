package postgres_test

import (
	"context"
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/postgres"
)

// TestNameRuleConflictsReportedAtOpen: accounts made before the name rule, whose
// names the rule refuses or folds into an older account's, are reported when the
// store opens and cannot log in; none is merged or lost.
func TestNameRuleConflictsReportedAtOpen(t *testing.T) {
	sc := newSchema(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, sc.dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	admin := adminConn(t)
	// As the old rule stored them: the key was storify.FoldKey of the name.
	for _, name := range []string{"alice", "sam", "alice\u034f", "alice\u200d", "ａｌｉｃｅ", "Bob"} {
		if _, err := admin.Exec(ctx, `INSERT INTO `+sc.ident()+`.accounts (name, name_key, password_hash) VALUES ($1, $2, '\x01')`,
			name, storify.FoldKey(name)); err != nil {
			t.Fatalf("insert %q: %v", name, err)
		}
	}
	s = mustOpen(t, sc.dsn)
	conflicts := s.NameConflicts()
	want := map[string]bool{"alice\u034f": true, "alice\u200d": true, "ａｌｉｃｅ": true}
	if len(conflicts) != len(want) {
		t.Errorf("NameConflicts = %+v, want %d", conflicts, len(want))
	}
	for _, c := range conflicts {
		if !want[c.Name] || c.Reason == "" {
			t.Errorf("conflict %+v not expected", c)
		}
	}
	alice, err := s.AccountByName(ctx, "ALICE")
	if err != nil || alice.Name != "alice" {
		t.Errorf("AccountByName(ALICE) = %+v, %v; want alice", alice, err)
	}
	if as, err := s.Accounts(ctx); err != nil || len(as) != 6 {
		t.Errorf("Accounts = %d, %v; want all 6 kept", len(as), err)
	}
}
